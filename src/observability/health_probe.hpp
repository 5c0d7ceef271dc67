// `outpost-agent healthcheck [HOST:PORT]`: the container HEALTHCHECK without a
// shell or an HTTP client in the image. GET /healthz on the agent's health
// address; exit 0 on 200, 1 otherwise, 2 on a usage error.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace outpost::obs {

// The address to probe, in order: the argument, OUTPOST_HEALTHCHECK_ADDR,
// --health-addr on PID 1's command line (the container's ENTRYPOINT),
// AGENT_HEALTH_ADDR, the fixed default 0.0.0.0:8080.
std::string health_probe_address(const std::vector<std::string>& args,
                                 const std::string& pid1_cmdline);

// Runs the probe for `outpost-agent healthcheck ARGS...`; returns the exit status.
int run_health_probe(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace outpost::obs
