#pragma once

#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "control_plane/messages.hpp"
#include "runtime/part_streamer.hpp"
#include "runtime/state.hpp"

// Private to src/runtime: the control-plane calls one job makes, each with
// its own retry policy (until the lease would expire).

namespace outpost::runtime {

/// A PartUploader for the worker thread: each upload runs on the network
/// thread (PUT …/parts/{seq} with retries) while the worker waits.
std::unique_ptr<PartUploader> make_network_uploader(std::shared_ptr<RuntimeState> state,
                                                    std::shared_ptr<JobState> job);

/// Posts the result, retrying until the lease would expire. Returns the
/// status label for metrics ("succeeded", "failed", "stale", "cancelled", "lost").
boost::asio::awaitable<std::string> post_result(std::shared_ptr<RuntimeState> state,
                                                std::shared_ptr<JobState> job,
                                                control_plane::ResultRequest request);

/// Renews the lease every heartbeat interval and enforces the job timeout,
/// until the job is finished.
boost::asio::awaitable<void> lease_keeper(std::shared_ptr<RuntimeState> state,
                                          std::shared_ptr<JobState> job);

}  // namespace outpost::runtime
