#pragma once

// Random fault injection for the soak run: every 20-60 s (seeded) one fault,
// held for a few seconds, then undone. Kinds are drawn from a shuffled deck
// so every kind comes up equally often over a long run.

#include <atomic>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "soak/soak_cluster.hpp"

namespace outpost::soak {

enum class FaultKind {
  kHubLatency,    ///< latency on both agents' hub links
  kHubCut,        ///< cut one agent's hub connections and refuse new ones for a while
  kHubBlackhole,  ///< one agent's hub link swallows everything (up to past the lease TTL)
  kHubBandwidth,  ///< both hub links throttled
  kPgCut,         ///< cut the agents' PostgreSQL connections, refuse new ones for a while
  kPgBlackhole,   ///< PostgreSQL link swallows everything
  kPgTerminate,   ///< pg_terminate_backend of every agent session
  kAgentKill,     ///< SIGKILL one agent, start a replacement
};
inline constexpr int kFaultKinds = 8;
const char* to_string(FaultKind kind);

struct FaultEvent {
  FaultKind kind = FaultKind::kHubLatency;
  double start_t = 0;
  double end_t = 0;
  std::string detail;
  std::string error;  ///< non-empty when the fault could not be applied or undone
};

struct FaultPlan {
  std::uint64_t seed = 0;
  double min_gap_s = 20;
  double max_gap_s = 60;
  double last_end_t = 0;   ///< no fault is active after this (load still runs)
  double last_kill_t = 0;  ///< no SIGKILL after this, so the replacement's growth is measurable
};

class FaultInjector {
 public:
  FaultInjector(Cluster& cluster, FaultPlan plan);
  ~FaultInjector();
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  /// Stops injecting (an active fault is undone first) and joins the thread.
  void stop();
  [[nodiscard]] std::vector<FaultEvent> events() const;
  /// True when [t0, t1] meets any fault window extended by `grace_s`.
  [[nodiscard]] bool overlaps(double t0, double t1, double grace_s) const;

 private:
  void run();
  bool sleep_until(double t);  // false when stopping
  FaultKind draw(double t);
  void apply(FaultEvent& e);

  Cluster& cluster_;
  FaultPlan plan_;
  std::mt19937_64 rng_;
  std::vector<FaultKind> deck_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  std::vector<FaultEvent> events_;
  std::thread thread_;
};

}  // namespace outpost::soak
