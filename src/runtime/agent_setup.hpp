#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"
#include "observability/log.hpp"
#include "outpost/policy.hpp"

namespace outpost::security {
class SourcesFile;
}

// Private to src/runtime: the agent's start-up steps that only read the
// configuration and the host (no network, no threads).

namespace outpost::runtime {

/// A random RFC 4122 version-4 UUID: the instance id (protocol §1).
std::string random_uuid();

/// This host's name for the connect request ("unknown" when unavailable).
std::string host_name();

/// The operator's opt-ins with every --sqlite-dirs entry resolved to its
/// canonical path, so a symbolic link in the list cannot widen it later.
/// Throws std::runtime_error naming a directory that does not exist.
OperatorPolicy make_policy(const config::AgentConfig& config);

/// One line per opt-in that widens what a control plane can make the agent
/// do, and one when nothing restricts where connections may go.
void log_security_posture(const obs::Logger& log, const config::AgentConfig& config,
                          const OperatorPolicy& policy, const security::SourcesFile* sources);

/// --secret-dirs made canonical, and start-up lines for what the operator's
/// secret options cannot do.
std::vector<std::string> secret_dirs(const obs::Logger& log, const config::AgentConfig& config);

}  // namespace outpost::runtime
