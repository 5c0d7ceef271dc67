// outpost-soak: a long run of mixed jobs against outpost-hub and two agents
// while faults are injected at random, checking that no job is lost, no
// agent hangs, and neither RSS nor open file descriptors grow. Run by
// scripts/soak.sh; not part of ctest.
//
//   outpost-soak --agent BIN --hub BIN [--minutes N] [--seed N] [--rate JOBS_PER_S]
//                [--fault-gap MIN_S:MAX_S] [--json FILE] [--log-dir DIR]
//
// --fault-gap (default 20:60) shortens the pause between faults for a quick
// check that every kind of fault works.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "soak/soak_cluster.hpp"
#include "soak/soak_faults.hpp"
#include "soak/soak_jobs.hpp"
#include "soak/soak_report.hpp"

namespace outpost::soak {
namespace {

using std::chrono::milliseconds;

struct Options {
  std::string agent, hub, json_path, log_dir = "soak-logs";
  double minutes = 30;
  double rate = 1.5;  // jobs per second, besides the big streams
  double fault_gap_min = 20, fault_gap_max = 60;
  std::uint64_t seed = 0;
  std::string store = "memory";  // memory: one hub; postgres: two hubs on one store
  std::string retain;            // the hubs' --retain, e.g. 2m
  double retain_s = 0;
};

void sleep_s(double s) {
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, s)));
}

/// Samples every 10 s on its own thread until stopped.
class Sampler {
 public:
  explicit Sampler(Cluster& cluster) : cluster_(cluster), thread_([this] { run(); }) {}
  ~Sampler() { stop(); }
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    double next = now_s();
    while (!stopping_) {
      for (const auto& line : cluster_.sample()) std::printf("%s\n", line.c_str());
      std::fflush(stdout);
      next += 10;
      while (!stopping_ && now_s() < next) std::this_thread::sleep_for(milliseconds(100));
    }
  }
  Cluster& cluster_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

int run(const Options& o) {
  std::printf("soak: seed %llu, %.1f min of load at %.2f jobs/s, logs in %s\n",
              static_cast<unsigned long long>(o.seed), o.minutes, o.rate, o.log_dir.c_str());
  std::fflush(stdout);
  Cluster cluster(ClusterOptions{o.agent, o.hub, o.log_dir, 2, 8, o.store, o.retain});
  std::printf("soak: %zu hub(s) on the %s store%s%s\n", cluster.hub_count(), o.store.c_str(),
              o.retain.empty() ? "" : ", --retain ", o.retain.c_str());
  const double t0 = now_s();
  const double load_s = o.minutes * 60;

  GrowthPolicy policy;
  policy.warmup_s = std::min(120.0, 0.10 * load_s);
  // At least 30 s of baseline: three samples, whose median means something.
  policy.baseline_s = std::clamp(0.15 * load_s, 30.0, 180.0);
  policy.load_end_t = t0 + load_s;
  FaultPlan plan;
  plan.seed = o.seed ^ 0x9e3779b97f4a7c15ULL;
  plan.min_gap_s = o.fault_gap_min;
  plan.max_gap_s = o.fault_gap_max;
  plan.last_end_t = policy.load_end_t - 20;
  // A replacement agent must live long enough for its own warm-up, baseline
  // and three end samples before the load stops.
  plan.last_kill_t = policy.load_end_t - (policy.warmup_s + policy.baseline_s + 60);

  Sampler sampler(cluster);
  Ledger ledger(cluster.hub_port(), Cluster::kAdminToken, cluster.pg_source(),
                cluster.sqlite_source(), o.seed);
  FaultInjector faults(cluster, plan);

  std::mt19937_64 rng(o.seed + 1);
  std::exponential_distribution<double> gap(o.rate);
  std::uniform_real_distribution<double> stream_gap(60, 120);
  double next_job = t0, next_stream = t0 + std::uniform_real_distribution<double>(20, 60)(rng);
  double next_poll = t0 + 3, next_progress = t0 + 60;
  while (now_s() < policy.load_end_t) {
    const double t = now_s();
    while (next_job <= t) {
      ledger.submit_random(t);
      next_job += gap(rng);
    }
    if (next_stream <= t) {
      ledger.submit_stream(t);
      next_stream = t + stream_gap(rng);
    }
    ledger.send_due_cancels(t);
    if (next_poll <= t) {
      ledger.poll(t);
      next_poll = t + 3;
    }
    if (next_progress <= t) {
      std::printf("progress t=%6.0fs submitted=%zu unfinished=%zu faults=%zu\n", t,
                  ledger.records().size(), ledger.pending(), faults.events().size());
      std::fflush(stdout);
      next_progress += 60;
    }
    sleep_s(0.05);
  }
  faults.stop();
  std::printf("soak: load stopped at t=%.0fs, draining %zu unfinished jobs\n", now_s(),
              ledger.pending());
  const double drain_deadline = now_s() + 300;
  while (now_s() < drain_deadline) {
    ledger.send_due_cancels(now_s());
    ledger.poll(now_s());
    if (ledger.pending() == 0) break;
    sleep_s(2);
  }
  // Let the pools settle and let the sampler take "after the drain" figures.
  sleep_s(21);
  int orphaned = -1;
  test::eventually(
      [&] {
        orphaned = std::stoi(cluster.pg()
                                 .query_column("SELECT count(*) FROM pg_stat_activity WHERE "
                                               "usename = 'soak' AND state = 'active'")
                                 .at(0));
        return orphaned == 0;
      },
      milliseconds(20'000));
  ledger.final_verify(now_s(), o.retain_s);
  sampler.stop();
  cluster.stop_agents();
  cluster.save_logs();

  Report report;
  report.seed = o.seed;
  report.minutes = o.minutes;
  report.policy = policy;
  report.run_s = now_s();
  report.driver_cpu_s = cpu_seconds(getpid());
  for (std::size_t i = 0; i < cluster.hub_count(); ++i) report.hubs.push_back(cluster.hub_life(i));
  report.store = o.store;
  report.jobs = ledger.records();
  report.faults = faults.events();
  bool growth_rss = true, growth_fds = true, last_checked = true, clean_exit = true;
  int health_failures = 0, health_samples = 0;
  for (std::size_t i = 0; i < cluster.agent_count(); ++i) {
    const auto lives = cluster.lives(i);
    for (std::size_t l = 0; l < lives.size(); ++l) {
      auto v = evaluate_life(cluster.agent_name(i), static_cast<int>(l), lives[l], policy);
      growth_rss = growth_rss && v.rss_ok;
      growth_fds = growth_fds && v.fds_ok;
      if (l + 1 == lives.size()) {
        last_checked = last_checked && v.checked;
        clean_exit = clean_exit && lives[l].exit_status == 0;
      }
      health_failures += v.health_failures;
      health_samples += v.health_samples;
      report.lives.push_back(std::move(v));
    }
  }

  std::size_t unfinished = 0, violations = 0, incomplete = 0, purged = 0;
  std::set<std::string> late_instances;
  for (const auto& r : report.jobs) {
    unfinished += r.status.empty();
    violations += !r.violation.empty();
    incomplete += !r.result_problem.empty();
    purged += r.purged;
    if (r.finished_t >= t0 + 0.75 * load_s && !r.agent_instance.empty()) {
      late_instances.insert(r.agent_instance);
    }
    if (!r.status.empty() && !outcome_expected(r) &&
        !faults.overlaps(r.submitted_t, r.finished_t, 15)) {
      char line[400];
      std::snprintf(line, sizeof line, "%s %s t=%.0f..%.0fs -> %s %s attempt=%d %s", r.id.c_str(),
                    to_string(r.kind), r.submitted_t, r.finished_t, r.status.c_str(),
                    r.error_code.c_str(), r.attempt, r.result_problem.c_str());
      report.unexpected_outside_faults.push_back(line);
    }
  }
  std::size_t fault_errors = 0;
  for (const auto& f : report.faults) fault_errors += !f.error.empty();
  auto add = [&](std::string name, bool ok, std::string detail) {
    report.checks.push_back({std::move(name), ok, std::move(detail)});
  };
  add("every job reached a terminal status", unfinished == 0,
      std::to_string(report.jobs.size()) + " submitted, " + std::to_string(unfinished) +
          " unfinished");
  add("terminal status exactly once", violations == 0,
      std::to_string(violations) + " jobs changed status after finishing, were listed twice or " +
          "went missing; " + std::to_string(purged) + " deleted by --retain after finishing");
  add("succeeded results complete", incomplete == 0,
      std::to_string(incomplete) + " succeeded jobs with missing or extra rows / fields");
  add("expected outcome away from faults", report.unexpected_outside_faults.empty(),
      std::to_string(report.unexpected_outside_faults.size()) +
          " jobs not overlapping any fault window (+15 s) ended unexpectedly");
  add("/healthz answered while alive", health_failures == 0,
      std::to_string(health_samples - health_failures) + "/" + std::to_string(health_samples) +
          " samples answered 200");
  add("every agent kept taking jobs", late_instances.size() >= cluster.agent_count(),
      std::to_string(late_instances.size()) +
          " agent instances finished jobs in the last quarter of the load");
  const std::string too_short = "a current agent life was too short to measure (run longer)";
  add("RSS growth within bounds", growth_rss && last_checked,
      last_checked ? "every measured agent life" : too_short);
  add("open fd growth within bounds", growth_fds && last_checked,
      last_checked ? "end <= start + " + std::to_string(policy.fd_slack) : too_short);
  add("faults applied", fault_errors == 0 && !report.faults.empty(),
      std::to_string(report.faults.size()) + " injected, " + std::to_string(fault_errors) +
          " failed to apply");
  add("clean SIGTERM shutdown", clean_exit, "every current agent exited 0 after SIGTERM");
  add("no database session left running", orphaned == 0,
      std::to_string(orphaned) + " active agent sessions after the drain");
  add("admin API answered", ledger.admin_errors() == 0,
      std::to_string(ledger.admin_errors()) + " admin call failures");
  report.print();
  for (const auto& p : ledger.problems()) std::printf("admin problem: %s\n", p.c_str());
  if (!o.json_path.empty()) std::ofstream(o.json_path) << report.to_json().dump(1) << "\n";
  return report.passed() ? 0 : 1;
}

}  // namespace
}  // namespace outpost::soak

int main(int argc, char** argv) {
  outpost::soak::Options o;
  o.seed = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count() &
                                      0xffffffff);
  const char* usage =
      "usage: outpost-soak --agent BIN --hub BIN [--minutes N] [--seed N] [--rate JOBS_PER_S] "
      "[--fault-gap MIN_S:MAX_S] [--json FILE] [--log-dir DIR] [--store memory|postgres] "
      "[--retain DURATION (s, m or h)]";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << usage << "\n";
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "outpost-soak: " << a << " needs a value\n" << usage << "\n";
      return 2;
    }
    const std::string value = argv[++i];
    try {
      if (a == "--agent") {
        o.agent = value;
      } else if (a == "--hub") {
        o.hub = value;
      } else if (a == "--minutes") {
        o.minutes = std::stod(value);
      } else if (a == "--seed") {
        o.seed = std::stoull(value);
      } else if (a == "--rate") {
        o.rate = std::stod(value);
      } else if (a == "--fault-gap") {
        const auto colon = value.find(':');
        o.fault_gap_min = std::stod(value.substr(0, colon));
        o.fault_gap_max =
            colon == std::string::npos ? o.fault_gap_min : std::stod(value.substr(colon + 1));
      } else if (a == "--json") {
        o.json_path = value;
      } else if (a == "--log-dir") {
        o.log_dir = value;
      } else if (a == "--store") {
        if (value != "memory" && value != "postgres") throw std::invalid_argument(value);
        o.store = value;
      } else if (a == "--retain") {
        // The hub parses it; the driver needs it in seconds for the final check.
        const double n = std::stod(value);
        const char unit = value.back();
        o.retain_s = unit == 'h' ? n * 3600 : unit == 'm' ? n * 60 : n;
        if (!(o.retain_s > 0) || (unit != 's' && unit != 'm' && unit != 'h')) {
          throw std::invalid_argument(value);
        }
        o.retain = value;
      } else {
        std::cerr << "outpost-soak: unknown argument " << a << "\n" << usage << "\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "outpost-soak: bad value for " << a << ": " << value << "\n";
      return 2;
    }
  }
  if (o.agent.empty() || o.hub.empty()) {
    std::cerr << "outpost-soak: --agent and --hub are required\n" << usage << "\n";
    return 2;
  }
  if (!(o.minutes >= 2) || !(o.rate > 0 && o.rate <= 50) || !(o.fault_gap_min >= 1) ||
      !(o.fault_gap_max >= o.fault_gap_min)) {
    std::cerr << "outpost-soak: --minutes must be >= 2, --rate in (0, 50], --fault-gap MIN:MAX "
                 "with 1 <= MIN <= MAX\n";
    return 2;
  }
  try {
    return outpost::soak::run(o);
  } catch (const std::exception& e) {
    std::cerr << "outpost-soak: " << e.what() << "\n";
    return 1;
  }
}
