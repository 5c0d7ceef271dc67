#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.hpp"

namespace boost::asio {
class io_context;
}

namespace outpost {
class ConnectorRegistry;
}

namespace outpost::runtime {

struct RuntimeState;
class AgentResources;

/// Throw points for tests of the failure paths: each hook, when set, is
/// called at its point in the activity it names and may throw. Compiled in
/// always and inert when empty (the agent binary never sets them).
struct FaultPoints {
  std::function<void(std::string_view job_id)> job_run;       ///< before the result is posted
  std::function<void(std::string_view job_id)> lease_keeper;  ///< before each renewal
  std::function<void()> claim_loop;                           ///< before each claim
  std::function<void()> heartbeat_loop;                       ///< before each heartbeat
  std::function<void(std::string_view job_id)> part_upload;   ///< before each part PUT
};

/// Set-up failed before the agent ran; `exit_code()` is the agent-cli.md
/// status (2 for a configuration error, 1 otherwise). The message is one line
/// for the operator, already redacted.
class StartError : public std::runtime_error {
 public:
  StartError(int exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  [[nodiscard]] int exit_code() const noexcept { return exit_code_; }

 private:
  int exit_code_;
};

/// The agent: connects to the control plane, claims and runs jobs, serves
/// the health endpoints, and shuts down on stop(). Everything it does runs
/// on `ioc` (one thread), plus its own worker, canceller and compressor
/// threads. main.cpp assembles it; tests run it in process.
///
/// Exit status (agent-cli.md): 0 after stop(), 3 when the control plane
/// refused it at start-up, 1 on any other fatal error.
///
/// Thread safety: construct, start() and finish() on one thread; stop() and
/// reload_sources() on the io_context's thread (post them from elsewhere).
class Agent {
 public:
  /// Validates the configuration and opens what the agent needs (policy,
  /// sources file, audit log, control-plane clients, health server); throws
  /// StartError. `registry` must outlive the agent. The caller registers the
  /// token with obs::add_secret before logging starts (main.cpp does).
  Agent(config::AgentConfig config, ConnectorRegistry& registry, boost::asio::io_context& ioc,
        FaultPoints faults = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  /// Starts connecting (on the io_context). `on_exit` runs on the io_context
  /// thread once the agent has stopped (clean or fatal), just before it stops
  /// the io_context: main cancels its signal wait there.
  void start(std::function<void()> on_exit = {});

  /// SIGTERM/SIGINT: stop claiming, give running jobs the shutdown grace,
  /// release the rest, stop. A second call ends the grace at once. `why`
  /// names the cause in the `shutting down` line ("SIGTERM").
  void stop(std::string_view why = "stop");

  /// SIGHUP: re-reads --sources-file (logged no-op without one).
  void reload_sources();

  /// After the io_context has returned: waits briefly for connectors still
  /// on a worker, joins the agent's threads and returns the exit status. A
  /// connector that ignores cancellation makes it end the process with
  /// std::_Exit instead (it must not keep the agent alive).
  int finish();

  /// The exit status once decided.
  [[nodiscard]] std::optional<int> exit_code() const;
  /// The health server's port (0 with --health-addr off): useful with port 0.
  [[nodiscard]] std::uint16_t health_port() const;
  /// Whether /healthz would answer 200 now (io_context thread).
  [[nodiscard]] bool alive() const;

 private:
  std::unique_ptr<AgentResources> resources_;
  std::shared_ptr<RuntimeState> state_;
};

}  // namespace outpost::runtime
