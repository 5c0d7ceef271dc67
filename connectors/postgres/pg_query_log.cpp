// The `query_log` job of jobs-v1.1 on PostgreSQL: pg_stat_statements, when
// the extension is installed in the job's database (pg_extension says where)
// and loaded (shared_preload_libraries); `unsupported` with the reason
// otherwise. Its figures are cumulative since the statistics were last reset
// (pg_stat_statements_info.stats_reset, reported as `stats_since`): the view
// keeps no time per execution, so `since` cannot narrow them and the result
// says so (`since_applied: false`).
#include <cstdlib>
#include <string>

#include "common/monitors.hpp"
#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

bool tuples(const ResultPtr& r) {
  return r && PQresultStatus(r.get()) == PGRES_TUPLES_OK;
}

std::string text_or_empty(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) ? std::string() : std::string(PQgetvalue(r, row, col));
}

nlohmann::json record_of(const PGresult* r, int i) {
  const auto opt = [&](int col) {
    return PQgetisnull(r, i, col) ? nlohmann::json(nullptr)
                                  : nlohmann::json(std::string(PQgetvalue(r, i, col)));
  };
  return {{"query", text_or_empty(r, i, 0)},
          {"calls", std::strtoll(PQgetvalue(r, i, 1), nullptr, 10)},
          {"total_ms", std::strtod(PQgetvalue(r, i, 2), nullptr)},
          {"rows", std::strtoll(PQgetvalue(r, i, 3), nullptr, 10)},
          {"user", opt(4)},
          {"database", opt(5)}};
}

// The statement reading the view in `schema` (13 renamed total_time).
std::string log_sql(const std::string& schema, int version) {
  const std::string view = common::quote_identifier(schema, '"') + ".pg_stat_statements";
  const std::string total = version >= 130000 ? "s.total_exec_time" : "s.total_time";
  return "SELECT s.query, s.calls, " + total + ", s.rows, r.rolname, d.datname FROM " + view +
         " s LEFT JOIN pg_catalog.pg_roles r ON r.oid = s.userid "
         "LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid "
         "WHERE s.query IS NOT NULL ORDER BY " +
         total + " DESC LIMIT $1";
}

}  // namespace

JobResult run_query_log(Session& session, JobContext& ctx) {
  auto begin = session.exec_simple("BEGIN READ ONLY; " + statement_timeout_sql(ctx));
  if (!begin || PQresultStatus(begin.get()) != PGRES_COMMAND_OK) {
    return statement_failure(begin.get(), ctx);
  }
  auto ext = session.exec(
      "SELECT n.nspname, pg_catalog.current_setting('server_version_num')::int, "
      "pg_catalog.current_setting('shared_preload_libraries') "
      "FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
      "WHERE e.extname = 'pg_stat_statements'");
  if (!tuples(ext)) return statement_failure(ext.get(), ctx);
  if (PQntuples(ext.get()) == 0) {
    return JobResult::failure(ErrorCode::kUnsupported,
                              "pg_stat_statements is not installed in this database "
                              "(CREATE EXTENSION pg_stat_statements, with the library in "
                              "shared_preload_libraries)");
  }
  if (std::string(PQgetvalue(ext.get(), 0, 2)).find("pg_stat_statements") == std::string::npos) {
    return JobResult::failure(ErrorCode::kUnsupported,
                              "pg_stat_statements is installed but not loaded: the server needs "
                              "shared_preload_libraries = 'pg_stat_statements'");
  }
  const int version = std::atoi(PQgetvalue(ext.get(), 0, 1));
  auto r = session.exec(log_sql(PQgetvalue(ext.get(), 0, 0), version),
                        {std::to_string(ctx.job.query_log.limit)});
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    if (!ctx.sink.add_record(record_of(r.get(), i))) break;
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  nlohmann::json result{{"source", "pg_stat_statements"}, {"since_applied", false}};
  if (version >= 140000) {
    auto reset = session.exec(
        "SELECT pg_catalog.to_char(stats_reset AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM " +
        common::quote_identifier(PQgetvalue(ext.get(), 0, 0), '"') + ".pg_stat_statements_info");
    if (tuples(reset) && PQntuples(reset.get()) == 1 && !PQgetisnull(reset.get(), 0, 0)) {
      result["stats_since"] = PQgetvalue(reset.get(), 0, 0);
    }
  }
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
