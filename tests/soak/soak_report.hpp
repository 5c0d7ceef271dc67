#pragma once

// The soak's verdicts: growth of each agent life's RSS and open fds, job
// outcomes by kind, faults by kind, and the printed / JSON summary.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "soak/soak_cluster.hpp"
#include "soak/soak_faults.hpp"
#include "soak/soak_jobs.hpp"

namespace outpost::soak {

struct GrowthPolicy {
  double warmup_s = 120;      ///< samples before this (from a life's start) are ignored
  double baseline_s = 180;    ///< the window after warm-up whose median is "start"
  double load_end_t = 0;      ///< "end" = median of the last 3 samples before this
  double rss_ratio = 1.20;    ///< end RSS may be this times start ...
  double rss_abs_kib = 8192;  ///< ... or start + this, whichever is larger
  int fd_slack = 12;          ///< end fds may be start + this
};

/// One agent life measured against the policy.
struct LifeVerdict {
  std::string agent;
  int life = 0;
  Life data;
  bool checked = false;  ///< long enough to have a baseline and an end
  std::string why_not;   ///< when not checked
  double start_rss_kib = 0, end_rss_kib = 0, max_rss_kib = 0, rss_limit_kib = 0;
  double first_rss_kib = 0, drained_rss_kib = 0;
  double start_fds = 0, end_fds = 0, max_fds = 0, fd_limit = 0;
  double first_fds = 0, drained_fds = 0;
  int health_samples = 0, health_failures = 0;
  double cpu_percent = 0;  ///< of one core, over the life
  /// Least-squares slope of RSS after warm-up, under load (KiB per minute):
  /// reported, not checked — it shows a slow leak before the bound does.
  double rss_trend_kib_per_min = 0;
  bool rss_ok = true, fds_ok = true;
};

LifeVerdict evaluate_life(const std::string& agent, int index, const Life& life,
                          const GrowthPolicy& policy);

/// The expected outcome of a job, given what the driver did to it.
bool outcome_expected(const JobRecord& r);

struct Check {
  std::string name;
  bool ok = false;
  std::string detail;
};

struct Report {
  std::uint64_t seed = 0;
  double minutes = 0;
  GrowthPolicy policy;
  std::vector<LifeVerdict> lives;
  std::vector<Life> hubs;  ///< one (memory store) or two (hub A, hub B on PostgreSQL)
  std::string store = "memory";
  double driver_cpu_s = 0;
  double run_s = 0;
  std::vector<JobRecord> jobs;
  std::vector<FaultEvent> faults;
  std::vector<std::string> unexpected_outside_faults;  ///< one line per job
  std::vector<Check> checks;

  [[nodiscard]] bool passed() const;
  void print() const;
  [[nodiscard]] nlohmann::json to_json() const;
};

}  // namespace outpost::soak
