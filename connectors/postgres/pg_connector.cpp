#include "postgres/pg_connector.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "client_libs/libpq.hpp"
#include "common/job_support.hpp"
#include "common/pooled_session.hpp"
#include "common/source_config.hpp"
#include "common/text_format.hpp"
#include "postgres/pg_config.hpp"
#include "postgres/pg_jobs.hpp"
#include "postgres/pg_privileges.hpp"
#include "postgres/pg_query_support.hpp"

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

// Takes a healthy idle session, if any. test_connection always dials: it
// must prove the credentials work now. A query that COPY can take tags its
// transaction in its first round trip, so its pooled session is checked
// without one (Session::still_open()); every other job tags the session
// first, which proves it alive.
void checkout_pooled(common::PooledSession<Session>& session, const std::string& tag,
                     const JobContext& ctx) {
  if (ctx.job.type == JobType::kTestConnection) return;
  const bool tags_itself = ctx.job.type == JobType::kQuery && copy_eligible(ctx.job.query.sql);
  session.checkout([&](Session& s) {
    return s.reusable() && s.info() != nullptr &&
           (tags_itself ? s.still_open() : tag_session(s, tag, ctx.cancel, ctx.deadline));
  });
}

// A new session's first statement: the job tag and the privilege probe in one
// round trip (see pg_privileges.cpp). Fails closed: a session whose
// privileges cannot be read runs no job.
std::optional<JobError> probe_session(Session& session, const std::string& tag,
                                      const CancelToken& cancel, Clock::time_point deadline) {
  session.bind(&cancel, std::min(deadline, Clock::now() + kHousekeepingLimit));
  const auto start = Clock::now();
  auto r = session.exec(probe_sql(), {tag});
  const auto elapsed = common::elapsed_ms(start);
  if (!r) {
    return JobError{ErrorCode::kUnreachable,
                    session.abandoned() ? "server stopped answering" : session.error_message(),
                    true};
  }
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
    auto error = map_statement_error(r.get(), cancel.reason());
    error.message = "could not read the login's privileges: " + error.message;
    return error;
  }
  if (PQntuples(r.get()) != 1) {
    return JobError{ErrorCode::kPermissionDenied, "could not read the login's privileges", false};
  }
  auto info = parse_probe(r.get());
  info.probe_ms = elapsed;
  session.set_info(std::move(info));
  return std::nullopt;
}

}  // namespace

PostgresConnector::PostgresConnector(common::PoolOptions pool_options)
    : pool_(std::move(pool_options)) {}

std::vector<JobType> PostgresConnector::job_types() const {
  return {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery,   JobType::kFreshness,
          JobType::kVolume,         JobType::kProfile,  JobType::kQueryLog};
}

JobResult PostgresConnector::run(JobContext& ctx) {
  if (auto missing = common::client_library_missing(client_libs::libpq().load())) return *missing;
  auto parsed = parse_config(ctx.job.source.config, !ctx.job.source.ref.empty());
  if (parsed.error) return common::failed(std::move(*parsed.error));
  ConnectParams params = std::move(parsed.params);
  if (auto error = apply_network_guard(params, ctx.network)) {
    return common::failed(std::move(*error));
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  // Operator sources may read agent-host files (passfile, client
  // certificates) that inline ones may not: never share their sessions.
  // Back in the pool only after the reset: it rolls back the job's read-only
  // transaction and undoes whatever session state the statement left (SET,
  // PREPARE, advisory locks, …) so the next job starts clean; this also
  // resets the tag.
  common::PooledSession<Session> session(
      pool_,
      common::config_fingerprint(ctx.job.source.config) +
          (ctx.job.source.ref.empty() ? "" : "/operator"),
      [](Session& s) { return s.reset_for_pool(Clock::now() + kHousekeepingLimit); });
  const std::string tag = job_tag(params, ctx.job);
  checkout_pooled(session, tag, ctx);
  std::int64_t connect_ms = 0;
  if (!session) {
    const auto start = Clock::now();
    auto connected = Session::connect(params, ctx.cancel, ctx.deadline);
    if (connected.error) return common::failed(std::move(*connected.error));
    connect_ms = common::elapsed_ms(start);
    if (auto error = learn_privileges(*connected.session, session.key(), tag, ctx)) {
      if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
      return common::failed(std::move(*error));
    }
    session.adopt(std::move(connected.session));
  }

  // The privilege gate: a login that can do more than read runs no query or
  // metadata job unless the operator opted in. The session itself is fine
  // and goes back to the pool with its verdict.
  if (auto refused = privilege_gate(*session->info(), ctx)) return common::failed(*refused);

  // A cancel that came while connecting found no statement to stop; the
  // session is closed rather than reset.
  if (ctx.cancel.cancelled()) {
    session.discard();
    return cancelled_result(ctx.cancel);
  }
  JobResult result;
  {
    auto hook = session->guard_cancel(ctx.cancel, ctx.deadline);
    result = ctx.cancel.cancelled() ? cancelled_result(ctx.cancel)
                                    : dispatch(*session, ctx, tag, connect_ms);
  }
  session->release_job();
  return result;
}

JobResult PostgresConnector::dispatch(Session& session, JobContext& ctx, const std::string& tag,
                                      std::int64_t connect_ms) {
  switch (ctx.job.type) {
    case JobType::kTestConnection: return run_test_connection(session, ctx, connect_ms);
    case JobType::kMetadata: return run_metadata(session, ctx);
    case JobType::kQuery: return run_query(session, ctx, tag);
    case JobType::kFreshness: return run_freshness(session, ctx);
    case JobType::kVolume: return run_volume(session, ctx);
    case JobType::kProfile: return run_profile(session, ctx);
    case JobType::kQueryLog: return run_query_log(session, ctx);
  }
  return JobResult::failure(ErrorCode::kUnsupported, "unknown job type");
}

std::optional<JobError> PostgresConnector::learn_privileges(Session& session,
                                                            const std::string& key,
                                                            const std::string& tag,
                                                            JobContext& ctx) {
  // test_connection reports what is true now: always its own probe.
  if (ctx.job.type != JobType::kTestConnection) {
    auto prober = verdicts_.prober(key);
    // Wait for a probe of the same login in flight (a burst of new sessions),
    // then take its verdict; past the wait, probe alone.
    const bool owner =
        prober->acquire_until(std::min(ctx.deadline, Clock::now() + kHousekeepingLimit));
    struct Release {
      ProbeSlot* slot;
      ~Release() {
        if (slot != nullptr) slot->release();
      }
    } release{owner ? prober.get() : nullptr};
    if (auto cached = verdicts_.fresh(key)) {
      if (release.slot != nullptr) {
        release.slot->release();
        release.slot = nullptr;
      }
      session.set_info(std::move(*cached));
      if (tag_session(session, tag, ctx.cancel, ctx.deadline)) return std::nullopt;
      return JobError{ErrorCode::kUnreachable,
                      "could not set application_name: " + session.error_message(), true};
    }
    if (auto error = probe_session(session, tag, ctx.cancel, ctx.deadline)) return error;
    verdicts_.store(key, *session.info());
    return std::nullopt;
  }
  if (auto error = probe_session(session, tag, ctx.cancel, ctx.deadline)) return error;
  verdicts_.store(key, *session.info());
  return std::nullopt;
}

JobResult statement_failure(const PGresult* r, JobContext& ctx) {
  if (r == nullptr) {
    if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
    return JobResult::failure(ErrorCode::kUnreachable, "server stopped answering", true);
  }
  const auto e = map_statement_error(r, ctx.cancel.reason());
  return JobResult::failure(e.code, e.message, e.retryable);
}

std::string statement_timeout_sql(const JobContext& ctx) {
  return "SET LOCAL statement_timeout = " + std::to_string(common::statement_budget(ctx).count());
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
