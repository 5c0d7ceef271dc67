// outpost-hub-bench: measures outpost-hub itself over HTTP, with N claimer
// threads on keep-alive connections standing in for agents, against a
// throwaway PostgreSQL on loopback (docs/benchmarks.md, "The hub").
//
//   outpost-hub-bench --hub BIN [--jobs N] [--claimers N] [--capacity N]
//                     [--wakeups N] [--rss-jobs N] [--json FILE] [--quick]
//                     [--only throughput|wakeup|rss]...
//
// Scenarios, all in one run on the same machine:
//   throughput  claim+result jobs/s of one hub on the memory store, one hub
//               on PostgreSQL, two hubs on PostgreSQL; hub and PostgreSQL
//               CPU seconds per 1,000 jobs (/proc/PID/stat utime+stime)
//   wakeup      a claimer long-polls hub B, a job is created on hub A: time
//               from sending the create to the claim's answer (p50/p99)
//   rss         hub RSS while 100,000 jobs pass through with --retain 10s,
//               memory store and PostgreSQL store
// No figure is asserted: this prints them (and writes JSON) for the docs.

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <thread>

#include "hub_bench_support.hpp"

namespace outpost::bench::hub {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

struct Options {
  std::string hub;
  std::uint64_t jobs = 20'000;
  int claimers = 8;
  int capacity = 4;
  int wakeups = 50;
  std::uint64_t rss_jobs = 100'000;
  std::string json_path;
  std::vector<std::string> only;
  [[nodiscard]] bool wants(const std::string& s) const {
    return only.empty() || std::find(only.begin(), only.end(), s) != only.end();
  }
};

struct Env {
  const Options& options;
  test::PostgresServer& pg;
  test::TempDir dir;
  int databases = 0;
  std::unique_ptr<StoreDb> fresh_db() {
    return std::make_unique<StoreDb>(pg, "bench" + std::to_string(++databases),
                                     dir.path().string());
  }
  [[nodiscard]] std::string data_dir() const { return (pg.dir() / "data").string(); }
};

Json throughput_case(Env& env, const std::string& label, int hub_count, bool postgres) {
  auto db = postgres ? env.fresh_db() : nullptr;
  std::vector<std::unique_ptr<Hub>> owned;
  std::vector<const Hub*> hubs;
  for (int i = 0; i < hub_count; ++i) {
    owned.push_back(std::make_unique<Hub>(env.options.hub, env.dir.path().string(), db.get()));
    hubs.push_back(owned.back().get());
  }
  const std::string token = create_token(*hubs[0]->client(kAdminToken), "bench-" + label);
  const auto create_start = SteadyClock::now();
  create_jobs(hubs, env.options.jobs, 4);
  const double create_s = std::chrono::duration<double>(SteadyClock::now() - create_start).count();

  double hub_cpu0 = 0;
  for (const Hub* h : hubs) hub_cpu0 += cpu_seconds(h->pid());
  const double pg_cpu0 = postgres_cpu_seconds(env.data_dir());
  const double wall =
      drain(hubs, token, env.options.jobs, env.options.claimers, env.options.capacity);
  double hub_cpu = -hub_cpu0;
  for (const Hub* h : hubs) hub_cpu += cpu_seconds(h->pid());
  const double pg_cpu = postgres_cpu_seconds(env.data_dir()) - pg_cpu0;
  const double jobs = static_cast<double>(env.options.jobs);
  Json j{{"case", label},
         {"hubs", hub_count},
         {"store", postgres ? "postgres" : "memory"},
         {"jobs", env.options.jobs},
         {"claimers", env.options.claimers},
         {"capacity", env.options.capacity},
         {"create_jobs_per_s", jobs / create_s},
         {"jobs_per_s", jobs / wall},
         {"wall_s", wall},
         {"hub_cpu_ms_per_1000_jobs", hub_cpu * 1e6 / jobs},
         {"postgres_cpu_ms_per_1000_jobs", pg_cpu * 1e6 / jobs},
         {"postgres_cpu_share", hub_cpu + pg_cpu > 0 ? pg_cpu / (hub_cpu + pg_cpu) : 0.0}};
  std::printf(
      "  %-22s %9.0f jobs/s  (create %6.0f/s)  hub CPU %6.1f ms/1000 jobs  "
      "PostgreSQL CPU %6.1f ms/1000 jobs (%2.0f%% of the two)\n",
      label.c_str(), j["jobs_per_s"].get<double>(), j["create_jobs_per_s"].get<double>(),
      j["hub_cpu_ms_per_1000_jobs"].get<double>(), j["postgres_cpu_ms_per_1000_jobs"].get<double>(),
      100 * j["postgres_cpu_share"].get<double>());
  std::fflush(stdout);
  return j;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1))];
}

Json wakeup_case(Env& env) {
  auto db = env.fresh_db();
  Hub a(env.options.hub, env.dir.path().string(), db.get());
  Hub b(env.options.hub, env.dir.path().string(), db.get());
  auto admin_a = a.client(kAdminToken);
  const std::string token = create_token(*admin_a, "bench-wakeup");
  auto agent_b = b.client(token);
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Type", "application/json"}, {"X-Outpost-Instance", "bench-wakeup"}};
  const std::string claim_body =
      Json{{"instance_id", "bench-wakeup"}, {"capacity", 1}, {"wait_ms", 10'000}}.dump();
  std::vector<double> ms;
  for (int i = 0; i < env.options.wakeups; ++i) {
    test::HttpResponse answer;
    SteadyClock::time_point answered;
    std::thread poller([&] {
      answer = agent_b->request("POST", "/api/v1/agent/jobs/claim", claim_body, headers, 30s);
      answered = SteadyClock::now();
    });
    std::this_thread::sleep_for(150ms);  // let the long poll park on hub B
    const auto sent = SteadyClock::now();
    create_job(*admin_a);
    poller.join();
    auto jobs = Json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !jobs.is_object() || jobs.value("jobs", Json::array()).empty()) {
      throw std::runtime_error("wake-up round " + std::to_string(i) + ": HTTP " +
                               std::to_string(answer.status) + " " + answer.body);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(answered - sent).count());
    const auto& job = jobs["jobs"][0];
    Json result{{"lease_token", job["lease"]["token"]},
                {"status", "succeeded"},
                {"parts", 0},
                {"result", {{"columns", Json::array()}, {"truncated", false}}}};
    agent_b->request("POST", "/api/v1/agent/jobs/" + job["id"].get<std::string>() + "/result",
                     result.dump(), headers, 30s);
  }
  Json j{{"rounds", ms.size()},
         {"p50_ms", percentile(ms, 50)},
         {"p99_ms", percentile(ms, 99)},
         {"max_ms", *std::max_element(ms.begin(), ms.end())}};
  std::printf(
      "  long poll on hub B, job created on hub A: p50 %.1f ms, p99 %.1f ms, max %.1f ms "
      "(%zu rounds)\n",
      j["p50_ms"].get<double>(), j["p99_ms"].get<double>(), j["max_ms"].get<double>(), ms.size());
  std::fflush(stdout);
  return j;
}

Json rss_case(Env& env, bool postgres) {
  auto db = postgres ? env.fresh_db() : nullptr;
  Hub hub(env.options.hub, env.dir.path().string(), db.get(), {"--retain", "10s"});
  const std::vector<const Hub*> hubs{&hub};
  const std::string token = create_token(*hub.client(kAdminToken), "bench-rss");
  const std::uint64_t chunk = std::max<std::uint64_t>(env.options.rss_jobs / 10, 1);
  Json samples = Json::array();
  samples.push_back({{"jobs", 0}, {"rss_kib", rss_kib(hub.pid())}});
  for (std::uint64_t done = 0; done < env.options.rss_jobs; done += chunk) {
    create_jobs(hubs, chunk, 4);
    drain(hubs, token, chunk, env.options.claimers, env.options.capacity);
    samples.push_back({{"jobs", done + chunk}, {"rss_kib", rss_kib(hub.pid())}});
  }
  const long first = samples[1]["rss_kib"], last = samples.back()["rss_kib"];
  long peak = 0;
  for (const auto& s : samples) peak = std::max(peak, s["rss_kib"].get<long>());
  std::printf(
      "  %-8s store, --retain 10s: RSS %ld KiB at start, %ld KiB after %llu jobs, "
      "%ld KiB after %llu jobs (peak %ld KiB)\n",
      postgres ? "postgres" : "memory", samples[0]["rss_kib"].get<long>(), first,
      static_cast<unsigned long long>(chunk), last,
      static_cast<unsigned long long>(env.options.rss_jobs), peak);
  std::fflush(stdout);
  return {{"store", postgres ? "postgres" : "memory"}, {"retain", "10s"}, {"samples", samples}};
}

Options parse_args(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) throw std::invalid_argument(std::string(argv[i]) + " needs a value");
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--hub")
      o.hub = need(i);
    else if (a == "--jobs")
      o.jobs = std::stoull(need(i));
    else if (a == "--claimers")
      o.claimers = std::stoi(need(i));
    else if (a == "--capacity")
      o.capacity = std::stoi(need(i));
    else if (a == "--wakeups")
      o.wakeups = std::stoi(need(i));
    else if (a == "--rss-jobs")
      o.rss_jobs = std::stoull(need(i));
    else if (a == "--json")
      o.json_path = need(i);
    else if (a == "--only")
      o.only.push_back(need(i));
    else if (a == "--quick")
      o.jobs = 1'000, o.wakeups = 10, o.rss_jobs = 5'000;
    else
      throw std::invalid_argument("unknown argument " + a);
  }
  if (o.hub.empty()) throw std::invalid_argument("--hub BIN is required");
  if (o.jobs == 0 || o.claimers < 1 || o.capacity < 1 || o.wakeups < 1 || o.rss_jobs == 0) {
    throw std::invalid_argument(
        "--jobs, --claimers, --capacity, --wakeups, --rss-jobs must be > 0");
  }
  return o;
}

int run(const Options& options) {
  test::PostgresServer pg;
  // The throwaway cluster runs with fsync off; the hub's figures are taken
  // with PostgreSQL's durable defaults, as a production store runs.
  pg.exec("ALTER SYSTEM SET fsync = on");
  pg.exec("ALTER SYSTEM SET synchronous_commit = on");
  pg.exec("ALTER SYSTEM SET full_page_writes = on");
  pg.exec("SELECT pg_reload_conf()");
  Env env{options, pg, {}};
  Json report{{"cpus", std::thread::hardware_concurrency()}};
  std::printf("outpost-hub-bench: %u CPUs, PostgreSQL with fsync=on synchronous_commit=on\n",
              std::thread::hardware_concurrency());
  if (options.wants("throughput")) {
    std::printf("claim+result throughput (%llu jobs, %d claimers, capacity %d):\n",
                static_cast<unsigned long long>(options.jobs), options.claimers, options.capacity);
    report["throughput"] = Json::array({throughput_case(env, "1 hub, memory store", 1, false),
                                        throughput_case(env, "1 hub, PostgreSQL", 1, true),
                                        throughput_case(env, "2 hubs, PostgreSQL", 2, true)});
  }
  if (options.wants("wakeup")) {
    std::printf("long-poll wake-up across hubs:\n");
    report["wakeup"] = wakeup_case(env);
  }
  if (options.wants("rss")) {
    std::printf("hub RSS with retention (%llu jobs):\n",
                static_cast<unsigned long long>(options.rss_jobs));
    report["rss"] = Json::array({rss_case(env, false), rss_case(env, true)});
  }
  if (!options.json_path.empty()) std::ofstream(options.json_path) << report.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace outpost::bench::hub

int main(int argc, char** argv) {
  try {
    return outpost::bench::hub::run(outpost::bench::hub::parse_args(argc, argv));
  } catch (const std::invalid_argument& e) {
    std::cerr << "outpost-hub-bench: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "outpost-hub-bench: " << e.what() << "\n";
    return 1;
  }
}
