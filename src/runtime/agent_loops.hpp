#pragma once

#include <memory>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>

#include "runtime/state.hpp"

namespace outpost::runtime {

/// Connects (exit 3 on refusal), logs `agent started`, then runs the claim
/// loop until shutdown; spawns the agent heartbeat and the health checker.
boost::asio::awaitable<void> agent_main(std::shared_ptr<RuntimeState> state);

/// SIGTERM/SIGINT start the shutdown (a second one ends the grace at once);
/// SIGHUP reloads the sources file.
boost::asio::awaitable<void> signal_loop(std::shared_ptr<RuntimeState> state,
                                         std::shared_ptr<boost::asio::signal_set> signals);

/// Ends the process with `code` after logging `message` (exit 1 paths).
void fatal(RuntimeState& state, int code, const std::string& message);

}  // namespace outpost::runtime
