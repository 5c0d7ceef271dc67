// outpost-hub-bench: measures outpost-hub itself over HTTP, with N claimer
// threads on keep-alive connections standing in for agents, against a
// throwaway PostgreSQL on loopback (docs/benchmarks.md, "The hub").
//
//   outpost-hub-bench --hub BIN [--jobs N] [--claimers N] [--capacity N]
//                     [--wakeups N] [--rss-jobs N] [--json FILE] [--quick]
//                     [--only throughput|wakeup|rss]... [--statements]
//
// Scenarios, all in one run on the same machine:
//   throughput  claim+result jobs/s of one hub on the memory store, one hub
//               on PostgreSQL, two hubs on PostgreSQL (durable commits, then
//               again with synchronous_commit=off); hub and PostgreSQL
//               CPU seconds per 1,000 jobs (/proc/PID/stat utime+stime)
//   wakeup      a claimer long-polls hub B, a job is created on hub A: time
//               from sending the create to the claim's answer (p50/p99)
//   rss         hub RSS with --retain 10s: 100,000 jobs, a retention pass,
//               100,000 more, on the memory store (a fifth as many on PostgreSQL)
// --statements loads pg_stat_statements and prints, after each PostgreSQL
// throughput case, its statements with calls and milliseconds per job.
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
  std::uint64_t jobs = 5'000;
  int claimers = 8;
  int capacity = 4;
  int wakeups = 50;
  std::uint64_t rss_jobs = 100'000;
  std::string json_path;
  bool statements = false;  // pg_stat_statements per PostgreSQL case
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
  /// synchronous_commit for every new session (the hubs open theirs after this).
  void synchronous_commit(bool on) {
    pg.exec(std::string("ALTER SYSTEM SET synchronous_commit = ") + (on ? "on" : "off"));
    pg.exec("SELECT pg_reload_conf()");
  }
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
  if (db && env.options.statements) reset_statements(env.pg);
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
         {"hub_cpu_ms_per_1000_jobs", hub_cpu * 1e6 / jobs}};
  std::printf("  %-44s %7.0f jobs/s  (create %5.0f/s)  hub CPU %6.1f ms/1000 jobs", label.c_str(),
              j["jobs_per_s"].get<double>(), j["create_jobs_per_s"].get<double>(),
              j["hub_cpu_ms_per_1000_jobs"].get<double>());
  if (postgres) {  // the memory store's case: PostgreSQL only idles, not reported
    j["postgres_cpu_ms_per_1000_jobs"] = pg_cpu * 1e6 / jobs;
    j["postgres_cpu_share"] = hub_cpu + pg_cpu > 0 ? pg_cpu / (hub_cpu + pg_cpu) : 0.0;
    std::printf("  PostgreSQL CPU %6.1f ms/1000 jobs (%2.0f%% of hub + PostgreSQL)",
                pg_cpu * 1e6 / jobs, 100 * j["postgres_cpu_share"].get<double>());
  }
  std::printf("\n");
  if (db && env.options.statements) print_statements(env.pg, db->name(), jobs);
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
  std::vector<double> ms, create_ms;  // create sent → claim answered; the create's own round trip
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
    create_ms.push_back(
        std::chrono::duration<double, std::milli>(SteadyClock::now() - sent).count());
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
         {"max_ms", *std::max_element(ms.begin(), ms.end())},
         {"create_p50_ms", percentile(create_ms, 50)},
         {"create_p99_ms", percentile(create_ms, 99)}};
  std::printf(
      "  long poll on hub B, job created on hub A (create sent -> claim answered): p50 "
      "%.1f ms, p99 %.1f ms, max %.1f ms (%zu rounds); the create call alone: p50 %.1f "
      "ms, p99 %.1f ms\n",
      j["p50_ms"].get<double>(), j["p99_ms"].get<double>(), j["max_ms"].get<double>(), ms.size(),
      j["create_p50_ms"].get<double>(), j["create_p99_ms"].get<double>());
  std::fflush(stdout);
  return j;
}

/// Passes `total` jobs through one hub; samples RSS every tenth.
void rss_round(const Hub& hub, const std::string& token, const Options& o, std::uint64_t total,
               std::uint64_t& done, Json& samples) {
  const std::vector<const Hub*> hubs{&hub};
  const std::uint64_t chunk = std::max<std::uint64_t>(total / 10, 1);
  for (std::uint64_t n = 0; n + chunk <= total; n += chunk) {
    create_jobs(hubs, chunk, 4);
    drain(hubs, token, chunk, o.claimers, o.capacity);
    done += chunk;
    samples.push_back({{"jobs", done}, {"rss_kib", rss_kib(hub.pid())}});
  }
}

/// Two rounds of `total` jobs with --retain 10s, and between them a pause
/// longer than --retain plus the hub's retention interval (half of it), so
/// the first round's jobs are deleted before the second runs: bounded memory
/// means the second round does not raise RSS.
Json rss_case(Env& env, bool postgres, std::uint64_t total) {
  auto db = postgres ? env.fresh_db() : nullptr;
  Hub hub(env.options.hub, env.dir.path().string(), db.get(), {"--retain", "10s"});
  const std::string token = create_token(*hub.client(kAdminToken), "bench-rss");
  Json samples = Json::array();
  std::uint64_t done = 0;
  const long start = rss_kib(hub.pid());
  samples.push_back({{"jobs", 0}, {"rss_kib", start}});
  rss_round(hub, token, env.options, total, done, samples);
  const long first_round = rss_kib(hub.pid());
  std::this_thread::sleep_for(20s);  // 10 s old, then a pass (every 5 s) deletes round one
  const long after_retention = rss_kib(hub.pid());
  samples.push_back({{"jobs", done}, {"rss_kib", after_retention}, {"after_retention_pass", true}});
  rss_round(hub, token, env.options, total, done, samples);
  const long second_round = rss_kib(hub.pid());
  std::printf(
      "  %-8s store, --retain 10s: RSS %ld KiB at start, %ld KiB after %llu jobs, %ld KiB "
      "after a retention pass, %ld KiB after %llu jobs\n",
      postgres ? "postgres" : "memory", start, first_round, static_cast<unsigned long long>(total),
      after_retention, second_round, static_cast<unsigned long long>(done));
  std::fflush(stdout);
  return {{"store", postgres ? "postgres" : "memory"},
          {"retain", "10s"},
          {"jobs_per_round", total},
          {"rss_kib",
           {{"start", start},
            {"after_round_1", first_round},
            {"after_retention_pass", after_retention},
            {"after_round_2", second_round}}},
          {"samples", samples}};
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
    else if (a == "--statements")
      o.statements = true;
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
  std::vector<std::string> conf;
  if (options.statements) {
    conf = {"shared_preload_libraries = 'pg_stat_statements'",
            "pg_stat_statements.track_planning = on"};
  }
  test::PostgresServer pg(conf);
  if (options.statements) pg.exec("CREATE EXTENSION pg_stat_statements");
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
    Json cases = Json::array();
    cases.push_back(throughput_case(env, "1 hub, memory store", 1, false));
    cases.push_back(throughput_case(env, "1 hub, PostgreSQL", 1, true));
    cases.push_back(throughput_case(env, "2 hubs, PostgreSQL", 2, true));
    // The same with commits that do not wait for their WAL flush (a crash
    // may lose the last moments of work, never corrupt): what the disk costs.
    env.synchronous_commit(false);
    cases.push_back(throughput_case(env, "1 hub, PostgreSQL, synchronous_commit=off", 1, true));
    cases.push_back(throughput_case(env, "2 hubs, PostgreSQL, synchronous_commit=off", 2, true));
    env.synchronous_commit(true);
    cases[3]["synchronous_commit"] = "off";
    cases[4]["synchronous_commit"] = "off";
    report["throughput"] = cases;
  }
  if (options.wants("wakeup")) {
    std::printf("long-poll wake-up across hubs:\n");
    report["wakeup"] = wakeup_case(env);
  }
  if (options.wants("rss")) {
    std::printf("hub RSS with retention (%llu jobs):\n",
                static_cast<unsigned long long>(options.rss_jobs));
    // PostgreSQL: a fifth of the jobs, with synchronous_commit=off, to keep
    // the run short (the hub holds no job in memory with that store).
    Json memory = rss_case(env, false, options.rss_jobs);
    env.synchronous_commit(false);
    Json postgres = rss_case(env, true, std::max<std::uint64_t>(options.rss_jobs / 5, 10));
    env.synchronous_commit(true);
    report["rss"] = Json::array({memory, postgres});
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
