#include "runtime/lease_keeper.hpp"

#include <boost/asio/co_spawn.hpp>

#include "runtime/backoff.hpp"
#include "runtime/job_state.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

/// Waits until the next renewal or the job's deadline; cancels the job when
/// its deadline passed. False when the keeper has nothing left to do.
asio::awaitable<bool> wait_for_renewal(std::shared_ptr<RuntimeState> state,
                                       std::shared_ptr<JobState> job,
                                       Clock::time_point next_renew) {
  co_await job->wake.wait_until(
      std::min(next_renew, job->running ? job->deadline : Clock::time_point::max()));
  if (job->finished || job->released) co_return false;
  if (job->running && Clock::now() >= job->deadline && job->cancel_reason == CancelReason::kNone) {
    state->log.warn("job timed out; cancelling it",
                    {{"job_id", job->id()}, {"timeout_ms", job->claimed.job.timeout.count()}});
    cancel_job(*state, job, CancelReason::kTimeout);
  }
  // After a cancel request or a lost lease nothing will be posted, so the
  // lease no longer matters.
  co_return job->cancel_reason != CancelReason::kRequested &&
      job->cancel_reason != CancelReason::kLeaseLost;
}

asio::awaitable<void> lease_keeper(std::shared_ptr<RuntimeState> state,
                                   std::shared_ptr<JobState> job) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  auto next_renew = Clock::now() + state->session.heartbeat_interval;
  while (!job->finished && !job->released) {
    if (!co_await wait_for_renewal(state, job, next_renew)) break;
    if (Clock::now() < next_renew) continue;
    if (state->faults.lease_keeper) state->faults.lease_keeper(job->id());
    protocol::JobHeartbeatRequest req{job->lease_token, job->progress_rows.load()};
    std::string job_id = job->id();
    auto call = co_await state->cp->job_heartbeat(std::move(job_id), std::move(req));
    if (job->finished || job->released) break;
    const auto now = Clock::now();
    if (call.ok()) {
      state->contact();
      backoff.succeed();
      if (!call.value->lease.token.empty()) job->lease_token = call.value->lease.token;
      job->lease_expiry = now + state->session.lease_ttl;
      next_renew = now + state->session.heartbeat_interval;
      if (call.value->cancel_requested) {
        state->log.info("job cancel requested by the control plane", {{"job_id", job->id()}});
        cancel_job(*state, job, CancelReason::kRequested);
      }
      continue;
    }
    const auto& err = call.error;
    const CallVerdict v = verdict(err);
    if (v == CallVerdict::kLeaseLost || v == CallVerdict::kGone) {
      note_call_error(*state, "job_heartbeat", err, milliseconds(0), backoff.failures() + 1,
                      job->id());
      if (v == CallVerdict::kLeaseLost) {
        state->log.warn("lease lost to another attempt; stopping the job", {{"job_id", job->id()}});
      }
      cancel_job(
          *state, job,
          v == CallVerdict::kLeaseLost ? CancelReason::kLeaseLost : CancelReason::kRequested);
      break;
    }
    const auto delay = std::min<milliseconds>(
        backoff.fail(err.retry_after),
        std::chrono::duration_cast<milliseconds>(state->session.heartbeat_interval));
    note_call_error(*state, "job_heartbeat", err, delay, backoff.failures(), job->id());
    next_renew = now + delay;
  }
}

}  // namespace

void spawn_lease_keeper(const std::shared_ptr<RuntimeState>& state,
                        const std::shared_ptr<JobState>& job) {
  asio::co_spawn(state->executor, lease_keeper(state, job),
                 [state, job](const std::exception_ptr& error) {
                   if (!error || job->finished) return;
                   const std::string what = describe(error);
                   state->log.error("lease keeper failed; the job is stopped and fails",
                                    {{"job_id", job->id()}, {"error", what}});
                   if (!job->fault) job->fault = "lease keeper failed: " + what;
                   cancel_job(*state, job, CancelReason::kShutdown);
                   job->wake.notify();
                 });
}

}  // namespace outpost::runtime
