#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runtime/state.hpp"

// Private to src/runtime: the agent's long-lived coroutines (connect, claim,
// agent heartbeat, readiness, shutdown), each spawned with a completion
// handler that turns an unexpected exception into a logged fatal error.

namespace outpost::runtime {

/// Connects (exit 3 on refusal), logs `agent started`, spawns the agent
/// heartbeat and the readiness loop, then runs the claim loop until shutdown.
void spawn_agent_main(const std::shared_ptr<RuntimeState>& state);

/// SIGTERM/SIGINT or Agent::stop(): the first call starts the shutdown
/// (`why` names it in the log), a second one ends the grace at once.
void begin_shutdown(const std::shared_ptr<RuntimeState>& state, std::string_view why);

/// Ends the agent with `code` after logging `message`: jobs are cancelled
/// through the job group and the io_context is stopped. First call wins.
void fatal(RuntimeState& state, int code, const std::string& message);

}  // namespace outpost::runtime
