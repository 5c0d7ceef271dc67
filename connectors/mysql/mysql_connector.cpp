#include "mysql/mysql_connector.hpp"

#include <mysql.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/source_config.hpp"
#include "mysql/mysql_jobs.hpp"

namespace outpost::connectors::mysql {
namespace {

// Privileges that let a statement change data or schema. A monitoring login
// should hold none of them; test_connection warns when it does.
std::vector<std::string> write_privileges(std::string_view privileges, std::string_view target) {
  static constexpr std::string_view kWrite[] = {
      "ALL",   "INSERT", "UPDATE",         "DELETE",       "CREATE",      "DROP",
      "ALTER", "INDEX",  "EVENT",          "TRIGGER",      "CREATE VIEW", "CREATE ROUTINE",
      "FILE",  "SUPER",  "DELETE HISTORY", "ALTER ROUTINE"};
  std::vector<std::string> found;
  std::size_t start = 0;
  while (start < privileges.size()) {
    auto end = privileges.find(',', start);
    if (end == std::string_view::npos) end = privileges.size();
    auto item = privileges.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    for (auto w : kWrite) {
      if (item.starts_with(w) &&
          (item.size() == w.size() || item[w.size()] == ' ' || item[w.size()] == '(')) {
        found.push_back(std::string(item) + " ON " + std::string(target));
        break;
      }
    }
    start = end + 1;
  }
  return found;
}

// SHOW GRANTS lines look like "GRANT SELECT, INSERT ON `db`.* TO `u`@`%`";
// role grants ("GRANT `r` TO `u`") carry no " ON ". nullopt if it cannot run.
std::optional<std::vector<std::string>> grants_that_write(Connection& connection) {
  MYSQL* handle = connection.handle();
  if (mysql_query(handle, "SHOW GRANTS") != 0) return std::nullopt;
  MYSQL_RES* result = mysql_store_result(handle);
  if (result == nullptr) return std::nullopt;
  std::vector<std::string> found;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    if (row[0] == nullptr) continue;
    std::string_view line(row[0]);
    if (!line.starts_with("GRANT ")) continue;
    const auto on = line.find(" ON ");
    const auto to = line.find(" TO ", on == std::string_view::npos ? 0 : on);
    if (on == std::string_view::npos || to == std::string_view::npos) continue;
    auto more = write_privileges(line.substr(6, on - 6), line.substr(on + 4, to - on - 4));
    found.insert(found.end(), more.begin(), more.end());
  }
  mysql_free_result(result);
  return found;
}

std::pair<std::string, std::string> current_user_and_database(Connection& connection,
                                                              std::optional<JobError>& error) {
  MYSQL* handle = connection.handle();
  if (mysql_query(handle, "SELECT CURRENT_USER(), DATABASE()") != 0) {
    error = connection.last_error();
    return {};
  }
  MYSQL_RES* result = mysql_store_result(handle);
  if (result == nullptr) {
    error = connection.last_error();
    return {};
  }
  std::pair<std::string, std::string> out;
  if (MYSQL_ROW row = mysql_fetch_row(result)) {
    out.first = row[0] != nullptr ? row[0] : "";
    out.second = row[1] != nullptr ? row[1] : "";
  }
  mysql_free_result(result);
  return out;
}

}  // namespace

JobResult run_test_connection(JobContext& ctx, SessionLease& session,
                              std::chrono::steady_clock::time_point started) {
  Connection& connection = session.connection();
  const auto connect_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  if (auto error = session.begin_read_only(remaining_budget(ctx))) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  std::optional<JobError> error;
  const auto [user, database] = current_user_and_database(connection, error);
  if (error) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  nlohmann::json result{{"ok", true},
                        {"server_version", connection.server_version()},
                        {"latency_ms", latency.count()},
                        {"connect_ms", connect_ms},
                        {"database", database},
                        {"user", user}};
  if (auto writes = grants_that_write(connection)) {
    result["role_can_write"] = !writes->empty();
    result["write_privileges"] = *writes;
    if (!writes->empty()) {
      std::string why;
      for (const auto& w : *writes) why += (why.empty() ? "" : "; ") + w;
      result["warnings"] = nlohmann::json::array(
          {"login " + user + " can write (" + why +
           "). Outpost runs every statement in a READ ONLY transaction, but a SELECT-only login "
           "is the safer setup: see the least-privilege recipe in docs/connectors.md"});
    }
  }
  return JobResult::success(std::move(result));
}

MysqlConnector::MysqlConnector() {
  // Not thread safe in Connector/C; must run before the first mysql_init.
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

std::vector<JobType> MysqlConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery};
}

JobResult MysqlConnector::run(JobContext& ctx) {
  const auto started = std::chrono::steady_clock::now();
  auto parsed = parse_config(ctx.job.source.config);
  if (!parsed.config) return JobResult::failure(ErrorCode::kInvalidJob, parsed.error);
  const MysqlConfig& config = *parsed.config;
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel.reason());

  SessionLease session(pool_, common::config_fingerprint(ctx.job.source.config));
  const bool fresh = ctx.job.type == JobType::kTestConnection;
  if (auto error = session.open(config, ctx.network, fresh)) {
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(ctx, session, started);
    case JobType::kMetadata: return run_metadata(ctx, config, session);
    case JobType::kQuery: return run_query(ctx, config, session);
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<MysqlConnector>(), {"mariadb"});
}

}  // namespace outpost::connectors::mysql
