#include "soak/soak_faults.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>

namespace outpost::soak {
namespace {

using std::chrono::milliseconds;

constexpr double kOpen = std::numeric_limits<double>::infinity();

}  // namespace

const char* to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::kHubLatency: return "hub_latency";
    case FaultKind::kHubCut: return "hub_cut";
    case FaultKind::kHubBlackhole: return "hub_blackhole";
    case FaultKind::kHubBandwidth: return "hub_bandwidth";
    case FaultKind::kPgCut: return "pg_cut";
    case FaultKind::kPgBlackhole: return "pg_blackhole";
    case FaultKind::kPgTerminate: return "pg_terminate_backend";
    case FaultKind::kAgentKill: return "agent_sigkill_restart";
  }
  return "?";
}

FaultInjector::FaultInjector(Cluster& cluster, FaultPlan plan)
    : cluster_(cluster), plan_(plan), rng_(plan.seed) {
  thread_ = std::thread([this] { run(); });
}

FaultInjector::~FaultInjector() {
  stop();
}

void FaultInjector::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

std::vector<FaultEvent> FaultInjector::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

bool FaultInjector::overlaps(double t0, double t1, double grace_s) const {
  std::lock_guard lock(mu_);
  return std::any_of(events_.begin(), events_.end(), [&](const FaultEvent& e) {
    return e.start_t <= t1 && t0 <= e.end_t + grace_s;
  });
}

bool FaultInjector::sleep_until(double t) {
  while (!stopping_ && now_s() < t) std::this_thread::sleep_for(milliseconds(100));
  return !stopping_;
}

FaultKind FaultInjector::draw(double t) {
  for (int tries = 0; tries < 2 * kFaultKinds; ++tries) {
    if (deck_.empty()) {
      for (int k = 0; k < kFaultKinds; ++k) deck_.push_back(static_cast<FaultKind>(k));
      std::shuffle(deck_.begin(), deck_.end(), rng_);
    }
    const FaultKind k = deck_.back();
    deck_.pop_back();
    if (k != FaultKind::kAgentKill || t <= plan_.last_kill_t) return k;
  }
  return FaultKind::kHubLatency;
}

void FaultInjector::run() {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  };
  double next = now_s() + uniform(plan_.min_gap_s, plan_.max_gap_s);
  // A fault lasts at most ~15 s: start one only if it ends before last_end_t.
  while (next + 15 < plan_.last_end_t && sleep_until(next)) {
    FaultEvent e;
    e.kind = draw(now_s());
    e.start_t = now_s();
    e.end_t = kOpen;
    std::size_t index = 0;
    {
      std::lock_guard lock(mu_);
      events_.push_back(e);
      index = events_.size() - 1;
    }
    apply(e);
    e.end_t = now_s();
    std::printf("fault t=%6.0fs %-22s %5.1fs  %s%s%s\n", e.start_t, to_string(e.kind),
                e.end_t - e.start_t, e.detail.c_str(),
                e.error.empty() ? "" : "  ERROR: ", e.error.c_str());
    std::fflush(stdout);
    {
      std::lock_guard lock(mu_);
      events_[index] = e;
    }
    next = now_s() + uniform(plan_.min_gap_s, plan_.max_gap_s);
  }
}

void FaultInjector::apply(FaultEvent& e) {
  auto uniform = [&](double lo, double hi) {
    return std::uniform_real_distribution<double>(lo, hi)(rng_);
  };
  const std::size_t agents = cluster_.agent_count();
  const std::size_t one = std::uniform_int_distribution<std::size_t>(0, agents - 1)(rng_);
  char detail[160];
  // Held faults are always undone, also when stop() interrupts them.
  auto hold = [&](double seconds) { sleep_until(now_s() + seconds); };
  switch (e.kind) {
    case FaultKind::kHubLatency: {
      const int ms = static_cast<int>(uniform(100, 600));
      const double secs = uniform(4, 10);
      std::snprintf(detail, sizeof detail, "%d ms on every hub link for %.1f s", ms, secs);
      for (std::size_t i = 0; i < agents; ++i) cluster_.hub_proxy(i).set_latency(milliseconds(ms));
      hold(secs);
      for (std::size_t i = 0; i < agents; ++i) cluster_.hub_proxy(i).set_latency(milliseconds(0));
      break;
    }
    case FaultKind::kHubCut: {
      const double secs = uniform(2, 5);
      std::snprintf(detail, sizeof detail, "%s: connections cut, new ones refused for %.1f s",
                    cluster_.agent_name(one).c_str(), secs);
      auto& proxy = cluster_.hub_proxy(one);
      proxy.set_refuse(true);
      proxy.cut_all();
      hold(secs);
      proxy.set_refuse(false);
      break;
    }
    case FaultKind::kHubBlackhole: {
      const double secs = uniform(3, 14);  // sometimes past the 10 s lease TTL
      std::snprintf(detail, sizeof detail, "%s: hub link black-holed for %.1f s",
                    cluster_.agent_name(one).c_str(), secs);
      auto& proxy = cluster_.hub_proxy(one);
      proxy.set_blackhole(true);
      hold(secs);
      proxy.set_blackhole(false);
      // What was swallowed left those connections out of step: cut them, as
      // a partition's end would (the agent must reconnect, not hang).
      proxy.cut_all();
      break;
    }
    case FaultKind::kHubBandwidth: {
      const auto bps = static_cast<std::uint64_t>(uniform(16, 64)) * 1024;
      const double secs = uniform(5, 10);
      std::snprintf(detail, sizeof detail, "%llu KiB/s on every hub link for %.1f s",
                    static_cast<unsigned long long>(bps / 1024), secs);
      for (std::size_t i = 0; i < agents; ++i) cluster_.hub_proxy(i).set_bandwidth(bps);
      hold(secs);
      for (std::size_t i = 0; i < agents; ++i) cluster_.hub_proxy(i).set_bandwidth(0);
      break;
    }
    case FaultKind::kPgCut: {
      const double secs = uniform(2, 5);
      std::snprintf(detail, sizeof detail, "PostgreSQL connections cut, refused for %.1f s", secs);
      cluster_.pg_proxy().set_refuse(true);
      cluster_.pg_proxy().cut_all();
      hold(secs);
      cluster_.pg_proxy().set_refuse(false);
      break;
    }
    case FaultKind::kPgBlackhole: {
      const double secs = uniform(3, 8);
      std::snprintf(detail, sizeof detail, "PostgreSQL link black-holed for %.1f s", secs);
      cluster_.pg_proxy().set_blackhole(true);
      hold(secs);
      cluster_.pg_proxy().set_blackhole(false);
      cluster_.pg_proxy().cut_all();
      break;
    }
    case FaultKind::kPgTerminate: {
      std::string n = "?";
      try {
        n = cluster_.pg()
                .query_column(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE "
                    "usename = 'soak'")
                .at(0);
      } catch (const std::exception& ex) {
        e.error = ex.what();
      }
      std::snprintf(detail, sizeof detail, "%s agent sessions terminated", n.c_str());
      break;
    }
    case FaultKind::kAgentKill: {
      const int down_ms = static_cast<int>(uniform(1000, 3000));
      std::snprintf(detail, sizeof detail, "%s SIGKILLed, replacement started after %d ms",
                    cluster_.agent_name(one).c_str(), down_ms);
      std::string error;
      if (!cluster_.kill_and_restart(one, down_ms, error)) e.error = error.substr(0, 2000);
      break;
    }
  }
  e.detail = detail;
}

}  // namespace outpost::soak
