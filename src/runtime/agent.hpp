#pragma once

#include "config/config.hpp"

namespace outpost::runtime {

/// Runs the agent until a clean shutdown (SIGTERM/SIGINT) or a fatal error.
/// Returns the process exit status of agent-cli.md: 0 clean shutdown,
/// 3 refused by the control plane at start-up, 1 any other fatal error
/// (including --max-retries exhausted).
int run_agent(const config::AgentConfig& config);

}  // namespace outpost::runtime
