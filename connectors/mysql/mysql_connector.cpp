#include "mysql/mysql_connector.hpp"

#include <mysql.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/source_config.hpp"
#include "mysql/mysql_jobs.hpp"
#include "mysql/mysql_privileges.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::mysql {
namespace {

nlohmann::json descriptions(const std::vector<HeldPrivilege>& list) {
  auto out = nlohmann::json::array();
  for (const auto& p : list) out.push_back(p.describe());
  return out;
}

// The privilege gate: query and metadata jobs run only on logins that can do
// nothing but read, unless the operator opted in. The verdict is read once
// per session and cached on it. nullopt: the job may run.
std::optional<JobError> gate(JobContext& ctx, const MysqlConfig& config, Connection& connection) {
  if (privileged_login_allowed(ctx.policy, ctx.job.source)) return std::nullopt;
  auto& verdict = connection.privileges();
  if (!verdict) {
    auto outcome = read_privileges(connection);
    if (!outcome.report) {
      connection.mark_broken();  // a role may still be active; never pool it
      if (outcome.error->code == ErrorCode::kPermissionDenied) return outcome.error;
      return JobError{ErrorCode::kPermissionDenied,
                      "the login's privileges could not be read (" + outcome.error->message +
                          "), so the agent does not run jobs on it",
                      false};
    }
    verdict = std::move(outcome.report);
  }
  if (!verdict->refused()) return std::nullopt;
  return JobError{ErrorCode::kPermissionDenied, refusal_message(config.user, *verdict), false};
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
  // The privileges are read again on this fresh login and reported
  // precisely: everything beyond reading, at every level and through roles.
  auto outcome = read_privileges(connection);
  if (!outcome.report) {
    connection.mark_broken();
    result["privileged"] = nullptr;
    result["privilege_error"] = outcome.error->message;
    return JobResult::success(std::move(result));
  }
  const PrivilegeReport& report = *outcome.report;
  connection.privileges() = report;
  const bool allowed = privileged_login_allowed(ctx.policy, ctx.job.source);
  result["role_can_write"] = !report.writes.empty();
  result["write_privileges"] = descriptions(report.writes);
  result["privileges"] = descriptions(report.privileged);
  result["roles"] = report.roles;
  result["privileged"] = report.refused();
  result["privileged_login_allowed"] = allowed;
  if (report.refused()) {
    result["warnings"] = nlohmann::json::array(
        {allowed ? "login " + user +
                       " can do more than read; query and metadata jobs run on it only because "
                       "the operator allowed privileged logins for this source"
                 : refusal_message(user, report)});
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
  if (ctx.job.type != JobType::kTestConnection) {
    if (auto refused = gate(ctx, config, session.connection())) {
      return JobResult{std::move(refused), nlohmann::json::object()};
    }
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
