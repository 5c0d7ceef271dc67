// `outpost-agent healthcheck [HOST:PORT]` and `outpost-hub healthcheck
// [HOST:PORT]`: the container HEALTHCHECK without a shell or an HTTP client in
// the image. GET /healthz on the health address; exit 0 on 200, 1 otherwise,
// 2 on a usage error. A hub serving TLS (--tls-cert on PID 1's command line)
// is only connected to: its /healthz speaks HTTPS, possibly mutual TLS.
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

// The hub's address, in order: the argument, OUTPOST_HEALTHCHECK_ADDR,
// --listen on PID 1's command line, the hub's default 127.0.0.1:8443.
std::string hub_probe_address(const std::vector<std::string>& args,
                              const std::string& pid1_cmdline);

// Whether PID 1's command line gives --tls-cert (the probe then only connects).
bool hub_serves_tls(const std::string& pid1_cmdline);

// Runs the probe for `outpost-hub healthcheck ARGS...`; returns the exit status.
int run_hub_health_probe(const std::vector<std::string>& args, std::ostream& out,
                         std::ostream& err);

}  // namespace outpost::obs
