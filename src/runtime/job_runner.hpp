#pragma once

#include <chrono>
#include <memory>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "control_plane/client.hpp"
#include "runtime/state.hpp"

namespace outpost::runtime {

/// The whole life of one claimed job, on the network thread: prepare, wait
/// for a per-source slot, run the connector on a worker while a lease keeper
/// renews the lease and enforces the timeout, then post the result (or
/// nothing, or a release). Removes the job from `state->jobs` when done.
boost::asio::awaitable<void> run_job(std::shared_ptr<RuntimeState> state,
                                     std::shared_ptr<JobState> job);

/// Records why `job` stops (first reason wins) and cancels its token on the
/// canceller thread, where a connector's hook may block.
void cancel_job(RuntimeState& state, const std::shared_ptr<JobState>& job, CancelReason reason);

/// POST …/release with reason "shutdown" (one attempt, short timeout).
boost::asio::awaitable<void> release_job(std::shared_ptr<RuntimeState> state,
                                         std::shared_ptr<JobState> job);

/// Logs a failed control-plane call with the backoff that follows, counts it
/// in metrics, and reacts to 401/403 (not ready, reconnect) and 409
/// unknown_instance (reconnect).
void note_call_error(RuntimeState& state, std::string_view call,
                     const control_plane::CallError& error, std::chrono::milliseconds backoff,
                     std::string_view job_id = {});

}  // namespace outpost::runtime
