// outpost-bench: measures the agent end to end against a throwaway
// PostgreSQL and outpost-hub on loopback, each figure next to a reference
// measured in the same run on the same machine (docs/benchmarks.md).
//
//   outpost-bench --agent BIN --hub BIN [--runs N] [--json FILE] [--quick]
//                 [--only dispatch|throughput|streaming|engines|footprint]...
//
// Scenarios: dispatch latency, throughput, streaming (PostgreSQL), engines
// (the same streaming tables on MariaDB and SQLite), footprint.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"
#include "support/mariadb_server.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::bench {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kAdminToken = "bench-admin-token";

struct Options {
  std::string agent;
  std::string hub;
  int runs = 3;
  std::string json_path;
  bool quick = false;             // smaller sizes, for a smoke run
  std::vector<std::string> only;  // scenarios to run; empty = all

  [[nodiscard]] bool wants(const std::string& scenario) const {
    return only.empty() || std::find(only.begin(), only.end(), scenario) != only.end();
  }
};

double seconds_since_epoch() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

/// Seconds since the epoch of "2026-11-23T14:08:03.123Z" (the hub's format).
double parse_rfc3339(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    throw std::runtime_error("unexpected timestamp from the hub: " + text);
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + millis / 1000.0;
}

/// A PostgreSQL 15 client program (pgbench, psql) by full path.
std::string pg_bin(const std::string& name) {
  return "/usr/lib/postgresql/15/bin/" + name;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size()))) - 1;
  return v[std::min(idx, v.size() - 1)];
}
double median(std::vector<double> v) {
  return percentile(std::move(v), 50);
}

/// Proportional set size in MiB (each shared page divided by the processes
/// mapping it), from /proc/<pid>/smaps_rollup; 0 when unreadable.
double pss_mib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
  std::string key;
  std::uint64_t kib = 0;
  while (in >> key) {
    if (key == "Pss:" && in >> kib) return static_cast<double>(kib) / 1024.0;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

/// The fields of /proc/<pid>/stat after the command: state(0), ppid(1) ...
/// utime(11) stime(12) cutime(13) cstime(14). Empty when the process is gone.
std::vector<std::string> stat_fields(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  std::vector<std::string> fields;
  if (close == std::string::npos || close + 2 > text.size()) return fields;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  while (rest >> field) fields.push_back(field);
  return fields;
}

double ticks_to_seconds(const std::string& a, const std::string& b) {
  return (std::stod(a) + std::stod(b)) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// CPU seconds (user + system) a process has used, from /proc/<pid>/stat.
double cpu_seconds(pid_t pid) {
  const auto fields = stat_fields(std::to_string(pid));
  return ticks_to_seconds(fields.at(11), fields.at(12));
}

/// CPU seconds of a server and its children: its own, its reaped children's
/// (cutime, cstime) and those of the children still running (PostgreSQL's
/// backends are children of the postmaster).
double tree_cpu_seconds(pid_t root) {
  const auto own = stat_fields(std::to_string(root));
  double total =
      ticks_to_seconds(own.at(11), own.at(12)) + ticks_to_seconds(own.at(13), own.at(14));
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const auto fields = stat_fields(name);
    if (fields.size() > 12 && fields[1] == std::to_string(root)) {
      total += ticks_to_seconds(fields[11], fields[12]);
    }
  }
  return total;
}

/// The hub, started as a process, with an admin client and one agent token.
class Hub {
 public:
  explicit Hub(const Options& o)
      : port_(test::free_port()),
        proc_(test::Process::Options{{o.hub, "--listen", "127.0.0.1:" + std::to_string(port_),
                                      "--admin-token", kAdminToken, "--lease-ttl", "30s"},
                                     {},
                                     std::nullopt,
                                     {}}),
        admin_("127.0.0.1", port_) {
    admin_.set_header("Authorization", std::string("Bearer ") + kAdminToken);
    const bool up = test::eventually(
        [&] {
          try {
            return admin_.get("/api/v1/admin/agents").status == 200;
          } catch (const std::exception&) {
            return false;
          }
        },
        milliseconds(10'000));
    if (!up) throw std::runtime_error("hub did not start: " + proc_.stderr_text());
    token_ = json::parse(admin_.post("/api/v1/admin/tokens", R"({"name":"bench"})").body)
                 .at("token")
                 .get<std::string>();
  }

  [[nodiscard]] std::string url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/api";
  }
  [[nodiscard]] const std::string& token() const { return token_; }
  test::HttpTestClient& admin() { return admin_; }
  test::Process& process() { return proc_; }
  [[nodiscard]] std::uint16_t port() const { return port_; }

  std::string create_source(const json& config, const std::string& type = "postgres") {
    const auto r = admin_.post("/api/v1/admin/sources",
                               json{{"name", "bench"}, {"type", type}, {"config", config}}.dump());
    if (r.status != 201) throw std::runtime_error("create source: " + r.body);
    return json::parse(r.body).at("id").get<std::string>();
  }

  std::string create_job(const std::string& source_id, const std::string& sql,
                         int timeout_ms = 600'000) {
    const auto r = admin_.post("/api/v1/admin/jobs", json{{"source_id", source_id},
                                                          {"type", "query"},
                                                          {"params", {{"sql", sql}}},
                                                          {"timeout_ms", timeout_ms}}
                                                         .dump());
    if (r.status != 201) throw std::runtime_error("create job: " + r.body);
    return json::parse(r.body).at("id").get<std::string>();
  }

  json job(const std::string& id) {
    return json::parse(admin_.get("/api/v1/admin/jobs/" + id).body);
  }

  /// Waits until the job is finished (polling every `poll`) and returns its view.
  json wait_job(const std::string& id, milliseconds timeout = milliseconds(120'000),
                std::chrono::microseconds poll = std::chrono::microseconds(200)) {
    const auto deadline = SteadyClock::now() + timeout;
    while (SteadyClock::now() < deadline) {
      auto view = job(id);
      const auto status = view.value("status", "");
      if (status == "succeeded" || status == "failed" || status == "cancelled") return view;
      std::this_thread::sleep_for(poll);
    }
    throw std::runtime_error("job " + id + " did not finish in time");
  }

 private:
  std::uint16_t port_;
  test::Process proc_;
  test::HttpTestClient admin_;
  std::string token_;
};

/// One agent process connected to the hub.
class Agent {
 public:
  Agent(const Options& o, Hub& hub, int concurrency, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{o.agent,
                                  "--url",
                                  hub.url(),
                                  "--max-concurrency",
                                  std::to_string(concurrency),
                                  "--health-addr",
                                  "off",
                                  "--log-level",
                                  "info"};
    for (auto& e : extra) args.push_back(std::move(e));
    const double spawned = seconds_since_epoch();
    proc_ = std::make_unique<test::Process>(
        test::Process::Options{args, {{"AGENT_TOKEN", hub.token()}}, std::nullopt, {}});
    if (!proc_->wait_for_output("\"agent started\"", milliseconds(15'000))) {
      throw std::runtime_error("agent did not start: " + proc_->stdout_text() +
                               proc_->stderr_text());
    }
    // From the spawn to the line's own timestamp (ms resolution), so the
    // bench's polling of the output does not count.
    std::istringstream lines(proc_->stdout_text());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"agent started\"") == std::string::npos) continue;
      const auto j = json::parse(line, nullptr, false);
      if (j.is_object()) startup_ms_ = (parse_rfc3339(j.value("ts", "")) - spawned) * 1000.0;
      break;
    }
  }
  ~Agent() {
    proc_->signal(SIGTERM);
    proc_->wait(milliseconds(10'000));
  }
  test::Process& process() { return *proc_; }
  [[nodiscard]] double startup_ms() const { return startup_ms_; }

  struct Finished {
    double duration_ms = -1;
    std::uint64_t rows = 0;
    std::string status;
  };

  /// The agent's "job finished" line for `job_id`, once logged.
  Finished job_finished(const std::string& job_id) {
    Finished found;
    test::eventually(
        [&] {
          std::istringstream lines(proc_->stdout_text());
          std::string line;
          while (std::getline(lines, line)) {
            if (line.find("\"job finished\"") == std::string::npos ||
                line.find(job_id) == std::string::npos)
              continue;
            const auto j = json::parse(line, nullptr, false);
            if (j.is_object() && j.value("job_id", "") == job_id) {
              found.duration_ms = j.value("duration_ms", 0.0);
              found.rows = j.value("rows", std::uint64_t{0});
              found.status = j.value("status", "");
              return true;
            }
          }
          return false;
        },
        milliseconds(600'000));
    return found;
  }

 private:
  std::unique_ptr<test::Process> proc_;
  double startup_ms_ = 0;
};

struct Row {
  std::string scenario;
  std::string metric;
  double value;
  std::string unit;
  std::string reference_name;
  double reference;
  std::string target;
  bool met;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)) {}

  void run() {
    std::cerr << "bench: starting PostgreSQL\n";
    pg_.exec("CREATE ROLE bench LOGIN PASSWORD 'bench-pw'; GRANT pg_read_all_data TO bench;");
    source_config_ = pg_.source_config("bench", "bench-pw");
    timed("dispatch", &Bench::dispatch);
    timed("throughput", &Bench::throughput);
    timed("streaming", &Bench::streaming);
    timed("engines", &Bench::streaming_engines);
    timed("footprint", &Bench::footprint);
    print();
  }

 private:
  void add(Row r) { rows_.push_back(std::move(r)); }

  /// Runs a scenario if it was asked for, and says how long it took
  /// (scripts/bench.sh has 10 minutes on a fresh machine, build included).
  void timed(const std::string& scenario, void (Bench::*run)()) {
    if (!o_.wants(scenario)) return;
    const double t0 = seconds_since_epoch();
    (this->*run)();
    std::cerr << "bench: " << scenario << " took " << std::fixed << std::setprecision(0)
              << seconds_since_epoch() - t0 << " s\n";
    std::cerr.unsetf(std::ios::floatfield);
    std::cerr << std::setprecision(6);
  }

  // 1. Dispatch latency: admin call → the statement running on the server.
  void dispatch() {
    const int jobs = o_.quick ? 100 : 1000;
    std::cerr << "bench: dispatch latency, " << jobs << " sequential jobs x " << o_.runs
              << " runs\n";
    std::vector<double> p50s, p99s, rtt50s, rtt99s;
    for (int run = 0; run < o_.runs; ++run) {
      Hub hub(o_);
      const auto source = hub.create_source(source_config_);
      Agent agent(o_, hub, 4);
      std::vector<double> lat;
      // Warm the connection pool so every job measures steady-state dispatch.
      hub.wait_job(hub.create_job(source, "SELECT 1"));
      for (int i = 0; i < jobs; ++i) {
        const double t0 = seconds_since_epoch();
        const auto id =
            hub.create_job(source, "SELECT extract(epoch from clock_timestamp())::float8");
        const auto view = hub.wait_job(id);
        const double started = view.at("rows").at(0).at(0).get<double>();
        lat.push_back((started - t0) * 1000.0);
      }
      p50s.push_back(median(lat));
      p99s.push_back(percentile(lat, 99));
      std::vector<double> rtt;
      for (int i = 0; i < jobs; ++i) {
        const auto t = SteadyClock::now();
        (void)hub.admin().get("/api/v1/admin/agents");
        rtt.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
      }
      rtt50s.push_back(median(rtt));
      rtt99s.push_back(percentile(rtt, 99));
    }
    add({"dispatch", "p50", median(p50s), "ms", "bare HTTP RTT p50", median(rtt50s), "<= 2 ms",
         median(p50s) <= 2.0});
    add({"dispatch", "p99", median(p99s), "ms", "bare HTTP RTT p99", median(rtt99s), "<= 10 ms",
         median(p99s) <= 10.0});
  }

  // 2. Throughput: SELECT 1 jobs per second with --max-concurrency 16. The
  // jobs are queued first and the agent started after, so the figure is the
  // agent draining the queue (claim, run, post) and not the bench's own
  // admin calls competing for the same two cores.
  void throughput() {
    const int jobs = o_.quick ? 2000 : 20000;
    std::cerr << "bench: throughput, " << jobs << " jobs x " << o_.runs << " runs\n";
    std::vector<double> rates, refs;
    for (int run = 0; run < o_.runs; ++run) {
      Hub hub(o_);
      const auto source = hub.create_source(source_config_);
      std::vector<std::string> ids;
      ids.reserve(static_cast<std::size_t>(jobs));
      for (int i = 0; i < jobs; ++i) ids.push_back(hub.create_job(source, "SELECT 1"));
      const double hub_cpu0 = cpu_seconds(hub.process().pid());
      const double pg_cpu0 = tree_cpu_seconds(postmaster_pid());
      const double t0 = seconds_since_epoch();
      Agent agent(o_, hub, 16);
      // The rate comes from the hub's finished_at, so a coarse poll loses
      // nothing; polling every 200 µs was a fifth of the hub's requests
      // and took CPU from the processes measured.
      hub.wait_job(ids.back(), milliseconds(600'000), milliseconds(5));
      const double agent_cpu = cpu_seconds(agent.process().pid());
      const double hub_cpu = cpu_seconds(hub.process().pid()) - hub_cpu0;
      const double pg_cpu = tree_cpu_seconds(postmaster_pid()) - pg_cpu0;
      // Jobs finish in roughly FIFO order: the last is done, so check all and
      // take the latest finish time the hub recorded.
      double last_finish = 0;
      for (const auto& id : ids) {
        const auto view = hub.wait_job(id);
        if (view.value("status", "") != "succeeded") {
          throw std::runtime_error("throughput job " + id + " did not succeed: " + view.dump());
        }
        last_finish = std::max(last_finish, parse_rfc3339(view.value("finished_at", "")));
      }
      const double secs = last_finish - t0;
      rates.push_back(jobs / secs);
      // Where the two cores went: the agent, the hub and PostgreSQL.
      std::cerr << "  run " << run + 1 << ": " << jobs / secs << " jobs/s in " << secs
                << " s; CPU per job: agent " << agent_cpu / jobs * 1e6 << " us, hub "
                << hub_cpu / jobs * 1e6 << " us, postgres " << pg_cpu / jobs * 1e6 << " us\n";
      refs.push_back(pgbench_select1_tps());
    }
    add({"throughput", "query jobs/s", median(rates), "jobs/s", "pgbench SELECT 1 tps (16c)",
         median(refs), ">= 1500 jobs/s", median(rates) >= 1500});
  }

  /// The cluster's postmaster: the first line of its postmaster.pid.
  pid_t postmaster_pid() const {
    std::ifstream in(pg_.dir() / "data" / "postmaster.pid");
    long pid = 0;
    if (!(in >> pid) || pid <= 0) throw std::runtime_error("bench: no postmaster.pid");
    return static_cast<pid_t>(pid);
  }

  // The database's own ceiling for the same statement from 16 connections:
  // pgbench, prepared statements, no agent and no control plane.
  double pgbench_select1_tps() {
    const std::string script = "/tmp/outpost-bench-select1-" + std::to_string(getpid()) + ".sql";
    std::ofstream(script) << "SELECT 1;\n";
    const std::string out = "/tmp/outpost-bench-pgbench-" + std::to_string(getpid()) + ".txt";
    const std::string cmd = "PGPASSWORD=bench-pw " + pg_bin("pgbench") +
                            " -n -M prepared -c 16 -j 2 -T 3 -f " + script + " -h 127.0.0.1 -p " +
                            std::to_string(pg_.port()) + " -U bench postgres > " + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(out);
    std::string line;
    double tps = 0;
    while (std::getline(in, line)) {
      if (line.rfind("tps = ", 0) == 0) tps = std::stod(line.substr(6));
    }
    ::unlink(script.c_str());
    ::unlink(out.c_str());
    if (rc != 0 || tps <= 0) throw std::runtime_error("pgbench failed: " + cmd);
    return tps;
  }

  // 3. Streaming: stored tables of three shapes, each read whole by the
  // agent (with the defaults: gzip, since the hub accepts it; and with
  // --no-gzip) and by `psql COPY (SELECT …) TO STDOUT` in the same run.
  struct Shape {
    std::string name;  // narrow, wide, bytea_json
    long rows;
    std::string columns;  // the SELECT list over generate_series(1, rows) g
  };

  std::vector<Shape> shapes() const {
    const long scale = o_.quick ? 5 : 1;
    return {
        {"narrow", 1'000'000 / scale,
         "g AS id, md5(g::text) AS name, (g * 1.37)::numeric(14,2) AS amount, "
         "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' AS at"},
        {"wide", 200'000 / scale,
         "g AS id, 'customer ' || g AS c1, md5(g::text) AS c2, md5((g + 1)::text) AS c3, "
         "'street ' || (g % 977) || ', city \"' || (g % 31) || '\"' AS c4, "
         "repeat('x', 20 + g % 40) AS c5, md5((g * 3)::text) || md5((g * 5)::text) AS c6, "
         "'note\twith tab' AS c7, 'é ü ß ' || g AS c8, lpad(g::text, 12, '0') AS c9, "
         "CASE WHEN g % 3 = 0 THEN NULL ELSE 'maybe ' || g END AS c10"},
        {"bytea_json", 300'000 / scale,
         "g AS id, decode(md5(g::text) || md5((g * 7)::text), 'hex') AS blob, "
         "jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b'), 'note', "
         "'line \"' || g || '\"', 'score', g * 0.5) AS doc"},
    };
  }

  void streaming() {
    for (const auto& shape : shapes()) {
      std::cerr << "bench: creating stored table stream_" << shape.name << " (" << shape.rows
                << " rows)\n";
      pg_.exec("DROP TABLE IF EXISTS stream_" + shape.name + "; CREATE TABLE stream_" + shape.name +
               " AS SELECT " + shape.columns + " FROM generate_series(1, " +
               std::to_string(shape.rows) + ") g");
      pg_.exec("VACUUM ANALYZE stream_" + shape.name);  // outside a transaction block
    }
    for (const auto& shape : shapes()) stream_shape(shape);
  }

  double copy_rate(const std::string& sql, long rows) {
    const auto t0 = SteadyClock::now();
    const std::string cmd = "PGPASSWORD=bench-pw " + pg_bin("psql") + " -X -q -h 127.0.0.1 -p " +
                            std::to_string(pg_.port()) + " -U bench -d postgres -c \"COPY (" + sql +
                            ") TO STDOUT\" > /dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("psql COPY failed");
    return static_cast<double>(rows) /
           std::chrono::duration<double>(SteadyClock::now() - t0).count();
  }

  void stream_shape(const Shape& shape) {
    const std::string sql = "SELECT * FROM stream_" + shape.name;
    std::cerr << "bench: streaming " << shape.name << ", " << shape.rows << " rows x " << o_.runs
              << " runs\n";
    (void)copy_rate(sql, shape.rows);  // warm the table into shared buffers
    std::vector<double> rates, plain_rates, copy_rates, peaks;
    for (int run = 0; run < o_.runs; ++run) {
      peaks.push_back(stream_once(sql, shape.rows, false, rates));
      (void)stream_once(sql, shape.rows, true, plain_rates);
      copy_rates.push_back(copy_rate(sql, shape.rows));
      std::cerr << "  psql COPY: " << copy_rates.back() << " rows/s\n";
    }
    const double copy = median(copy_rates);
    add({"streaming", shape.name + " rows/s", median(rates), "rows/s", "psql COPY rows/s", copy,
         ">= 1.0x COPY", median(rates) >= copy});
    add({"streaming", shape.name + " rows/s --no-gzip", median(plain_rates), "rows/s",
         "psql COPY rows/s", copy, ">= 1.2x COPY", median(plain_rates) >= 1.2 * copy});
    add({"streaming", shape.name + " agent peak RSS", median(peaks), "MiB", "", 0, "<= 32 MiB",
         median(peaks) <= 32});
  }

  /// Streams `sql` once through a fresh hub and agent; appends rows/s to
  /// `rates` and returns the agent's peak RSS in MiB.
  double stream_once(const std::string& sql, long rows, bool no_gzip, std::vector<double>& rates) {
    return stream_once(Source{"postgres", source_config_, {}}, sql, rows, no_gzip, rates);
  }

  /// A source of any type, with what the agent needs for it (--sqlite-dirs).
  struct Source {
    std::string type;
    json config;
    std::vector<std::string> agent_args;
  };

  double stream_once(const Source& src, const std::string& sql, long rows, bool no_gzip,
                     std::vector<double>& rates) {
    Hub hub(o_);
    const auto source = hub.create_source(src.config, src.type);
    // Lift the agent's result caps (1,000,000 rows, 256 MiB by default) so
    // all rows are sent.
    std::vector<std::string> extra{"--max-result-rows", "100000000", "--max-result-bytes", "4GiB"};
    extra.insert(extra.end(), src.agent_args.begin(), src.agent_args.end());
    if (no_gzip) extra.emplace_back("--no-gzip");
    Agent agent(o_, hub, 4, extra);
    const auto id = hub.create_job(source, sql);
    const double agent_cpu0 = cpu_seconds(agent.process().pid());
    const double hub_cpu0 = cpu_seconds(hub.process().pid());
    const bool postgres = src.type == "postgres";
    const double pg_cpu0 = postgres ? tree_cpu_seconds(postmaster_pid()) : 0;
    const auto finished = agent.job_finished(id);
    if (finished.status != "succeeded" || finished.rows != static_cast<std::uint64_t>(rows)) {
      throw std::runtime_error("streaming job " + id + " ended " + finished.status + " with " +
                               std::to_string(finished.rows) + " of " + std::to_string(rows) +
                               " rows");
    }
    const double ms = finished.duration_ms;
    std::cerr << "  " << (no_gzip ? "--no-gzip" : "gzip") << ": " << rows / (ms / 1000.0)
              << " rows/s; CPU agent " << cpu_seconds(agent.process().pid()) - agent_cpu0
              << " s, hub " << cpu_seconds(hub.process().pid()) - hub_cpu0 << " s";
    if (postgres)
      std::cerr << ", postgres " << tree_cpu_seconds(postmaster_pid()) - pg_cpu0 << " s";
    std::cerr << " over " << ms / 1000.0 << " s\n";
    rates.push_back(static_cast<double>(rows) / (ms / 1000.0));
    return static_cast<double>(agent.process().peak_rss_kib()) / 1024.0;
  }

  // 3b. The same three shapes stored in MariaDB and in SQLite, each read
  // whole by the agent (gzip and --no-gzip) and by the engine's own client
  // in the same run: `mariadb --batch --quick` and `sqlite3 -csv`.
  struct EngineShape {
    std::string name;
    long rows;
    std::string create;  // the statement that makes stream_<name>
  };

  std::vector<EngineShape> mariadb_shapes() const {
    const long scale = o_.quick ? 5 : 1;
    auto table = [](const std::string& name, long rows, const std::string& columns) {
      return EngineShape{name, rows,
                         "CREATE TABLE stream_" + name + " AS SELECT " + columns +
                             " FROM seq_1_to_" + std::to_string(rows)};
    };
    return {
        table("narrow", 1'000'000 / scale,
              "seq AS id, md5(seq) AS name, CAST(seq * 1.37 AS DECIMAL(14,2)) AS amount, "
              "TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq SECOND AS at"),
        table("wide", 200'000 / scale,
              "seq AS id, CONCAT('customer ', seq) AS c1, md5(seq) AS c2, md5(seq + 1) AS c3, "
              "CONCAT('street ', seq % 977, ', city \"', seq % 31, '\"') AS c4, "
              "REPEAT('x', 20 + seq % 40) AS c5, CONCAT(md5(seq * 3), md5(seq * 5)) AS c6, "
              "CONCAT('note', CHAR(9), 'with tab') AS c7, CONCAT('é ü ß ', seq) AS c8, "
              "LPAD(seq, 12, '0') AS c9, IF(seq % 3 = 0, NULL, CONCAT('maybe ', seq)) AS c10"),
        table("bytea_json", 300'000 / scale,
              "seq AS id, UNHEX(CONCAT(md5(seq), md5(seq * 7))) AS bin, "
              "JSON_OBJECT('id', seq, 'tags', JSON_ARRAY('a', 'b'), 'note', "
              "CONCAT('line \"', seq, '\"'), 'score', seq * 0.5) AS doc"),
    };
  }

  std::vector<EngineShape> sqlite_shapes() const {
    const long scale = o_.quick ? 5 : 1;
    auto table = [](const std::string& name, long rows, const std::string& columns) {
      return EngineShape{name, rows,
                         "CREATE TABLE stream_" + name +
                             " AS WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g "
                             "WHERE x < " +
                             std::to_string(rows) + ") SELECT " + columns + " FROM g"};
    };
    return {
        table("narrow", 1'000'000 / scale,
              "x AS id, lower(hex(randomblob(16))) AS name, round(x * 1.37, 2) AS amount, "
              "datetime(1767225600 + x, 'unixepoch') AS at"),
        table(
            "wide", 200'000 / scale,
            "x AS id, 'customer ' || x AS c1, lower(hex(randomblob(16))) AS c2, "
            "lower(hex(randomblob(16))) AS c3, 'street ' || (x % 977) || ', city \"' || "
            "(x % 31) || '\"' AS c4, substr(replace(hex(zeroblob(30)), '0', 'x'), 1, 20 + x % 40) "
            "AS c5, "
            "lower(hex(randomblob(32))) AS c6, 'note' || char(9) || 'with tab' AS c7, "
            "'é ü ß ' || x AS c8, printf('%012d', x) AS c9, "
            "CASE WHEN x % 3 = 0 THEN NULL ELSE 'maybe ' || x END AS c10"),
        table("bytea_json", 300'000 / scale,
              "x AS id, randomblob(32) AS bin, json_object('id', x, 'tags', json_array('a', 'b'), "
              "'note', 'line \"' || x || '\"', 'score', x * 0.5) AS doc"),
    };
  }

  void streaming_engines() {
    std::cerr << "bench: starting MariaDB\n";
    test::MariaDbServer maria;
    maria.execute(
        "CREATE DATABASE bench; CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench-pw'; "
        "GRANT SELECT ON bench.* TO 'bench'@'127.0.0.1'");
    const Source maria_source{"mysql",
                              json{{"host", "127.0.0.1"},
                                   {"port", maria.port()},
                                   {"user", "bench"},
                                   {"password", "bench-pw"},
                                   {"database", "bench"}},
                              {}};
    const std::string maria_cli = "MYSQL_PWD=bench-pw mariadb -h 127.0.0.1 -P " +
                                  std::to_string(maria.port()) +
                                  " -u bench -D bench --batch --quick -e ";
    for (const auto& shape : mariadb_shapes()) {
      std::cerr << "bench: creating MariaDB table stream_" << shape.name << "\n";
      maria.execute("USE bench; " + shape.create);
      stream_engine_shape("mariadb", maria_source, shape, [&](const std::string& sql) {
        return maria_cli + "\"" + sql + "\" > /dev/null";
      });
    }
    const test::TempDir dir;
    const std::string file = (dir.path() / "bench.db").string();
    const Source sqlite_source{
        "sqlite", json{{"path", file}}, {"--sqlite-dirs", dir.path().string()}};
    for (const auto& shape : sqlite_shapes()) {
      std::cerr << "bench: creating SQLite table stream_" << shape.name << "\n";
      FILE* cli = ::popen(("sqlite3 " + file).c_str(), "w");  // the SQL on stdin: no quoting
      if (cli == nullptr) throw std::runtime_error("cannot run sqlite3");
      std::fputs((shape.create + ";\n").c_str(), cli);
      if (::pclose(cli) != 0) throw std::runtime_error("sqlite3 failed: " + shape.create);
      stream_engine_shape("sqlite", sqlite_source, shape, [&](const std::string& sql) {
        return "sqlite3 -csv " + file + " \"" + sql + "\" > /dev/null";
      });
    }
  }

  double command_rate(const std::string& cmd, long rows) {
    const auto t0 = SteadyClock::now();
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("failed: " + cmd);
    return static_cast<double>(rows) /
           std::chrono::duration<double>(SteadyClock::now() - t0).count();
  }

  void stream_engine_shape(const std::string& engine, const Source& src, const EngineShape& shape,
                           const std::function<std::string(const std::string&)>& reference) {
    const std::string sql = "SELECT * FROM stream_" + shape.name;
    const std::string label = engine + " " + shape.name;
    const std::string ref_name =
        engine == "sqlite" ? "sqlite3 -csv rows/s" : "mariadb --batch --quick rows/s";
    std::cerr << "bench: streaming " << label << ", " << shape.rows << " rows x " << o_.runs
              << " runs\n";
    (void)command_rate(reference(sql), shape.rows);  // warm the table into the cache
    std::vector<double> rates, plain_rates, ref_rates, peaks;
    for (int run = 0; run < o_.runs; ++run) {
      peaks.push_back(stream_once(src, sql, shape.rows, false, rates));
      (void)stream_once(src, sql, shape.rows, true, plain_rates);
      ref_rates.push_back(command_rate(reference(sql), shape.rows));
      std::cerr << "  " << ref_name << ": " << ref_rates.back() << "\n";
    }
    const double ref = median(ref_rates);
    add({"streaming", label + " rows/s", median(rates), "rows/s", ref_name, ref, ">= 1.0x client",
         median(rates) >= ref});
    add({"streaming", label + " rows/s --no-gzip", median(plain_rates), "rows/s", ref_name, ref,
         ">= 1.2x client", median(plain_rates) >= 1.2 * ref});
    add({"streaming", label + " agent peak RSS", median(peaks), "MiB", "", 0, "<= 32 MiB",
         median(peaks) <= 32});
  }

  // 4. Footprint: idle RSS, RSS with 32 jobs running, idle CPU, start-up, size.
  void footprint() {
    std::cerr << "bench: footprint (idle CPU is measured over 30 s)\n";
    std::vector<double> startups;
    for (int run = 0; run < o_.runs; ++run) {
      Hub hub(o_);
      Agent agent(o_, hub, 4);
      startups.push_back(agent.startup_ms());
    }
    Hub hub(o_);
    const auto source = hub.create_source(source_config_);
    Agent agent(o_, hub, 32);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // let start-up allocations settle
    const double idle_rss = static_cast<double>(agent.process().rss_kib()) / 1024.0;
    const double idle_pss = pss_mib(agent.process().pid());
    // The per-mapping table of docs/benchmarks.md ("Idle RSS"), on stderr.
    const std::string breakdown =
        "python3 scripts/smaps-breakdown.py " + std::to_string(agent.process().pid()) + " >&2";
    if (std::system(breakdown.c_str()) != 0) std::cerr << "bench: no smaps breakdown\n";
    const double cpu0 = cpu_seconds(agent.process().pid());
    // 30 s: three clock ticks (10 ms) in it are 0.06 s/min, above the target.
    const int idle_seconds = o_.quick ? 10 : 30;
    std::this_thread::sleep_for(std::chrono::seconds(idle_seconds));
    const double idle_cpu = (cpu_seconds(agent.process().pid()) - cpu0) * 60.0 / idle_seconds;
    std::vector<std::string> ids;
    for (int i = 0; i < 32; ++i) ids.push_back(hub.create_job(source, "SELECT pg_sleep(3)"));
    double busy_rss = 0;
    test::eventually(
        [&] {
          busy_rss = std::max(busy_rss, static_cast<double>(agent.process().rss_kib()) / 1024.0);
          return pg_.query_column(
                        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(3)%' "
                        "AND application_name LIKE 'outpost%'")
                     .at(0) == "32";
        },
        milliseconds(20'000));
    busy_rss = std::max(busy_rss, static_cast<double>(agent.process().rss_kib()) / 1024.0);
    for (const auto& id : ids) hub.wait_job(id);

    const std::string stripped = "/tmp/outpost-agent-stripped-" + std::to_string(getpid());
    const std::string strip_cmd = "strip -o " + stripped + " " + o_.agent;
    double size_mib = 0;
    if (std::system(strip_cmd.c_str()) == 0) {
      struct stat st {};
      if (::stat(stripped.c_str(), &st) == 0)
        size_mib = static_cast<double>(st.st_size) / (1024.0 * 1024.0);
      ::unlink(stripped.c_str());
    }
    add({"footprint", "idle RSS", idle_rss, "MiB", "", 0, "<= 8 MiB", idle_rss <= 8});
    add({"footprint", "idle PSS", idle_pss, "MiB", "", 0, "(report)", true});
    add({"footprint", "RSS, 32 jobs running", busy_rss, "MiB", "", 0, "<= 48 MiB", busy_rss <= 48});
    add({"footprint", "idle CPU", idle_cpu, "s/min", "", 0, "<= 0.05 s/min", idle_cpu <= 0.05});
    add({"footprint", "start-up to 'agent started'", median(startups), "ms", "", 0, "<= 50 ms",
         median(startups) <= 50});
    add({"footprint", "stripped binary", size_mib, "MiB", "", 0, "(report)", true});
  }

  void print() {
    std::printf("\n%-11s %-28s %14s %-7s %-24s %14s %7s  %-16s %s\n", "scenario", "metric", "value",
                "unit", "reference", "ref value", "ratio", "target", "met");
    json out = json::array();
    for (const auto& r : rows_) {
      const double ratio = r.reference > 0 ? r.value / r.reference : 0;
      std::printf("%-11s %-28s %14.3f %-7s %-24s %14.3f %7s  %-16s %s\n", r.scenario.c_str(),
                  r.metric.c_str(), r.value, r.unit.c_str(), r.reference_name.c_str(), r.reference,
                  r.reference > 0 ? (std::to_string(ratio).substr(0, 5)).c_str() : "-",
                  r.target.c_str(), r.met ? "yes" : "NO");
      out.push_back({{"scenario", r.scenario},
                     {"metric", r.metric},
                     {"value", r.value},
                     {"unit", r.unit},
                     {"reference", r.reference_name},
                     {"reference_value", r.reference},
                     {"target", r.target},
                     {"met", r.met}});
    }
    if (!o_.json_path.empty()) {
      std::ofstream(o_.json_path) << json{{"runs", o_.runs}, {"results", out}}.dump(2) << "\n";
    }
  }

  Options o_;
  test::PostgresServer pg_;
  json source_config_;
  std::vector<Row> rows_;
};

}  // namespace
}  // namespace outpost::bench

int main(int argc, char** argv) {
  outpost::bench::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "outpost-bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--agent") {
      o.agent = next();
    } else if (a == "--hub") {
      o.hub = next();
    } else if (a == "--runs") {
      o.runs = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--json") {
      o.json_path = next();
    } else if (a == "--quick") {
      o.quick = true;
    } else if (a == "--only") {
      o.only.push_back(next());
    } else {
      std::cerr << "outpost-bench: unknown argument " << a
                << " (usage: --agent BIN --hub BIN [--runs N] [--json FILE] [--quick] [--only "
                   "SCENARIO]...)\n";
      return 2;
    }
  }
  if (o.agent.empty() || o.hub.empty()) {
    std::cerr << "outpost-bench: --agent and --hub are required\n";
    return 2;
  }
  try {
    outpost::bench::Bench(o).run();
  } catch (const std::exception& e) {
    std::cerr << "outpost-bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
