#include "mysql/mysql_connector.hpp"

#include <mysql.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "client_libs/libmariadb.hpp"
#include "common/job_support.hpp"
#include "common/source_config.hpp"
#include "mysql/mysql_jobs.hpp"
#include "mysql/mysql_privileges.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::mysql {
namespace {

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

}  // namespace

std::vector<JobType> MysqlConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery,   JobType::kFreshness,
          JobType::kVolume,         JobType::kProfile,  JobType::kQueryLog};
}

JobResult MysqlConnector::run(JobContext& ctx) {
  if (auto missing = common::client_library_missing(client_libs::libmariadb().load())) {
    return *missing;
  }
  // Not thread safe in Connector/C; must run before the first mysql_init.
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
  const auto started = std::chrono::steady_clock::now();
  auto parsed = parse_config(ctx.job.source.config);
  if (!parsed.config) return JobResult::failure(ErrorCode::kInvalidJob, parsed.error);
  const MysqlConfig& config = *parsed.config;
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel.reason());

  SessionLease session = lease_session(pool_, common::config_fingerprint(ctx.job.source.config));
  const bool fresh = ctx.job.type == JobType::kTestConnection;
  if (auto error = open_session(session, config, ctx.network, fresh)) {
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  if (ctx.job.type != JobType::kTestConnection) {
    if (auto refused = gate(ctx, config, *session)) {
      return JobResult{std::move(refused), nlohmann::json::object()};
    }
  }
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(ctx, session, started);
    case JobType::kMetadata: return run_metadata(ctx, config, session);
    case JobType::kQuery: return run_query(ctx, config, session);
    case JobType::kFreshness: return run_freshness(ctx, config, session);
    case JobType::kVolume: return run_volume(ctx, config, session);
    case JobType::kProfile: return run_profile(ctx, config, session);
    case JobType::kQueryLog: return run_query_log(ctx, config, session);
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<MysqlConnector>(), {"mariadb"});
}

}  // namespace outpost::connectors::mysql
