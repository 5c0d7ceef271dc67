#include "runtime/job_state.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace outpost::runtime {

namespace asio = boost::asio;
using control_plane::ErrorKind;
using std::chrono::milliseconds;

std::string_view to_string(JobOutcome outcome) noexcept {
  switch (outcome) {
    case JobOutcome::kSucceeded: return "succeeded";
    case JobOutcome::kFailed: return "failed";
    case JobOutcome::kCancelled: return "cancelled";
    case JobOutcome::kStale: return "stale";
    case JobOutcome::kLost: return "lost";
    case JobOutcome::kReleased: return "released";
  }
  return "failed";
}

CallVerdict verdict(const control_plane::CallError& error) noexcept {
  switch (error.kind) {
    case ErrorKind::kConflict:
      return error.unknown_instance() ? CallVerdict::kRetry : CallVerdict::kLeaseLost;
    case ErrorKind::kGone: return CallVerdict::kGone;
    case ErrorKind::kTooLarge: return CallVerdict::kTooLarge;
    case ErrorKind::kBadRequest:
    case ErrorKind::kCancelled: return CallVerdict::kGiveUp;
    default: return CallVerdict::kRetry;
  }
}

void cancel_job(RuntimeState& state, const std::shared_ptr<JobState>& job, CancelReason reason) {
  if (job->cancel_reason != CancelReason::kNone) return;
  job->cancel_reason = reason;
  if (job->running) {
    asio::post(state.canceller->with_threads(1), [job, reason] { job->cancel.cancel(reason); });
  } else {
    job->cancel.cancel(reason);  // no connector yet, so no hook can block
  }
  job->wake.notify();
  state.wake.notify();
}

void finish_job(RuntimeState& state, const std::shared_ptr<JobState>& job, JobOutcome outcome,
                const std::optional<JobError>& error) {
  if (job->finished) return;
  const auto now = Clock::now();
  const bool started = job->started != Clock::time_point{};
  const auto duration = started ? now - job->started : Clock::duration::zero();
  const std::string connector = job->prepared.connector != nullptr
                                    ? std::string(job->prepared.connector->type())
                                    : job->claimed.job.source.type;
  const std::string_view status = to_string(outcome);
  if (state.metrics) {
    state.metrics->job_finished(job->claimed.type_name.empty() ? "unknown" : job->claimed.type_name,
                                connector.empty() ? "unknown" : connector, status, duration);
  }
  const auto level = outcome == JobOutcome::kSucceeded || outcome == JobOutcome::kReleased
                         ? obs::LogLevel::kInfo
                         : obs::LogLevel::kWarn;
  const auto ms = std::chrono::duration_cast<milliseconds>(duration).count();
  // Fields are an initializer list: the line with an error is written out.
  if (!error) {
    state.log.log(level, "job finished",
                  {{"job_id", job->id()},
                   {"job_type", job->claimed.type_name},
                   {"source", job->claimed.source_label},
                   {"attempt", job->claimed.attempt},
                   {"status", status},
                   {"duration_ms", ms},
                   {"rows", job->progress_rows.load()}});
  } else {
    state.log.log(level, "job finished",
                  {{"job_id", job->id()},
                   {"job_type", job->claimed.type_name},
                   {"source", job->claimed.source_label},
                   {"attempt", job->claimed.attempt},
                   {"status", status},
                   {"duration_ms", ms},
                   {"rows", job->progress_rows.load()},
                   {"error", std::string(to_string(error->code)) + ": " + error->message}});
  }
  job->finished = true;
  job->wake.notify();
  state.jobs.erase(job->id());
  if (state.metrics) state.metrics->set_running(static_cast<int>(state.jobs.size()));
  state.wake.notify();
}

protocol::ResultRequest failure_request(const JobError& error, const std::string& started_at) {
  protocol::ResultRequest req;
  req.succeeded = false;
  req.started_at = started_at.empty() ? protocol::now_rfc3339() : started_at;
  req.finished_at = protocol::now_rfc3339();
  req.error = JobError{error.code, obs::redact(error.message), error.retryable};
  return req;
}

void note_call_error(RuntimeState& state, std::string_view call,
                     const control_plane::CallError& error, milliseconds backoff, int failures,
                     std::string_view job_id) {
  if (error.kind == ErrorKind::kCancelled && state.stopping()) return;  // our own shutdown
  if (state.metrics) state.metrics->control_plane_error(control_plane::to_string(error.kind));
  const bool auth = error.kind == ErrorKind::kUnauthorized || error.kind == ErrorKind::kForbidden;
  const std::string message = obs::redact(error.message);
  state.log.warn("control plane call failed", {{"call", call},
                                               {"kind", control_plane::to_string(error.kind)},
                                               {"status", error.status},
                                               {"code", error.code},
                                               {"error", message},
                                               {"backoff_ms", backoff.count()},
                                               {"failures", failures},
                                               {"job_id", job_id}});
  if (auth && state.authorized && state.phase == AgentPhase::kRunning) {
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

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace outpost::runtime
