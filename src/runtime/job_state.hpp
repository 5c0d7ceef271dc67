#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control_plane/client.hpp"
#include "runtime/state.hpp"

// Private to src/runtime: what happens to one job's state outside its
// coroutines: cancelling, finishing, and the reaction to failed calls.

namespace outpost::runtime {

/// What one job's control-plane call (part, result, renewal) should do
/// after an error; shared by upload_part, post_result and lease_keeper.
enum class CallVerdict {
  kRetry,      ///< transient or reconnecting: back off while the lease lasts
  kLeaseLost,  ///< 409 (not unknown_instance): the job went to another attempt
  kGone,       ///< 410: the job was cancelled or removed
  kTooLarge,   ///< 413: the body must be split or replaced
  kGiveUp,     ///< 400 or the client closed: never resend this body
};
CallVerdict verdict(const control_plane::CallError& error) noexcept;

/// Records why `job` stops (first reason wins) and cancels its token on the
/// canceller thread, where a connector's hook may block.
void cancel_job(RuntimeState& state, const std::shared_ptr<JobState>& job, CancelReason reason);

/// Logs the `job finished` line, counts it, removes the job and frees its slot.
void finish_job(RuntimeState& state, const std::shared_ptr<JobState>& job, JobOutcome outcome,
                const std::optional<JobError>& error);

/// A failure result for `error` (message redacted).
protocol::ResultRequest failure_request(const JobError& error, const std::string& started_at);

/// Logs a failed control-plane call with the backoff that follows and the
/// number of failures in a row it makes (this one included), counts it in
/// metrics, and reacts to 401/403 (not ready, reconnect) and 409
/// unknown_instance (reconnect).
void note_call_error(RuntimeState& state, std::string_view call,
                     const control_plane::CallError& error, std::chrono::milliseconds backoff,
                     int failures, std::string_view job_id = {});

/// The text of an exception caught by a completion handler.
std::string describe(const std::exception_ptr& error);

}  // namespace outpost::runtime
