#include "soak/soak_report.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace outpost::soak {
namespace {

using nlohmann::json;

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double mib(double kib) {
  return kib / 1024.0;
}

double max_rss(const Life& life) {
  std::uint64_t m = 0;
  for (const auto& s : life.samples) m = std::max(m, s.rss_kib);
  return static_cast<double>(m);
}

}  // namespace

LifeVerdict evaluate_life(const std::string& agent, int index, const Life& life,
                          const GrowthPolicy& p) {
  LifeVerdict v;
  v.agent = agent;
  v.life = index;
  v.data = life;
  const auto& samples = life.samples;
  if (samples.empty()) {
    v.why_not = "no samples";
    return v;
  }
  v.first_rss_kib = static_cast<double>(samples.front().rss_kib);
  v.first_fds = samples.front().fds;
  const double base_from = life.started_t + p.warmup_s;
  const double base_to = base_from + p.baseline_s;
  std::vector<double> base_rss, base_fds;
  std::vector<const Sample*> load;
  for (const auto& s : samples) {
    v.max_rss_kib = std::max(v.max_rss_kib, static_cast<double>(s.rss_kib));
    v.max_fds = std::max(v.max_fds, static_cast<double>(s.fds));
    ++v.health_samples;
    if (s.healthz != 200) ++v.health_failures;
    if (s.t >= base_from && s.t <= base_to) {
      base_rss.push_back(static_cast<double>(s.rss_kib));
      base_fds.push_back(s.fds);
    }
    if (s.t <= p.load_end_t) load.push_back(&s);
    if (s.t > p.load_end_t) {
      v.drained_rss_kib = static_cast<double>(s.rss_kib);
      v.drained_fds = s.fds;
    }
  }
  const double end_t = life.ended_t >= 0 ? life.ended_t : samples.back().t;
  if (end_t > life.started_t && samples.back().t - life.started_t >= 10) {
    v.cpu_percent = 100.0 * samples.back().cpu_s / (samples.back().t - life.started_t);
  }
  {
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& s : samples) {
      if (s.t < base_from || s.t > p.load_end_t) continue;
      const double x = s.t / 60.0, y = static_cast<double>(s.rss_kib);
      n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    if (n >= 3 && n * sxx - sx * sx > 0) {
      v.rss_trend_kib_per_min = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    }
  }
  std::vector<double> end_rss, end_fds;
  for (std::size_t i = load.size() >= 3 ? load.size() - 3 : 0; i < load.size(); ++i) {
    if (load[i]->t <= base_to) continue;
    end_rss.push_back(static_cast<double>(load[i]->rss_kib));
    end_fds.push_back(load[i]->fds);
  }
  if (base_rss.size() < 2 || end_rss.size() < 3) {
    v.why_not = "life too short for a baseline and an end (" + std::to_string(base_rss.size()) +
                " baseline / " + std::to_string(end_rss.size()) + " end samples)";
    return v;
  }
  v.checked = true;
  v.start_rss_kib = median(base_rss);
  v.end_rss_kib = median(end_rss);
  v.rss_limit_kib = std::max(v.start_rss_kib * p.rss_ratio, v.start_rss_kib + p.rss_abs_kib);
  v.rss_ok = v.end_rss_kib <= v.rss_limit_kib;
  v.start_fds = median(base_fds);
  v.end_fds = median(end_fds);
  v.fd_limit = v.start_fds + p.fd_slack;
  v.fds_ok = v.end_fds <= v.fd_limit;
  return v;
}

bool outcome_expected(const JobRecord& r) {
  switch (r.kind) {
    case JobKind::kPgTimeout:
    case JobKind::kLiteTimeout: return r.status == "failed" && r.error_code == "timeout";
    case JobKind::kPgCancel:
    case JobKind::kLiteCancel:
      // A cancel that lost the race with the job's end (409) leaves any outcome.
      return r.cancel_http != 202 || r.status == "cancelled";
    default: return r.status == "succeeded" && r.result_problem.empty();
  }
}

bool Report::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const Check& c) { return c.ok; });
}

void Report::print() const {
  std::printf("\n==== soak summary: seed %llu, %.1f min of load, %.0f s in all\n",
              static_cast<unsigned long long>(seed), minutes, run_s);
  std::printf(
      "growth rule: end RSS (median of the last 3 samples under load) <= max(start x %.2f, "
      "start + %.0f MiB), start = median of the %.0f s after a %.0f s warm-up of each agent "
      "life; end fds <= start fds + %d\n\n",
      policy.rss_ratio, mib(policy.rss_abs_kib), policy.baseline_s, policy.warmup_s,
      policy.fd_slack);
  std::printf("%-8s %4s %7s %7s %7s | %8s %8s %8s %8s %8s %8s | %5s %5s %5s %5s %5s | %7s %5s %s\n",
              "agent", "life", "pid", "from s", "to s", "RSS MiB:", "first", "start", "end", "max",
              "limit", "fds:", "start", "end", "max", "limit", "healthz", "cpu%", "verdict");
  for (const auto& v : lives) {
    const double to = v.data.ended_t >= 0 ? v.data.ended_t : run_s;
    std::string verdict = v.checked ? (v.rss_ok && v.fds_ok ? "ok" : "GROWTH") : "not checked";
    if (v.checked && !v.rss_ok) verdict += " rss";
    if (v.checked && !v.fds_ok) verdict += " fds";
    std::printf(
        "%-8s %4d %7d %7.0f %7.0f | %8s %8.1f %8.1f %8.1f %8.1f %8.1f | %5s %5.0f %5.0f %5.0f "
        "%5.0f "
        "| %3d/%-3d %5.1f %s%s%s\n",
        v.agent.c_str(), v.life, static_cast<int>(v.data.pid), v.data.started_t, to, "",
        mib(v.first_rss_kib), mib(v.start_rss_kib), mib(v.end_rss_kib), mib(v.max_rss_kib),
        mib(v.rss_limit_kib), "", v.start_fds, v.end_fds, v.max_fds, v.fd_limit,
        v.health_samples - v.health_failures, v.health_samples, v.cpu_percent, verdict.c_str(),
        v.why_not.empty() ? "" : ": ", v.why_not.c_str());
    if (v.checked) {
      std::printf("%-8s      RSS trend after warm-up: %+.0f KiB/min", "", v.rss_trend_kib_per_min);
      if (v.drained_rss_kib > 0) {
        std::printf("; after the drain: RSS %.1f MiB, %.0f fds", mib(v.drained_rss_kib),
                    v.drained_fds);
      }
      std::printf("\n");
    }
  }
  for (std::size_t i = 0; i < hubs.size(); ++i) {
    const Life& hub = hubs[i];
    if (hub.samples.empty()) continue;
    // Least-squares RSS slope over the samples after the agents' warm-up.
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (const auto& s : hub.samples) {
      if (s.t < policy.warmup_s || s.t > policy.load_end_t) continue;
      const double x = s.t / 60.0, y = static_cast<double>(s.rss_kib);
      n += 1, sx += x, sy += y, sxx += x * x, sxy += x * y;
    }
    const double slope = n >= 3 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : 0;
    std::printf(
        "%s (%s store): RSS %.1f -> %.1f MiB (max %.1f), trend after warm-up %+.0f KiB/min, "
        "fds %d -> %d, cpu %.1f%%\n",
        hubs.size() == 1 ? "hub" : (i == 0 ? "hub-a" : "hub-b"), store.c_str(),
        mib(static_cast<double>(hub.samples.front().rss_kib)),
        mib(static_cast<double>(hub.samples.back().rss_kib)), mib(max_rss(hub)), slope,
        hub.samples.front().fds, hub.samples.back().fds, 100.0 * hub.samples.back().cpu_s / run_s);
  }
  std::printf("driver cpu %.1f%%\n", 100.0 * driver_cpu_s / run_s);

  std::map<std::string, std::map<std::string, int>> by_kind;
  for (const auto& r : jobs) {
    std::string s = r.status.empty() ? "NOT FINISHED" : r.status;
    if (!r.error_code.empty() && r.status == "failed") s += ":" + r.error_code;
    ++by_kind[to_string(r.kind)][s];
  }
  std::printf("\njobs (%zu submitted)\n", jobs.size());
  for (const auto& [kind, statuses] : by_kind) {
    std::printf("  %-24s", kind.c_str());
    for (const auto& [status, n] : statuses) std::printf(" %s=%d", status.c_str(), n);
    std::printf("\n");
  }
  std::map<std::string, std::pair<int, double>> by_fault;
  for (const auto& f : faults) {
    auto& [n, secs] = by_fault[to_string(f.kind)];
    ++n;
    secs += f.end_t - f.start_t;
  }
  std::printf("\nfaults (%zu injected)\n", faults.size());
  for (const auto& [kind, agg] : by_fault) {
    std::printf("  %-24s %3d  %6.1f s in all\n", kind.c_str(), agg.first, agg.second);
  }
  if (!unexpected_outside_faults.empty()) {
    std::printf("\nunexpected outcomes away from any fault window:\n");
    for (const auto& line : unexpected_outside_faults) std::printf("  %s\n", line.c_str());
  }
  std::printf("\nchecks\n");
  for (const auto& c : checks) {
    std::printf("  [%s] %-40s %s\n", c.ok ? " ok " : "FAIL", c.name.c_str(), c.detail.c_str());
  }
  std::printf("\nsoak %s\n", passed() ? "PASSED" : "FAILED");
  std::fflush(stdout);
}

json Report::to_json() const {
  auto samples_json = [](const Life& life) {
    json out = json::array();
    for (const auto& s : life.samples) {
      out.push_back({{"t", s.t},
                     {"rss_kib", s.rss_kib},
                     {"fds", s.fds},
                     {"healthz", s.healthz},
                     {"readyz", s.readyz},
                     {"cpu_s", s.cpu_s}});
    }
    return out;
  };
  json hubs_json = json::array();
  for (const auto& hub : hubs) {
    hubs_json.push_back(
        {{"pid", hub.pid}, {"exit_status", hub.exit_status}, {"samples", samples_json(hub)}});
  }
  json agents = json::array();
  for (const auto& v : lives) {
    agents.push_back({{"agent", v.agent},
                      {"life", v.life},
                      {"pid", v.data.pid},
                      {"started_t", v.data.started_t},
                      {"ended_t", v.data.ended_t},
                      {"end_reason", v.data.end_reason},
                      {"exit_status", v.data.exit_status},
                      {"checked", v.checked},
                      {"why_not_checked", v.why_not},
                      {"rss_kib",
                       {{"first", v.first_rss_kib},
                        {"start", v.start_rss_kib},
                        {"end", v.end_rss_kib},
                        {"max", v.max_rss_kib},
                        {"limit", v.rss_limit_kib},
                        {"after_drain", v.drained_rss_kib},
                        {"ok", v.rss_ok}}},
                      {"fds",
                       {{"first", v.first_fds},
                        {"start", v.start_fds},
                        {"end", v.end_fds},
                        {"max", v.max_fds},
                        {"limit", v.fd_limit},
                        {"after_drain", v.drained_fds},
                        {"ok", v.fds_ok}}},
                      {"healthz", {{"samples", v.health_samples}, {"failures", v.health_failures}}},
                      {"cpu_percent", v.cpu_percent},
                      {"rss_trend_kib_per_min", v.rss_trend_kib_per_min},
                      {"samples", samples_json(v.data)}});
  }
  std::map<std::string, std::map<std::string, int>> counts;
  for (const auto& r : jobs) {
    std::string s = r.status.empty() ? "not_finished" : r.status;
    if (!r.error_code.empty() && r.status == "failed") s += ":" + r.error_code;
    ++counts[to_string(r.kind)][s];
  }
  const json by_kind = counts;
  json fault_list = json::array();
  for (const auto& f : faults) {
    fault_list.push_back({{"kind", to_string(f.kind)},
                          {"start_t", f.start_t},
                          {"end_t", f.end_t},
                          {"detail", f.detail},
                          {"error", f.error}});
  }
  json check_list = json::array();
  for (const auto& c : checks) {
    check_list.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
  }
  return {{"seed", seed},
          {"minutes", minutes},
          {"run_s", run_s},
          {"policy",
           {{"warmup_s", policy.warmup_s},
            {"baseline_s", policy.baseline_s},
            {"load_end_t", policy.load_end_t},
            {"rss_ratio", policy.rss_ratio},
            {"rss_abs_kib", policy.rss_abs_kib},
            {"fd_slack", policy.fd_slack}}},
          {"agents", agents},
          {"store", store},
          {"hubs", hubs_json},
          {"driver_cpu_s", driver_cpu_s},
          {"jobs",
           {{"submitted", jobs.size()},
            {"by_kind", by_kind},
            {"unexpected_outside_faults", unexpected_outside_faults}}},
          {"faults", fault_list},
          {"checks", check_list},
          {"passed", passed()}};
}

}  // namespace outpost::soak
