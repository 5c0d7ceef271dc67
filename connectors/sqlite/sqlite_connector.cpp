#include "sqlite/sqlite_connector.hpp"

#include <algorithm>
#include <utility>

#include "client_libs/libsqlite3.hpp"
#include "common/job_support.hpp"
#include "common/text_format.hpp"
#include "sqlite/sqlite_config.hpp"
#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_path.hpp"

namespace outpost::connectors::sqlite {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::vector<JobType> SqliteConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery,
          JobType::kFreshness,      JobType::kVolume,   JobType::kProfile};
}

JobResult SqliteConnector::run(JobContext& ctx) {
  if (auto missing = common::client_library_missing(client_libs::libsqlite3().load())) {
    return *missing;
  }
  auto config = parse_config(ctx.job.source.config);
  if (config.error) return failed(std::move(*config.error));
  // The operator's directories decide before anything looks at the file.
  auto resolved = resolve_database_path(config.path, ctx.policy.sqlite_dirs);
  if (resolved.error) return failed(std::move(*resolved.error));
  if (ctx.cancel.cancelled()) return common::cancelled_result(ctx.cancel);
  // Never wait on a lock past the job's own deadline.
  const auto busy_ms =
      std::min<std::int64_t>(config.busy_timeout_ms, common::remaining_ms(ctx.deadline));

  const auto start = Clock::now();
  auto opened = Database::open(resolved.path, static_cast<int>(busy_ms), ctx);
  if (opened.error) return failed(std::move(*opened.error));
  const auto open_ms = common::elapsed_ms(start);
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(*opened.db, ctx, open_ms);
    case JobType::kMetadata: return run_metadata(*opened.db, ctx);
    case JobType::kQuery: return run_query(*opened.db, ctx);
    case JobType::kFreshness: return run_freshness(*opened.db, ctx);
    case JobType::kVolume: return run_volume(*opened.db, ctx);
    case JobType::kProfile: return run_profile(*opened.db, ctx);
    case JobType::kQueryLog:
      return JobResult::failure(ErrorCode::kUnsupported,
                                "SQLite keeps no log or statistics of the statements it ran");
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<SqliteConnector>(), {"sqlite3"});
}

}  // namespace outpost::connectors::sqlite
