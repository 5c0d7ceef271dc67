#include "runtime/job_uploads.hpp"

#include <future>
#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/message.hpp"
#include "runtime/backoff.hpp"
#include "runtime/job_state.hpp"

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

/// Uploads one part on the network thread, retrying transient failures until
/// the lease would expire.
asio::awaitable<UploadStatus> upload_part(std::shared_ptr<RuntimeState> state,
                                          std::shared_ptr<JobState> job, std::uint64_t seq,
                                          std::shared_ptr<const std::string> body, bool gzipped) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  for (;;) {
    if (job->cancel_reason != CancelReason::kNone || job->released || job->fault) {
      co_return UploadStatus::kStopped;
    }
    if (state->faults.part_upload) state->faults.part_upload(job->id());
    std::string job_id = job->id();
    std::string lease = job->lease_token;
    auto call =
        co_await state->cp->put_part(std::move(job_id), seq, std::move(lease), body, gzipped);
    if (call.ok()) {
      state->contact();
      co_return UploadStatus::kOk;
    }
    const auto& err = call.error;
    const CallVerdict v = verdict(err);
    if (v != CallVerdict::kRetry) {
      note_call_error(*state, "put_part", err, milliseconds(0), backoff.failures() + 1, job->id());
    }
    switch (v) {
      case CallVerdict::kTooLarge: co_return UploadStatus::kTooLarge;
      case CallVerdict::kLeaseLost:
        cancel_job(*state, job, CancelReason::kLeaseLost);
        co_return UploadStatus::kStopped;
      case CallVerdict::kGone:
        cancel_job(*state, job, CancelReason::kRequested);
        co_return UploadStatus::kStopped;
      case CallVerdict::kGiveUp: co_return UploadStatus::kFailed;
      case CallVerdict::kRetry: break;
    }
    const auto delay = backoff.fail(err.retry_after);
    note_call_error(*state, "put_part", err, delay, backoff.failures(), job->id());
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
    return upload_async(seq, std::make_shared<const std::string>(std::move(ndjson))).get();
  }

  // The part is gzipped on the compressor thread, neither on the worker
  // (which goes on reading rows meanwhile) nor on the network thread.
  std::future<UploadStatus> upload_async(std::uint64_t seq,
                                         std::shared_ptr<const std::string> ndjson) override {
    auto promise = std::make_shared<std::promise<UploadStatus>>();
    auto future = promise->get_future();
    auto send = [state = state_, job = job_, seq, promise](std::shared_ptr<const std::string> body,
                                                           bool gzipped) {
      asio::co_spawn(state->executor, upload_part(state, job, seq, std::move(body), gzipped),
                     [state, job, seq, promise](const std::exception_ptr& e, UploadStatus s) {
                       if (e) {
                         const std::string what = describe(e);
                         state->log.error("part upload failed unexpectedly; the job fails",
                                          {{"job_id", job->id()},
                                           {"seq", static_cast<std::int64_t>(seq)},
                                           {"error", what}});
                         if (!job->fault) job->fault = "result part upload failed: " + what;
                       }
                       promise->set_value(e ? UploadStatus::kFailed : s);
                     });
    };
    if (state_->compressor == nullptr || !state_->cp->gzips(ndjson->size())) {
      send(std::move(ndjson), false);
      return future;
    }
    asio::post(state_->compressor->with_threads(1), [send, body = std::move(ndjson)]() mutable {
      std::shared_ptr<const std::string> packed;
      try {
        packed = std::make_shared<const std::string>(http::gzip(*body));
      } catch (const std::exception&) {
        send(std::move(body), false);  // out of memory for the compressed copy: send it as it is
        return;
      }
      body.reset();  // the streamer still holds it, for a 413 split
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

asio::awaitable<JobOutcome> post_result(std::shared_ptr<RuntimeState> state,
                                        std::shared_ptr<JobState> job,
                                        protocol::ResultRequest request) {
  Backoff backoff(state->config.backoff, state->config.backoff_cap);
  for (;;) {
    if (job->cancel_reason == CancelReason::kRequested) co_return JobOutcome::kCancelled;
    if (job->cancel_reason == CancelReason::kLeaseLost) co_return JobOutcome::kStale;
    request.lease_token = job->lease_token;
    std::string job_id = job->id();
    protocol::ResultRequest attempt = request;
    auto call = co_await state->cp->post_result(std::move(job_id), std::move(attempt));
    if (call.ok()) {
      state->contact();
      co_return request.succeeded ? JobOutcome::kSucceeded : JobOutcome::kFailed;
    }
    const auto& err = call.error;
    const CallVerdict v = verdict(err);
    if (v != CallVerdict::kRetry) {
      note_call_error(*state, "result", err, milliseconds(0), backoff.failures() + 1, job->id());
    }
    switch (v) {
      case CallVerdict::kLeaseLost:
        state->log.warn("result refused: the lease was lost to another attempt; result dropped",
                        {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
        co_return JobOutcome::kStale;
      case CallVerdict::kGone: co_return JobOutcome::kCancelled;
      case CallVerdict::kTooLarge:
        if (!request.succeeded) co_return JobOutcome::kLost;
        request.succeeded = false;
        request.result = nlohmann::json::object();
        request.parts = 0;
        request.error =
            JobError{ErrorCode::kResultTooLarge,
                     "the control plane refused the result body as too large (413)", false};
        continue;
      case CallVerdict::kGiveUp: co_return JobOutcome::kLost;
      case CallVerdict::kRetry: break;
    }
    const auto delay = backoff.fail(err.retry_after);
    note_call_error(*state, "result", err, delay, backoff.failures(), job->id());
    if (Clock::now() + delay >= job->lease_expiry) {
      state->log.error("result not delivered before the lease expired; the job will be retried",
                       {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
      co_return JobOutcome::kLost;
    }
    co_await job->wake.wait_for(delay);
  }
}

asio::awaitable<void> release_job(std::shared_ptr<RuntimeState> state,
                                  std::shared_ptr<JobState> job) {
  job->released = true;
  job->wake.notify();
  protocol::ReleaseRequest request;
  request.lease_token = job->lease_token;
  request.reason = "shutdown";
  std::string job_id = job->id();
  auto call = co_await state->cp->release(std::move(job_id), std::move(request));
  if (call.ok()) {
    state->contact();
    state->log.info("job released", {{"job_id", job->id()}, {"attempt", job->claimed.attempt}});
  } else {
    note_call_error(*state, "release", call.error, milliseconds(0), 1, job->id());
  }
}

}  // namespace outpost::runtime
