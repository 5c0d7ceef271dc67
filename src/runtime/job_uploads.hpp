#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "protocol/messages.hpp"
#include "runtime/part_streamer.hpp"
#include "runtime/state.hpp"

// Private to src/runtime: what one job sends to the control plane (parts,
// the result, a release), each with its own retry policy (until the lease
// would expire).

namespace outpost::runtime {

/// A PartUploader for the worker thread: each upload runs on the network
/// thread (PUT …/parts/{seq} with retries) while the worker waits. An upload
/// that throws is logged, marks the job's fault (it then fails as
/// `internal`) and reports kFailed, so the worker stops producing.
std::unique_ptr<PartUploader> make_network_uploader(std::shared_ptr<RuntimeState> state,
                                                    std::shared_ptr<JobState> job);

/// Posts the result, retrying until the lease would expire. Returns what
/// became of the job (succeeded, failed, stale, cancelled or lost).
boost::asio::awaitable<JobOutcome> post_result(std::shared_ptr<RuntimeState> state,
                                               std::shared_ptr<JobState> job,
                                               protocol::ResultRequest request);

/// POST …/release with reason "shutdown" (one attempt).
boost::asio::awaitable<void> release_job(std::shared_ptr<RuntimeState> state,
                                         std::shared_ptr<JobState> job);

}  // namespace outpost::runtime
