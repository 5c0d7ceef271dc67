#include "runtime/job_runner.hpp"

#include <future>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "control_plane/messages.hpp"
#include "runtime/backoff.hpp"
#include "runtime/job_calls.hpp"
#include "runtime/part_streamer.hpp"
#include "security/audit_log.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using control_plane::ErrorKind;
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
  const auto& params = job.claimed.job.params;
  if (job.claimed.job.type == JobType::kQuery && params.contains("sql") &&
      params["sql"].is_string()) {
    rec.statement = params["sql"].get<std::string>();
  } else {
    rec.statement = std::string(to_string(job.claimed.job.type));
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

void finish_job(RuntimeState& state, const std::shared_ptr<JobState>& job, std::string_view status,
                const std::optional<JobError>& error) {
  const auto now = Clock::now();
  const bool started = job->started != Clock::time_point{};
  const auto duration = started ? now - job->started : Clock::duration::zero();
  const std::string connector = job->prepared.connector != nullptr
                                    ? std::string(job->prepared.connector->type())
                                    : job->claimed.job.source.type;
  if (state.metrics) {
    state.metrics->job_finished(job->claimed.type_name.empty() ? "unknown" : job->claimed.type_name,
                                connector.empty() ? "unknown" : connector, status, duration);
  }
  const std::string err_text =
      error ? std::string(to_string(error->code)) + ": " + error->message : std::string();
  const auto level =
      status == "succeeded" || status == "released" ? obs::LogLevel::kInfo : obs::LogLevel::kWarn;
  if (err_text.empty()) {
    state.log.log(level, "job finished",
                  {{"job_id", job->id()},
                   {"job_type", job->claimed.type_name},
                   {"source", job->claimed.source_label},
                   {"attempt", job->claimed.attempt},
                   {"status", status},
                   {"duration_ms", std::chrono::duration_cast<milliseconds>(duration).count()},
                   {"rows", job->progress_rows.load()}});
  } else {
    state.log.log(level, "job finished",
                  {{"job_id", job->id()},
                   {"job_type", job->claimed.type_name},
                   {"source", job->claimed.source_label},
                   {"attempt", job->claimed.attempt},
                   {"status", status},
                   {"duration_ms", std::chrono::duration_cast<milliseconds>(duration).count()},
                   {"rows", job->progress_rows.load()},
                   {"error", err_text}});
  }
  job->finished = true;
  job->wake.notify();
  state.jobs.erase(job->id());
  if (state.metrics) state.metrics->set_running(static_cast<int>(state.jobs.size()));
  state.wake.notify();
}

control_plane::ResultRequest failure_request(const JobError& error, const std::string& started_at) {
  control_plane::ResultRequest req;
  req.succeeded = false;
  req.started_at = started_at.empty() ? control_plane::now_rfc3339() : started_at;
  req.finished_at = control_plane::now_rfc3339();
  req.error = JobError{error.code, obs::redact(error.message), error.retryable};
  return req;
}

asio::awaitable<void> conclude(std::shared_ptr<RuntimeState> state, std::shared_ptr<JobState> job,
                               WorkerOutcome outcome) {
  if (job->released) {
    finish_job(*state, job, "released", std::nullopt);
    co_return;
  }
  const JobError cancelled{ErrorCode::kCancelled, "cancelled by the control plane", false};
  switch (job->cancel_reason) {
    case CancelReason::kRequested: finish_job(*state, job, "cancelled", cancelled); co_return;
    case CancelReason::kLeaseLost:
      if (state->metrics) state->metrics->stale_result();
      finish_job(*state, job, "stale", JobError{ErrorCode::kCancelled, "lease lost", false});
      co_return;
    case CancelReason::kShutdown:
      co_await release_job(state, job);
      finish_job(*state, job, "released", std::nullopt);
      co_return;
    default: break;
  }
  control_plane::ResultRequest req;
  std::optional<JobError> error;
  if (job->cancel_reason == CancelReason::kTimeout) {
    error = JobError{ErrorCode::kTimeout,
                     "the job exceeded its time limit of " +
                         std::to_string(job->claimed.job.timeout.count()) + " ms",
                     true};
  } else if (outcome.finished.stopped) {
    finish_job(*state, job, "cancelled", cancelled);
    co_return;
  } else if (outcome.result.error) {
    error = outcome.result.error;
  } else if (outcome.finished.error) {
    error = outcome.finished.error;
  }
  if (error) {
    req = failure_request(*error, job->started_at);
  } else {
    req.succeeded = true;
    req.started_at = job->started_at;
    req.finished_at = control_plane::now_rfc3339();
    req.result = outcome.result.result.is_object() ? std::move(outcome.result.result)
                                                   : nlohmann::json::object();
    for (auto& [k, v] : outcome.finished.fields.items()) {
      // A connector that stopped at max_rows itself says truncated; keep it.
      if (k == "truncated" && req.result.value("truncated", false)) continue;
      req.result[k] = v;
    }
    req.parts = outcome.finished.parts;
  }
  const std::string status = co_await post_result(state, job, std::move(req));
  if (status == "stale" && state->metrics) state->metrics->stale_result();
  finish_job(*state, job, status, error);
}

}  // namespace

void cancel_job(RuntimeState& state, const std::shared_ptr<JobState>& job, CancelReason reason) {
  if (job->cancel_reason != CancelReason::kNone) return;
  job->cancel_reason = reason;
  if (job->running) {
    asio::post(*state.canceller, [job, reason] { job->cancel.cancel(reason); });
  } else {
    job->cancel.cancel(reason);  // no connector yet, so no hook can block
  }
  job->wake.notify();
  state.wake.notify();
}

asio::awaitable<void> release_job(std::shared_ptr<RuntimeState> state,
                                  std::shared_ptr<JobState> job) {
  job->released = true;
  job->wake.notify();
  control_plane::ReleaseRequest request;
  request.lease_token = job->lease_token;
  request.reason = "shutdown";
  std::string job_id = job->id();
  auto call = co_await state->cp->release(std::move(job_id), std::move(request));
  if (call.ok()) {
    state->contact();
    state->log.info("job released", {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
  } else {
    note_call_error(*state, "release", call.error, milliseconds(0), job->id());
  }
}

void note_call_error(RuntimeState& state, std::string_view call,
                     const control_plane::CallError& error, milliseconds backoff,
                     std::string_view job_id) {
  if (error.kind == ErrorKind::kCancelled && state.stopping) return;  // our own shutdown
  if (state.metrics) state.metrics->control_plane_error(control_plane::to_string(error.kind));
  const bool auth = error.kind == ErrorKind::kUnauthorized || error.kind == ErrorKind::kForbidden;
  const std::string message = obs::redact(error.message);
  state.log.warn("control plane call failed", {{"call", call},
                                               {"kind", control_plane::to_string(error.kind)},
                                               {"status", error.status},
                                               {"code", error.code},
                                               {"error", message},
                                               {"backoff_ms", backoff.count()},
                                               {"failures", state.consecutive_failures},
                                               {"job_id", job_id}});
  if (auth && state.authorized && state.connected_once) {
    state.log.error(
        "the control plane no longer accepts the access token; claiming stopped until it does",
        {{"status", error.status}});
  }
  if (auth) {
    state.authorized = false;
    state.connected = false;
    state.wake.notify();
  } else if (error.unknown_instance()) {
    state.connected = false;
    state.wake.notify();
  }
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
    control_plane::ResultRequest request = failure_request(err, std::string());
    const std::string status = co_await post_result(state, job, std::move(request));
    finish_job(*state, job, status, err);
    co_return;
  }
  asio::co_spawn(state->executor, lease_keeper(state, job), asio::detached);

  const std::string source_key = !c.job.source.id.empty()   ? c.job.source.id
                                 : c.job.source.ref.empty() ? c.source_label
                                                            : "ref:" + c.job.source.ref;
  const int cap = state->config.max_per_source;
  bool logged_wait = false;
  while (cap > 0 && state->running_per_source[source_key] >= cap &&
         job->cancel_reason == CancelReason::kNone && !state->stopping) {
    if (!logged_wait) {
      state->log.info("job waits for a per-source slot",
                      {{"job_id", c.id}, {"source", c.source_label}, {"max_per_source", cap}});
      logged_wait = true;
    }
    co_await state->wake.wait();
  }
  if (state->stopping && job->cancel_reason == CancelReason::kNone) {
    co_await release_job(state, job);
    finish_job(*state, job, "released", std::nullopt);
    co_return;
  }
  if (job->cancel_reason != CancelReason::kNone) {
    WorkerOutcome nothing;
    co_await conclude(state, job, std::move(nothing));
    co_return;
  }

  ++state->running_per_source[source_key];
  job->running = true;
  job->started = Clock::now();
  job->started_at = control_plane::now_rfc3339();
  job->deadline = job->started + job->claimed.job.timeout;
  job->wake.notify();  // the keeper now also watches the deadline
  const StreamLimits limits{
      state->session.max_part_bytes,
      std::min<std::uint64_t>(
          state->config.max_result_rows,
          c.job.params.contains("max_rows") && c.job.params["max_rows"].is_number_unsigned()
              ? c.job.params["max_rows"].get<std::uint64_t>()
              : state->config.max_result_rows),
      state->config.max_result_bytes};
  WorkerOutcome outcome = co_await asio::co_spawn(state->workers->get_executor(),
                                                  execute(state, job, limits), asio::use_awaitable);
  job->running = false;
  if (--state->running_per_source[source_key] <= 0) state->running_per_source.erase(source_key);
  state->wake.notify();
  co_await conclude(state, job, std::move(outcome));
}

}  // namespace outpost::runtime
