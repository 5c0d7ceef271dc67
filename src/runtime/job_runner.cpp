#include "runtime/job_runner.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "protocol/messages.hpp"
#include "runtime/agent_loops.hpp"
#include "runtime/job_state.hpp"
#include "runtime/job_uploads.hpp"
#include "runtime/lease_keeper.hpp"
#include "runtime/part_streamer.hpp"
#include "security/audit_log.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

struct WorkerOutcome {
  JobResult result;
  PartStreamer::Finished finished;
  std::uint64_t bytes = 0;  ///< NDJSON bytes produced
};

/// One --audit-log line per executed statement (on the worker: it is a write(2)).
void audit(RuntimeState& state, const JobState& job, const WorkerOutcome& out) {
  security::AuditRecord rec;
  rec.job_id = job.id();
  rec.attempt = job.claimed.attempt;
  rec.source = job.claimed.source_label;
  const Job& j = job.claimed.job;
  // The statement, or for the jobs whose SQL the connector writes, what they read.
  auto table = [](const TableRef& t) { return (t.schema ? *t.schema + "." : "") + t.table; };
  switch (j.type) {
    case JobType::kQuery: rec.statement = j.query.sql; break;
    case JobType::kVolume: rec.statement = "volume of " + table(j.volume.target); break;
    case JobType::kFreshness:
      rec.statement = "freshness of " + table(j.freshness.target) +
                      (j.freshness.column ? " by column " + *j.freshness.column : "");
      break;
    case JobType::kProfile:
      rec.statement = "profile of " + (j.profile.target ? table(*j.profile.target)
                                                        : "query: " + j.profile.sql.value_or(""));
      break;
    case JobType::kQueryLog:
    case JobType::kTestConnection:
    case JobType::kMetadata: rec.statement = std::string(to_string(j.type)); break;
  }
  rec.rows = job.progress_rows.load();
  rec.bytes = out.bytes;
  const auto reason = job.cancel.reason();
  rec.outcome = reason != CancelReason::kNone ? std::string(to_string(reason))
                : out.result.error            ? std::string("failed")
                                              : std::string("succeeded");
  try {
    state.audit->record(rec);
  } catch (const std::exception& e) {
    state.log.error("audit log write failed", {{"job_id", job.id()}, {"error", e.what()}});
  }
}

/// Runs on a worker thread: the connector, then the last part.
asio::awaitable<WorkerOutcome> execute(std::shared_ptr<RuntimeState> state,
                                       std::shared_ptr<JobState> job, StreamLimits limits) {
  state->busy_workers.fetch_add(1);
  WorkerOutcome out;
  auto uploader = make_network_uploader(state, job);
  PartStreamer sink(job->claimed.job.type, limits, *uploader, job->cancel, &job->progress_rows);
  JobContext ctx{job->claimed.job, sink, job->cancel, *state->guard, job->deadline, state->policy};
  // A server may reflect what the job resolved (a setting, an error text):
  // rows, tables, column names and result fields are scrubbed of it.
  obs::ValueScrubber scrubber;
  try {
    ResolvedSecrets resolved =
        resolve_job_secrets(job->claimed.job, state->prepare, job->claimed.source_is_ref);
    if (resolved.error) {
      out.result.error = std::move(resolved.error);
    } else {
      scrubber = obs::ValueScrubber(std::move(resolved.secrets));
      if (!scrubber.empty()) sink.set_scrubber(scrubber);
      out.result = job->prepared.connector->run(ctx);
      if (!scrubber.empty()) scrubber.scrub(out.result.result);
    }
  } catch (const std::exception& e) {
    out.result =
        JobResult::failure(ErrorCode::kInternal, std::string("connector failed: ") + e.what());
  } catch (...) {
    out.result =
        JobResult::failure(ErrorCode::kInternal, "connector failed with an unknown exception");
  }
  out.bytes = sink.bytes();
  try {
    out.finished = sink.finish();
    // Rows were scrubbed line by line; column names come from the server too.
    if (!scrubber.empty() && out.finished.fields.contains("columns")) {
      scrubber.scrub(out.finished.fields["columns"]);
    }
  } catch (const std::exception& e) {
    out.finished.error =
        JobError{ErrorCode::kInternal, std::string("result assembly failed: ") + e.what(), false};
  }
  if (state->audit != nullptr) audit(*state, *job, out);
  state->busy_workers.fetch_sub(1);
  co_return out;
}

/// The result to post for a job that ran (or was stopped before it could),
/// or nullopt when nothing is to be posted: then `outcome` says why.
struct Conclusion {
  std::optional<protocol::ResultRequest> request;
  std::optional<JobError> error;
  JobOutcome outcome = JobOutcome::kFailed;
};

Conclusion judge(const JobState& job, WorkerOutcome& outcome) {
  const JobError cancelled{ErrorCode::kCancelled, "cancelled by the control plane", false};
  if (job.fault) {
    const JobError error{ErrorCode::kInternal, *job.fault, false};
    return {failure_request(error, job.started_at), error, JobOutcome::kFailed};
  }
  switch (job.cancel_reason) {
    case CancelReason::kRequested: return {std::nullopt, cancelled, JobOutcome::kCancelled};
    case CancelReason::kLeaseLost:
      return {std::nullopt, JobError{ErrorCode::kCancelled, "lease lost", false},
              JobOutcome::kStale};
    case CancelReason::kShutdown: return {std::nullopt, std::nullopt, JobOutcome::kReleased};
    case CancelReason::kTimeout: {
      const JobError error{ErrorCode::kTimeout,
                           "the job exceeded its time limit of " +
                               std::to_string(job.claimed.job.timeout.count()) + " ms",
                           true};
      return {failure_request(error, job.started_at), error, JobOutcome::kFailed};
    }
    case CancelReason::kNone: break;
  }
  if (outcome.finished.stopped) return {std::nullopt, cancelled, JobOutcome::kCancelled};
  const auto& error = outcome.result.error ? outcome.result.error : outcome.finished.error;
  if (error) return {failure_request(*error, job.started_at), error, JobOutcome::kFailed};
  protocol::ResultRequest req;
  req.succeeded = true;
  req.started_at = job.started_at;
  req.finished_at = protocol::now_rfc3339();
  req.result = outcome.result.result.is_object() ? std::move(outcome.result.result)
                                                 : nlohmann::json::object();
  for (auto& [k, v] : outcome.finished.fields.items()) {
    // A connector that stopped at max_rows itself says truncated; keep it.
    if (k == "truncated" && req.result.value("truncated", false)) continue;
    req.result[k] = v;
  }
  req.parts = outcome.finished.parts;
  return {std::move(req), std::nullopt, JobOutcome::kSucceeded};
}

asio::awaitable<void> conclude(std::shared_ptr<RuntimeState> state, std::shared_ptr<JobState> job,
                               WorkerOutcome outcome) {
  if (job->released) {
    finish_job(*state, job, JobOutcome::kReleased, std::nullopt);
    co_return;
  }
  Conclusion v = judge(*job, outcome);
  if (v.outcome == JobOutcome::kReleased) co_await release_job(state, job);
  if (v.outcome == JobOutcome::kStale && state->metrics) state->metrics->stale_result();
  if (v.request) {
    if (state->faults.job_run) state->faults.job_run(job->id());
    v.outcome = co_await post_result(state, job, std::move(*v.request));
    if (v.outcome == JobOutcome::kStale && state->metrics) state->metrics->stale_result();
  }
  finish_job(*state, job, v.outcome, v.error);
}

/// The job's task failed: finish it as `internal` (once).
asio::awaitable<void> fail_job(std::shared_ptr<RuntimeState> state, std::shared_ptr<JobState> job,
                               std::string message) {
  const JobError error{ErrorCode::kInternal, std::move(message), false};
  const JobOutcome outcome =
      co_await post_result(state, job, failure_request(error, job->started_at));
  finish_job(*state, job, outcome, error);
}

/// Holds one of --max-per-source's slots for a source while the job runs,
/// and counts the job among those running (each has a worker thread).
class SourceSlot {
 public:
  SourceSlot(RuntimeState& state, std::string key) : state_(state), key_(std::move(key)) {
    ++state_.running_per_source[key_];
    ++state_.running_jobs;
  }
  ~SourceSlot() {
    --state_.running_jobs;
    if (--state_.running_per_source[key_] <= 0) state_.running_per_source.erase(key_);
    state_.wake.notify();
  }
  SourceSlot(const SourceSlot&) = delete;
  SourceSlot& operator=(const SourceSlot&) = delete;

 private:
  RuntimeState& state_;
  std::string key_;
};

/// Waits for a --max-per-source slot; false when the job must not start
/// (cancelled, or the agent is stopping).
asio::awaitable<bool> wait_for_source_slot(std::shared_ptr<RuntimeState> state,
                                           std::shared_ptr<JobState> job, std::string key) {
  const int cap = state->config.max_per_source;
  bool logged_wait = false;
  while (cap > 0 && state->running_per_source[key] >= cap &&
         job->cancel_reason == CancelReason::kNone && !state->stopping()) {
    if (!logged_wait) {
      state->log.info(
          "job waits for a per-source slot",
          {{"job_id", job->id()}, {"source", job->claimed.source_label}, {"max_per_source", cap}});
      logged_wait = true;
    }
    co_await state->wake.wait();
  }
  co_return job->cancel_reason == CancelReason::kNone && !state->stopping();
}

asio::awaitable<void> run_job(std::shared_ptr<RuntimeState> state, std::shared_ptr<JobState> job) {
  const auto& c = job->claimed;
  state->log.info("job received", {{"job_id", c.id},
                                   {"job_type", c.type_name},
                                   {"source", c.source_label},
                                   {"attempt", c.attempt}});
  job->lease_token = c.lease_token;
  job->lease_expiry = Clock::now() + state->session.lease_ttl;
  job->prepared = prepare_job(job->claimed, state->prepare);
  if (job->prepared.error) {
    const JobError err = *job->prepared.error;
    const JobOutcome outcome =
        co_await post_result(state, job, failure_request(err, std::string()));
    finish_job(*state, job, outcome, err);
    co_return;
  }
  spawn_lease_keeper(state, job);
  const std::string source_key = !c.job.source.id.empty()   ? c.job.source.id
                                 : c.job.source.ref.empty() ? c.source_label
                                                            : "ref:" + c.job.source.ref;
  if (!co_await wait_for_source_slot(state, job, source_key)) {
    // Stopping before it started: hand it back (cancel_job makes conclude release it).
    if (job->cancel_reason == CancelReason::kNone) cancel_job(*state, job, CancelReason::kShutdown);
    co_await conclude(state, job, WorkerOutcome{});
    co_return;
  }
  WorkerOutcome outcome;
  {
    const SourceSlot slot(*state, source_key);
    job->running = true;
    job->started = Clock::now();
    job->started_at = protocol::now_rfc3339();
    job->deadline = job->started + job->claimed.job.timeout;
    job->wake.notify();  // the keeper now also watches the deadline
    const StreamLimits limits{
        state->session.max_part_bytes,
        std::min<std::uint64_t>(state->config.max_result_rows,
                                c.job.query.max_rows.value_or(state->config.max_result_rows)),
        state->config.max_result_bytes};
    // One worker thread per running job: the pool starts one if it has fewer.
    auto& workers = state->workers->with_threads(static_cast<std::size_t>(state->running_jobs));
    outcome = co_await asio::co_spawn(workers.get_executor(), execute(state, job, limits),
                                      asio::use_awaitable);
    job->running = false;
  }
  co_await conclude(state, job, std::move(outcome));
}

}  // namespace

void spawn_job(const std::shared_ptr<RuntimeState>& state, const std::shared_ptr<JobState>& job) {
  state->job_group.spawn(
      run_job(state, job),
      // The slot lives in the state's own group, so it never runs after the
      // state is gone; a shared_ptr here would be a cycle that keeps the
      // state alive when the io_context is torn down with the job suspended.
      [raw = state.get(), job](asio::cancellation_type) {
        cancel_job(*raw, job, CancelReason::kShutdown);
      },
      [state, job](const std::exception_ptr& error) {
        if (!error || job->finished) return;
        const std::string what = describe(error);
        state->log.error("job task failed unexpectedly; the job fails as internal",
                         {{"job_id", job->id()}, {"error", what}});
        job->running = false;
        if (!job->fault) job->fault = "the agent failed while handling the job: " + what;
        asio::co_spawn(state->executor, fail_job(state, job, *job->fault),
                       [state, job](const std::exception_ptr& again) {
                         if (!again || job->finished) return;
                         fatal(*state, 1,
                               "job " + job->id() + " could not be finished: " + describe(again));
                       });
      });
}

}  // namespace outpost::runtime
