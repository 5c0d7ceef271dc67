#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "config/config.hpp"
#include "control_plane/client.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "outpost/cancel.hpp"
#include "outpost/connector.hpp"
#include "outpost/network_guard.hpp"
#include "outpost/policy.hpp"
#include "runtime/agent.hpp"
#include "runtime/job_group.hpp"
#include "runtime/job_prep.hpp"
#include "runtime/notifier.hpp"
#include "runtime/rate_limiter.hpp"
#include "runtime/worker_pool.hpp"
#include "security/audit_log.hpp"
#include "security/sources_file.hpp"

// Private to src/runtime: the state shared by the agent's coroutines. Every
// member is touched on the network thread only, except where noted.

namespace outpost::runtime {

using Clock = std::chrono::steady_clock;

/// Where the agent is in its life. Moves forward only.
enum class AgentPhase {
  kConnecting,  ///< before the first successful connect: a refusal is fatal (exit 3)
  kRunning,     ///< claiming jobs
  kStopping,    ///< SIGTERM/SIGINT or stop(): no new claims, grace for running jobs
  kDone,        ///< exit code set, the io_context is being stopped
};

/// How one job ended, for its `job finished` line and the jobs_total metric.
enum class JobOutcome {
  kSucceeded,  ///< result posted and accepted
  kFailed,     ///< a failure result posted and accepted
  kCancelled,  ///< the control plane cancelled it (or 410): nothing posted
  kStale,      ///< the lease went to another attempt (409): result dropped
  kLost,       ///< the result could not be delivered before the lease expired
  kReleased,   ///< handed back at shutdown
};
std::string_view to_string(JobOutcome outcome) noexcept;

/// One claimed job from claim to result (or release).
struct JobState {
  ClaimedJob claimed;
  PreparedJob prepared;
  std::string lease_token;         ///< the latest token from a renewal
  Clock::time_point lease_expiry;  ///< local estimate: last renewal + lease TTL
  Clock::time_point started;       ///< when the connector started
  Clock::time_point deadline = Clock::time_point::max();  ///< started + effective timeout
  std::string started_at;                                 ///< RFC 3339, for the result
  bool running = false;                                   ///< on a worker now
  bool finished = false;  ///< result posted, job released or given up
  bool released = false;  ///< released at shutdown: post nothing
  /// Set when one of the job's own activities failed unexpectedly (a throw
  /// in the lease keeper): the job is cancelled and finished as `internal`.
  std::optional<std::string> fault;
  /// Why the job is being stopped (first reason wins); the CancelToken below
  /// gets the same reason on the canceller thread, where the connector's hook
  /// may block (PQcancel dials the server).
  CancelReason cancel_reason = CancelReason::kNone;
  CancelToken cancel;                           ///< shared with the worker thread
  std::atomic<std::uint64_t> progress_rows{0};  ///< written by the worker
  Notifier wake;                                ///< wakes the lease keeper

  [[nodiscard]] const std::string& id() const { return claimed.id; }
};

/// Everything the agent's coroutines share.
struct RuntimeState {
  RuntimeState(const config::AgentConfig& cfg, const boost::asio::any_io_executor& ex)
      : config(cfg), executor(ex), limiter(cfg.max_rate, Clock::now()), job_group(ex) {}

  config::AgentConfig config;
  boost::asio::any_io_executor executor;
  std::string instance_id;
  std::string base_url;  ///< the control plane URL without user info or trailing slash
  std::string hostname;
  std::string version;
  Clock::time_point process_start = Clock::now();
  int capacity = 1;

  protocol::Session session;
  std::unique_ptr<control_plane::Client> cp;      ///< every call but claim
  std::unique_ptr<control_plane::Client> claims;  ///< long polls; closed at shutdown
  obs::Metrics* metrics = nullptr;
  obs::Logger log{"runtime"};

  ConnectorRegistry* registry = nullptr;
  const NetworkGuard* guard = nullptr;
  OperatorPolicy policy;  ///< the operator's opt-ins, passed to every connector
  PrepareContext prepare;
  std::shared_ptr<security::SourcesFile> sources;  ///< --sources-file, replaced on SIGHUP
  security::AuditLog* audit = nullptr;             ///< --audit-log (thread safe)
  WorkerPool* workers = nullptr;                   ///< connectors, one thread per running job
  WorkerPool* canceller = nullptr;                 ///< cancel hooks (one thread)
  /// gzips result parts off the workers' path (one thread; it never waits).
  WorkerPool* compressor = nullptr;
  std::atomic<int> busy_workers{0};  ///< connectors running now (any thread)
  int running_jobs = 0;              ///< jobs handed to the workers

  std::map<std::string, std::shared_ptr<JobState>> jobs;
  std::map<std::string, int> running_per_source;
  RateLimiter limiter;

  // Connection state.
  bool connected = false;  ///< a session is established
  bool authorized = true;  ///< false after 401/403 until a connect succeeds
  Clock::time_point last_contact{};
  int consecutive_failures = 0;
  bool claim_loop_alive = false;      ///< cleared by the loop's RAII guard, however it ends
  bool heartbeat_loop_alive = false;  ///< likewise

  // Lifecycle.
  AgentPhase phase = AgentPhase::kConnecting;
  Clock::time_point grace_deadline = Clock::time_point::max();
  std::optional<int> exit_code;
  /// Every running job's task: shutdown emits one cancellation through it.
  JobGroup job_group;
  /// Test-only throw points (inert when empty).
  FaultPoints faults;
  /// Stops the io_context (and the health server) once the agent is done.
  std::function<void()> stop_io;
  /// SIGHUP: reloads the sources file (empty without --sources-file).
  std::function<void()> reload_sources;
  Notifier wake;  ///< capacity freed, connection state changed, shutdown

  /// A control-plane call succeeded.
  void contact() {
    last_contact = Clock::now();
    consecutive_failures = 0;
    if (metrics) metrics->contact();
  }
  [[nodiscard]] bool stopping() const { return phase >= AgentPhase::kStopping; }
  /// Neither stopping nor ended by a fatal error: loops go on.
  [[nodiscard]] bool active() const { return !stopping() && !exit_code; }
  [[nodiscard]] bool ready() const {
    if (!connected || !authorized || stopping()) return false;
    return Clock::now() - last_contact < 3 * config.health_interval;
  }
  [[nodiscard]] int free_slots() const { return capacity - static_cast<int>(jobs.size()); }
};

}  // namespace outpost::runtime
