#include "postgres/pg_connector.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "common/source_config.hpp"
#include "common/text_format.hpp"
#include "postgres/pg_jobs.hpp"
#include "postgres/pg_params.hpp"

namespace outpost::connectors::postgres {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kDefaultApplicationName = "outpost-agent";
// Bounds the pool's own round trips (tag on checkout, reset on return).
constexpr auto kHousekeepingLimit = std::chrono::seconds(5);

// "outpost job_42#2" (or "<custom name> job_42#2"), so a DBA can find and
// kill what the agent runs. The server truncates it to 63 bytes.
std::string job_tag(const ConnectParams& params, const Job& job) {
  const std::string base = params.application_name == kDefaultApplicationName
                               ? std::string("outpost")
                               : params.application_name;
  return base + " " + job.id + "#" + std::to_string(job.attempt);
}

bool tag_session(Session& session, const std::string& tag, const CancelToken& cancel,
                 Clock::time_point deadline) {
  session.bind(&cancel, std::min(deadline, Clock::now() + kHousekeepingLimit));
  auto r = session.exec("SELECT pg_catalog.set_config('application_name', $1, false)", {tag});
  return r && PQresultStatus(r.get()) == PGRES_TUPLES_OK;
}

}  // namespace

PostgresConnector::PostgresConnector(common::PoolOptions pool_options)
    : pool_(std::move(pool_options)) {}

std::vector<JobType> PostgresConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery};
}

JobResult PostgresConnector::run(JobContext& ctx) {
  auto parsed = parse_config(ctx.job.source.config);
  if (parsed.error) return JobResult{parsed.error, nlohmann::json::object()};
  ConnectParams params = std::move(parsed.params);
  if (auto error = apply_network_guard(params, ctx.network)) {
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);

  const std::string key = common::config_fingerprint(ctx.job.source.config);
  const std::string tag = job_tag(params, ctx.job);
  std::unique_ptr<Session> session;
  // test_connection always dials: it must prove the credentials work now.
  if (ctx.job.type != JobType::kTestConnection) {
    session = pool_.checkout(key, [&](Session& s) {
      return s.reusable() && tag_session(s, tag, ctx.cancel, ctx.deadline);
    });
  }
  std::int64_t connect_ms = 0;
  if (!session) {
    const auto start = Clock::now();
    auto connected = Session::connect(params, ctx.cancel, ctx.deadline);
    if (connected.error) return JobResult{std::move(connected.error), nlohmann::json::object()};
    session = std::move(connected.session);
    connect_ms = common::elapsed_ms(start);
    if (!tag_session(*session, tag, ctx.cancel, ctx.deadline)) {
      if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
      return JobResult::failure(ErrorCode::kUnreachable,
                                "could not set application_name: " + session->error_message(),
                                true);
    }
  }

  JobResult result;
  {
    auto hook = session->guard_cancel(ctx.cancel, ctx.deadline);
    // A cancel that came while connecting found no statement to stop.
    if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
    switch (ctx.job.type) {
      case JobType::kTestConnection: result = run_test_connection(*session, ctx, connect_ms); break;
      case JobType::kMetadata: result = run_metadata(*session, ctx); break;
      case JobType::kQuery: result = run_query(*session, ctx); break;
    }
  }
  session->release_job();

  // Roll back the job's read-only transaction and undo whatever session
  // state the statement left (SET, PREPARE, advisory locks, …) so the next
  // job starts clean; this also resets the tag.
  if (session->reset_for_pool(Clock::now() + kHousekeepingLimit)) {
    pool_.checkin(key, std::move(session));
  }
  return result;
}

JobResult cancelled_result(const CancelToken& cancel) {
  if (cancel.reason() == CancelReason::kTimeout) {
    return JobResult::failure(ErrorCode::kTimeout, "job timed out", true);
  }
  return JobResult::failure(ErrorCode::kCancelled,
                            "job cancelled (" + std::string(to_string(cancel.reason())) + ")");
}

std::string statement_timeout_sql(const JobContext& ctx) {
  std::int64_t ms = common::remaining_ms(ctx.deadline);
  ms = std::min<std::int64_t>(ms, ctx.job.timeout.count());
  return "SET LOCAL statement_timeout = " + std::to_string(std::max<std::int64_t>(1, ms));
}

std::string text_array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

void register_connector(ConnectorRegistry& registry) {
  registry.add(std::make_shared<PostgresConnector>(), {"postgresql"});
}

}  // namespace outpost::connectors::postgres
