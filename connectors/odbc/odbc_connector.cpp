#include "odbc/odbc_connector.hpp"

#include <utility>

#include "client_libs/libodbc.hpp"
#include "client_libs/libodbcinst.hpp"
#include "common/error_classify.hpp"
#include "common/job_support.hpp"
#include "common/source_config.hpp"
#include "odbc/odbc_jobs.hpp"
#include "odbc/odbc_session.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::odbc {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<JobType> OdbcConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery};
}

JobResult OdbcConnector::run(JobContext& ctx) {
  const auto started = Clock::now();
  // unixODBC's driver manager opens the drivers itself.
  for (auto* library : {&client_libs::libodbc(), &client_libs::libodbcinst()}) {
    if (auto missing = common::client_library_missing(library->load())) return *missing;
  }
  auto parsed = parse_config(ctx.job.source.config, catalog_, ctx.policy);
  if (!parsed.config) return JobResult::failure(parsed.code, parsed.error);
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  SessionLease session = lease_session(pool_, common::config_fingerprint(ctx.job.source.config));
  if (auto error = open_session(session, *parsed.config, ctx.network,
                                ctx.job.type == JobType::kTestConnection)) {
    return failed(std::move(*error));
  }
  // The privilege gate: query and metadata jobs only on logins that can do
  // no more than read, unless the operator opted in.
  const auto& privileges = session->privileges();
  if (ctx.job.type != JobType::kTestConnection && !privileges.empty() &&
      !privileged_login_allowed(ctx.policy, ctx.job.source)) {
    std::string names;
    for (const auto& p : privileges) names += (names.empty() ? "" : ", ") + p;
    return JobResult::failure(
        ErrorCode::kPermissionDenied,
        "the database login is privileged (" + names +
            "): refused unless the operator allows privileged logins (--allow-privileged-logins, "
            "or allow_privileged_login on a sources-file source)");
  }
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(ctx, *session, started);
    case JobType::kMetadata: return run_metadata(ctx, *session);
    case JobType::kQuery: return run_query(ctx, *session);
    case JobType::kFreshness:
    case JobType::kVolume:
      break;  // not in job_types(): the runtime answers `unsupported` before this
    case JobType::kProfile:
    case JobType::kQueryLog:
      // Not in job_types() either: ODBC has no portable sampling, length or
      // statistics functions, nor a statement log.
      return JobResult::failure(ErrorCode::kUnsupported,
                                "the odbc connector does not run '" +
                                    std::string(to_string(ctx.job.type)) +
                                    "' jobs: ODBC offers no portable sampling, text length "
                                    "or statement statistics; use the database's own connector");
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<OdbcConnector>());
}

}  // namespace outpost::connectors::odbc
