// test_connection: a fresh login, its server, user and database, and a
// precise report of what it may do beyond reading.
#include <mysql.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

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
  Connection& connection = *session;
  const auto connect_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - started)
                              .count();
  if (auto error = begin_read_only(connection, remaining_budget(ctx))) {
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

}  // namespace outpost::connectors::mysql
