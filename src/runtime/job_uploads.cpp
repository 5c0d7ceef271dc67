#include "runtime/job_calls.hpp"

#include <future>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/message.hpp"
#include "runtime/backoff.hpp"
#include "runtime/job_runner.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using control_plane::ErrorKind;
using std::chrono::milliseconds;

/// Uploads one part on the network thread, retrying transient failures until
/// the lease would expire.
asio::awaitable<UploadStatus> upload_part(std::shared_ptr<RuntimeState> state,
                                          std::shared_ptr<JobState> job, std::uint64_t seq,
                                          std::string body, bool gzipped) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  for (;;) {
    if (job->cancel_reason != CancelReason::kNone || job->released)
      co_return UploadStatus::kStopped;
    std::string job_id = job->id();
    std::string lease = job->lease_token;
    std::string copy = body;
    auto call = co_await state->cp->put_part(std::move(job_id), seq, std::move(lease),
                                             std::move(copy), gzipped);
    if (call.ok()) {
      state->contact();
      co_return UploadStatus::kOk;
    }
    const auto& err = call.error;
    if (err.kind == ErrorKind::kTooLarge) {
      note_call_error(*state, "put_part", err, milliseconds(0), job->id());
      co_return UploadStatus::kTooLarge;
    }
    if (err.kind == ErrorKind::kConflict && !err.unknown_instance()) {
      note_call_error(*state, "put_part", err, milliseconds(0), job->id());
      cancel_job(*state, job, CancelReason::kLeaseLost);
      co_return UploadStatus::kStopped;
    }
    if (err.kind == ErrorKind::kGone) {
      note_call_error(*state, "put_part", err, milliseconds(0), job->id());
      cancel_job(*state, job, CancelReason::kRequested);
      co_return UploadStatus::kStopped;
    }
    if (err.kind == ErrorKind::kBadRequest || err.kind == ErrorKind::kCancelled) {
      note_call_error(*state, "put_part", err, milliseconds(0), job->id());
      co_return UploadStatus::kFailed;
    }
    const auto delay = backoff.fail(err.retry_after);
    note_call_error(*state, "put_part", err, delay, job->id());
    if (Clock::now() + delay >= job->lease_expiry) co_return UploadStatus::kFailed;
    co_await job->wake.wait_for(delay);
  }
}

/// Blocks a worker thread while the network thread uploads a part.
class NetworkUploader final : public PartUploader {
 public:
  NetworkUploader(std::shared_ptr<RuntimeState> state, std::shared_ptr<JobState> job)
      : state_(std::move(state)), job_(std::move(job)) {}

  UploadStatus upload(std::uint64_t seq, std::string ndjson) override {
    return upload_async(seq, std::move(ndjson)).get();
  }

  // The part is gzipped on the compressor thread, neither on the worker
  // (which goes on reading rows meanwhile) nor on the network thread.
  std::future<UploadStatus> upload_async(std::uint64_t seq, std::string ndjson) override {
    auto promise = std::make_shared<std::promise<UploadStatus>>();
    auto future = promise->get_future();
    auto send = [state = state_, job = job_, seq, promise](std::string body, bool gzipped) {
      asio::co_spawn(state->executor, upload_part(state, job, seq, std::move(body), gzipped),
                     [promise](std::exception_ptr e, UploadStatus s) {
                       promise->set_value(e ? UploadStatus::kFailed : s);
                     });
    };
    if (state_->compressor == nullptr || !state_->cp->gzips(ndjson.size())) {
      send(std::move(ndjson), false);
      return future;
    }
    asio::post(*state_->compressor, [send, body = std::move(ndjson)]() mutable {
      std::string packed;
      try {
        packed = http::gzip(body);
      } catch (const std::exception&) {
        send(std::move(body), false);  // out of memory for the copy: send it as it is
        return;
      }
      send(std::move(packed), true);
    });
    return future;
  }

 private:
  std::shared_ptr<RuntimeState> state_;
  std::shared_ptr<JobState> job_;
};

}  // namespace

std::unique_ptr<PartUploader> make_network_uploader(std::shared_ptr<RuntimeState> state,
                                                    std::shared_ptr<JobState> job) {
  return std::make_unique<NetworkUploader>(std::move(state), std::move(job));
}

/// Posts the result, retrying until the lease would expire. Returns the
/// status label for metrics ("succeeded", "failed", "stale", "cancelled", "lost").
asio::awaitable<std::string> post_result(std::shared_ptr<RuntimeState> state,
                                         std::shared_ptr<JobState> job,
                                         control_plane::ResultRequest request) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  const std::string status = request.succeeded ? "succeeded" : "failed";
  for (;;) {
    if (job->cancel_reason == CancelReason::kRequested) co_return "cancelled";
    if (job->cancel_reason == CancelReason::kLeaseLost) co_return "stale";
    request.lease_token = job->lease_token;
    std::string job_id = job->id();
    control_plane::ResultRequest attempt = request;
    auto call = co_await state->cp->post_result(std::move(job_id), std::move(attempt));
    if (call.ok()) {
      state->contact();
      co_return status;
    }
    const auto& err = call.error;
    if (err.kind == ErrorKind::kConflict && !err.unknown_instance()) {
      note_call_error(*state, "result", err, milliseconds(0), job->id());
      state->log.warn("result refused: the lease was lost to another attempt; result dropped",
                      {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
      co_return "stale";
    }
    if (err.kind == ErrorKind::kGone) {
      note_call_error(*state, "result", err, milliseconds(0), job->id());
      co_return "cancelled";
    }
    if (err.kind == ErrorKind::kTooLarge && request.succeeded) {
      note_call_error(*state, "result", err, milliseconds(0), job->id());
      request.succeeded = false;
      request.result = nlohmann::json::object();
      request.parts = 0;
      request.error =
          JobError{ErrorCode::kResultTooLarge,
                   "the control plane refused the result body as too large (413)", false};
      continue;
    }
    if (err.kind == ErrorKind::kBadRequest || err.kind == ErrorKind::kCancelled) {
      note_call_error(*state, "result", err, milliseconds(0), job->id());
      co_return "lost";
    }
    const auto delay = backoff.fail(err.retry_after);
    note_call_error(*state, "result", err, delay, job->id());
    if (Clock::now() + delay >= job->lease_expiry) {
      state->log.error("result not delivered before the lease expired; the job will be retried",
                       {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
      co_return "lost";
    }
    co_await job->wake.wait_for(delay);
  }
}

/// Renews the lease every heartbeat interval and enforces the job timeout,
/// until the job is finished.
asio::awaitable<void> lease_keeper(std::shared_ptr<RuntimeState> state,
                                   std::shared_ptr<JobState> job) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  auto next_renew = Clock::now() + state->session.heartbeat_interval;
  while (!job->finished && !job->released) {
    co_await job->wake.wait_until(
        std::min(next_renew, job->running ? job->deadline : Clock::time_point::max()));
    if (job->finished || job->released) break;
    auto now = Clock::now();
    if (job->running && now >= job->deadline && job->cancel_reason == CancelReason::kNone) {
      state->log.warn("job timed out; cancelling it",
                      {{"job_id", job->id()}, {"timeout_ms", job->claimed.job.timeout.count()}});
      cancel_job(*state, job, CancelReason::kTimeout);
    }
    if (job->cancel_reason == CancelReason::kRequested ||
        job->cancel_reason == CancelReason::kLeaseLost) {
      break;  // nothing will be posted, so the lease no longer matters
    }
    if (now < next_renew) continue;
    control_plane::JobHeartbeatRequest req{job->lease_token, job->progress_rows.load()};
    std::string job_id = job->id();
    auto call = co_await state->cp->job_heartbeat(std::move(job_id), std::move(req));
    if (job->finished || job->released) break;
    now = Clock::now();
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
    if (err.kind == ErrorKind::kConflict && !err.unknown_instance()) {
      note_call_error(*state, "job_heartbeat", err, milliseconds(0), job->id());
      state->log.warn("lease lost to another attempt; stopping the job", {{"job_id", job->id()}});
      cancel_job(*state, job, CancelReason::kLeaseLost);
      break;
    }
    if (err.kind == ErrorKind::kGone) {
      note_call_error(*state, "job_heartbeat", err, milliseconds(0), job->id());
      cancel_job(*state, job, CancelReason::kRequested);
      break;
    }
    const auto delay = std::min<milliseconds>(
        backoff.fail(err.retry_after),
        std::chrono::duration_cast<milliseconds>(state->session.heartbeat_interval));
    note_call_error(*state, "job_heartbeat", err, delay, job->id());
    next_renew = now + delay;
  }
}

}  // namespace outpost::runtime
