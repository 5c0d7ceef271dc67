#include "hub_bench_support.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace outpost::bench::hub {

using namespace std::chrono_literals;
using test::HttpResponse;
using test::HttpTestClient;

namespace {

Json parse(const HttpResponse& r) {
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

[[noreturn]] void fail(const std::string& what, const HttpResponse& r) {
  throw std::runtime_error(what + ": HTTP " + std::to_string(r.status) + " " +
                           r.body.substr(0, 300));
}

/// Fields 14 and 15 of /proc/PID/stat (utime, stime) in clock ticks, and field 4 (ppid).
bool read_stat(pid_t pid, double& cpu, pid_t& ppid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text)) return false;
  const auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  std::string field;
  std::vector<std::string> f;
  while (rest >> field) f.push_back(field);
  if (f.size() < 13) return false;
  // f[0] is field 3 (state): ppid is f[1], utime f[11], stime f[12].
  ppid = static_cast<pid_t>(std::stol(f[1]));
  cpu = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) /
        static_cast<double>(::sysconf(_SC_CLK_TCK));
  return true;
}

}  // namespace

StoreDb::StoreDb(const test::PostgresServer& server, const std::string& name,
                 const std::string& dir)
    : server_(server), name_(name), password_file_(dir + "/" + name + ".password") {
  const std::string password = "bench-" + name + "-pw";
  server_.exec("CREATE ROLE " + name_ + " LOGIN PASSWORD '" + password + "'");
  server_.exec("CREATE DATABASE " + name_ + " OWNER " + name_);
  std::ofstream(password_file_) << password << "\n";
}

std::string StoreDb::url() const {
  return "postgres://" + name_ + "@127.0.0.1:" + std::to_string(server_.port()) + "/" + name_ +
         "?sslmode=disable";
}

Hub::Hub(const std::string& binary, const std::string& dir, const StoreDb* store,
         const std::vector<std::string>& extra) {
  const std::string token_file = dir + "/admin-token";
  std::ofstream(token_file) << kAdminToken << "\n";
  test::Process::Options o;
  o.args = {binary,     "--listen",     "127.0.0.1:0", "--admin-token-file",
            token_file, "--log-format", "json"};
  if (store != nullptr) {
    o.args.insert(o.args.end(),
                  {"--store", store->url(), "--store-password-file", store->password_file()});
  }
  o.args.insert(o.args.end(), extra.begin(), extra.end());
  process_ = std::make_unique<test::Process>(std::move(o));
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    std::istringstream lines(process_->stdout_text());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"hub started\"") == std::string::npos) continue;
      auto j = Json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("port")) port_ = j["port"].get<std::uint16_t>();
    }
    if (port_ != 0) return;
    if (!process_->running()) break;
    std::this_thread::sleep_for(20ms);
  }
  throw std::runtime_error("outpost-hub did not start: " + process_->stdout_text() +
                           process_->stderr_text());
}

std::unique_ptr<HttpTestClient> Hub::client(const std::string& bearer) const {
  auto c = std::make_unique<HttpTestClient>("127.0.0.1", port_);
  c->set_header("Authorization", "Bearer " + bearer);
  return c;
}

double cpu_seconds(pid_t pid) {
  double cpu = 0;
  pid_t ppid = 0;
  return read_stat(pid, cpu, ppid) ? cpu : 0;
}

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

double postgres_cpu_seconds(const std::string& data_dir) {
  std::ifstream pidfile(data_dir + "/postmaster.pid");
  pid_t postmaster = 0;
  if (!(pidfile >> postmaster)) throw std::runtime_error("no postmaster.pid in " + data_dir);
  double total = cpu_seconds(postmaster);
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return total;
  while (const dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    double cpu = 0;
    pid_t ppid = 0;
    if (read_stat(static_cast<pid_t>(std::stol(name)), cpu, ppid) && ppid == postmaster) {
      total += cpu;
    }
  }
  ::closedir(proc);
  return total;
}

void reset_statements(const test::PostgresServer& pg) {
  pg.exec("SELECT pg_stat_statements_reset()");
}

void print_statements(const test::PostgresServer& pg, const std::string& database, double jobs) {
  const auto rows = pg.query_column(
      "SELECT format('%8s calls/1000 jobs %8s ms/job (plan %s)  %s', "
      "round(s.calls * 1000 / " +
      std::to_string(jobs) +
      ")::text, "
      "round(((s.total_exec_time + s.total_plan_time) / " +
      std::to_string(jobs) + ")::numeric, 4)::text, round((s.total_plan_time / " +
      std::to_string(jobs) +
      ")::numeric, 4)::text, left(regexp_replace(s.query, '\\s+', ' ', 'g'), 110)) "
      "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
      "WHERE d.datname = '" +
      database +
      "' "
      "ORDER BY s.total_exec_time + s.total_plan_time DESC LIMIT 25");
  for (const auto& row : rows) std::printf("    %s\n", row.c_str());
}

std::string create_token(HttpTestClient& admin, const std::string& name) {
  auto r = admin.post("/api/v1/admin/tokens", Json{{"name", name}}.dump());
  if (r.status != 201) fail("create token", r);
  return parse(r).value("token", "");
}

std::string create_job(HttpTestClient& admin) {
  static const std::string body =
      Json{{"source", {{"ref", "warehouse"}}}, {"type", "query"}, {"params", {{"sql", "SELECT 1"}}}}
          .dump();
  auto r = admin.post("/api/v1/admin/jobs", body);
  if (r.status != 201) fail("create job", r);
  return parse(r).value("id", "");
}

std::uint64_t claim_and_finish(HttpTestClient& agent, const std::string& instance, int capacity,
                               std::atomic<std::int64_t>& remaining) {
  static const Json result{{"columns", {{{"name", "n"}, {"type", "int8"}}}}, {"truncated", false}};
  const std::string claim_body =
      Json{{"instance_id", instance}, {"capacity", capacity}, {"wait_ms", 200}}.dump();
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Content-Type", "application/json"}, {"X-Outpost-Instance", instance}};
  std::uint64_t done = 0;
  while (remaining.load() > 0) {
    auto r = agent.request("POST", "/api/v1/agent/jobs/claim", claim_body, headers, 30s);
    if (r.status != 200) fail("claim", r);
    for (const auto& job : parse(r).value("jobs", Json::array())) {
      const std::string id = job.at("id");
      Json body{{"lease_token", job.at("lease").at("token")},
                {"status", "succeeded"},
                {"parts", 0},
                {"result", result}};
      auto res =
          agent.request("POST", "/api/v1/agent/jobs/" + id + "/result", body.dump(), headers, 30s);
      if (res.status != 200) fail("result of " + id, res);
      ++done;
      remaining.fetch_sub(1);
    }
  }
  return done;
}

void create_jobs(const std::vector<const Hub*>& hubs, std::uint64_t count, int threads) {
  std::atomic<std::int64_t> left{static_cast<std::int64_t>(count)};
  std::vector<std::thread> workers;
  std::atomic<bool> failed{false};
  std::string error;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      try {
        auto admin = hubs[static_cast<std::size_t>(t) % hubs.size()]->client(kAdminToken);
        while (left.fetch_sub(1) > 0) create_job(*admin);
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) error = e.what();
        left.store(0);
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) throw std::runtime_error(error);
}

double drain(const std::vector<const Hub*>& hubs, const std::string& token, std::uint64_t count,
             int claimers, int capacity) {
  std::atomic<std::int64_t> remaining{static_cast<std::int64_t>(count)};
  std::atomic<bool> failed{false};
  std::string error;
  std::vector<std::thread> workers;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < claimers; ++t) {
    workers.emplace_back([&, t] {
      try {
        auto agent = hubs[static_cast<std::size_t>(t) % hubs.size()]->client(token);
        claim_and_finish(*agent, "bench-" + std::to_string(t), capacity, remaining);
      } catch (const std::exception& e) {
        if (!failed.exchange(true)) error = e.what();
        remaining.store(0);
      }
    });
  }
  for (auto& w : workers) w.join();
  if (failed) throw std::runtime_error(error);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace outpost::bench::hub
