#include <chrono>
#include <string>
#include <vector>

#include "common/text_format.hpp"
#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

// One round trip: the version, who we are, and whether this role could write
// anything (superuser; INSERT/UPDATE/DELETE/TRUNCATE on a user relation;
// CREATE on a user schema; CREATE on the database). EXISTS stops at the first
// hit, so it stays cheap on large catalogs.
constexpr const char* kProbeSql = R"SQL(
SELECT pg_catalog.current_setting('server_version'), current_user, pg_catalog.current_database(),
  pg_catalog.array_to_string(pg_catalog.array_remove(ARRAY[
    CASE WHEN r.rolsuper THEN 'superuser' END,
    CASE WHEN EXISTS (
      SELECT 1 FROM pg_catalog.pg_class c
      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_(toast|temp_)'
        AND pg_catalog.has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
      THEN 'table_write' END,
    CASE WHEN EXISTS (
      SELECT 1 FROM pg_catalog.pg_namespace n
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_(toast|temp_)'
        AND pg_catalog.has_schema_privilege(n.oid, 'CREATE'))
      THEN 'schema_create' END,
    CASE WHEN pg_catalog.has_database_privilege(pg_catalog.current_database(), 'CREATE')
      THEN 'database_create' END
  ], NULL), ',')
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
)SQL";

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string describe(const std::string& reason) {
  if (reason == "superuser") return "it is a superuser";
  if (reason == "table_write") return "it has INSERT, UPDATE, DELETE or TRUNCATE on some table";
  if (reason == "schema_create") return "it has CREATE on some schema";
  return "it has CREATE on the database";
}

}  // namespace

JobResult run_test_connection(Session& session, JobContext& ctx, std::int64_t connect_ms) {
  const auto start = std::chrono::steady_clock::now();
  auto r = session.exec(kProbeSql);
  const auto latency = common::elapsed_ms(start);
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  if (!r) return JobResult::failure(ErrorCode::kUnreachable, "server stopped answering", true);
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    const auto error = map_statement_error(r.get(), ctx.cancel.reason());
    return JobResult::failure(error.code, error.message, error.retryable);
  }
  if (PQntuples(r.get()) != 1) {
    return JobResult::failure(ErrorCode::kPermissionDenied,
                              "the current role is not visible in pg_roles");
  }
  std::string version = PQgetvalue(r.get(), 0, 0);  // "15.14 (Debian 15.14-0+deb12u1)"
  version = "PostgreSQL " + version.substr(0, version.find(' '));
  const std::string user = PQgetvalue(r.get(), 0, 1);
  const auto reasons = split(PQgetvalue(r.get(), 0, 3));

  nlohmann::json result = {{"ok", true},
                           {"server_version", version},
                           {"latency_ms", latency},
                           {"connect_ms", connect_ms},
                           {"database", PQgetvalue(r.get(), 0, 2)},
                           {"user", user},
                           {"role_can_write", !reasons.empty()},
                           {"write_privileges", reasons}};
  if (!reasons.empty()) {
    std::string why;
    for (const auto& reason : reasons) why += (why.empty() ? "" : "; ") + describe(reason);
    result["warnings"] = nlohmann::json::array(
        {"role \"" + user + "\" can write (" + why +
         "). Outpost runs every statement in a READ ONLY transaction, but a read-only role is "
         "the safer setup: see the least-privilege recipe in docs/connectors.md"});
  }
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
