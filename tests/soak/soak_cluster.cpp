#include "soak/soak_cluster.hpp"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/http_test_client.hpp"

namespace outpost::soak {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

const auto kRunStart = std::chrono::steady_clock::now();

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// GET on a loopback port with a short deadline; 0 when nothing answers.
int http_status(std::uint16_t port, const std::string& target) {
  try {
    test::HttpTestClient c("127.0.0.1", port);
    return c.request("GET", target, {}, {}, milliseconds(2000)).status;
  } catch (const std::exception&) {
    return 0;
  }
}

std::string format_sample(const std::string& name, pid_t pid, const Sample& s, bool agent) {
  char line[256];
  std::snprintf(line, sizeof line,
                "sample t=%6.0fs %-8s pid=%-7d rss=%7.1f MiB fds=%4d cpu=%7.2fs healthz=%d%s%s",
                s.t, name.c_str(), static_cast<int>(pid), static_cast<double>(s.rss_kib) / 1024.0,
                s.fds, s.cpu_s, s.healthz, agent ? " readyz=" : "",
                agent ? std::to_string(s.readyz).c_str() : "");
  return line;
}

}  // namespace

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - kRunStart).count();
}

int count_fds(pid_t pid) {
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec);
  if (ec) return -1;
  int n = 0;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) break;
    ++n;
  }
  return n;
}

std::uint64_t rss_kib(pid_t pid) {
  std::istringstream in(read_text("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

double cpu_seconds(pid_t pid) {
  const std::string text = read_text("/proc/" + std::to_string(pid) + "/stat");
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 >= text.size()) return 0;
  std::istringstream rest(text.substr(close + 2));
  std::vector<std::string> fields{std::istream_iterator<std::string>(rest),
                                  std::istream_iterator<std::string>()};
  if (fields.size() < 13) return 0;
  // Fields after the command: state(0) ... utime(11) stime(12), in clock ticks.
  return (std::stod(fields[11]) + std::stod(fields[12])) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

Cluster::Cluster(ClusterOptions options) : o_(std::move(options)) {
  std::filesystem::create_directories(o_.log_dir);
  pg_ = std::make_unique<test::PostgresServer>();
  pg_->exec(
      "CREATE ROLE soak LOGIN PASSWORD 'soak-pw-3c9a'; GRANT pg_read_all_data TO soak;"
      "CREATE TABLE public.orders(id bigint PRIMARY KEY, customer text NOT NULL, total numeric);"
      "INSERT INTO public.orders SELECT g, 'c' || g, g * 1.25 FROM generate_series(1, 500) g;"
      "ANALYZE public.orders;");
  pg_proxy_ = std::make_unique<test::FaultProxy>(pg_->port());
  make_sqlite_file();
  if (o_.store == "postgres") {
    // The hubs' store: its own role and database; the password as a file.
    pg_->exec("CREATE ROLE outpost_hub LOGIN PASSWORD 'soak-hub-store-7f2e'");
    pg_->exec("CREATE DATABASE outpost_hub OWNER outpost_hub");  // no transaction block
    std::ofstream(dir_.path() / "store-password") << "soak-hub-store-7f2e\n";
    store_url_ = "postgres://outpost_hub@127.0.0.1:" + std::to_string(pg_->port()) +
                 "/outpost_hub?sslmode=disable";
    start_hub("hub-a");
    start_hub("hub-b");
  } else {
    start_hub("hub");
  }

  test::HttpTestClient admin("127.0.0.1", hub_port());
  admin.set_header("Authorization", std::string("Bearer ") + kAdminToken);
  auto created = [&](const std::string& target, const json& body) {
    const auto r = admin.post("/api/v1/admin" + target, body.dump());
    if (r.status != 201) throw std::runtime_error("POST " + target + ": " + r.body);
    return json::parse(r.body);
  };
  token_ = created("/tokens", {{"name", "soak-agent"}}).at("token").get<std::string>();
  auto pg_config = pg_->source_config("soak", "soak-pw-3c9a");
  pg_config["port"] = pg_proxy_->port();
  pg_config["connect_timeout"] = 5;
  pg_source_ = created("/sources", {{"name", "pg"}, {"type", "postgres"}, {"config", pg_config}})
                   .at("id")
                   .get<std::string>();
  sqlite_source_ = created("/sources", {{"name", "lite"},
                                        {"type", "sqlite"},
                                        {"config", {{"path", (dir_.path() / "soak.db").string()}}}})
                       .at("id")
                       .get<std::string>();

  for (int i = 0; i < o_.agents; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->name = std::string("agent-") + static_cast<char>('a' + i);
    slot->hub_proxy = std::make_unique<test::FaultProxy>(
        hubs_.at(static_cast<std::size_t>(i) % hubs_.size()).port);
    slot->health_port = test::free_port();
    Life life;
    slot->proc = spawn_agent(*slot, life);
    slot->lives.push_back(std::move(life));
    slots_.push_back(std::move(slot));
  }
}

Cluster::~Cluster() {
  try {
    save_logs();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak: saving logs failed: %s\n", e.what());
  }
}

void Cluster::make_sqlite_file() {
  const auto path = dir_.path() / "soak.db";
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) {
    throw std::runtime_error("cannot create " + path.string());
  }
  // knob.n drives a recursive CTE that counts for as long as it is allowed
  // to: a query that only a timeout or a cancel ends.
  const char* sql =
      "CREATE TABLE knob(n INTEGER);"
      "INSERT INTO knob VALUES (100000000000);"
      "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL);"
      "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) "
      "INSERT INTO items(name, price) SELECT 'item-' || x, x * 0.5 FROM c;"
      "CREATE VIEW cheap AS SELECT * FROM items WHERE price < 10;";
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  const std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite setup: " + message);
}

void Cluster::start_hub(const std::string& name) {
  HubProc hub;
  hub.port = test::free_port();
  // Short leases so a SIGKILLed agent's jobs come back within seconds; a
  // small part size so big results travel as many parts.
  std::vector<std::string> args{o_.hub_bin,
                                "--listen",
                                "127.0.0.1:" + std::to_string(hub.port),
                                "--admin-token",
                                kAdminToken,
                                "--lease-ttl",
                                "10s",
                                "--heartbeat-interval",
                                "2s",
                                "--poll-wait",
                                "10s",
                                "--max-part-bytes",
                                "256KiB",
                                "--log-level",
                                "warn"};
  if (!store_url_.empty()) {
    args.insert(args.end(), {"--store", store_url_, "--store-password-file",
                             (dir_.path() / "store-password").string()});
  }
  if (!o_.retain.empty()) args.insert(args.end(), {"--retain", o_.retain});
  hub.proc = std::make_unique<test::Process>(test::Process::Options{args, {}, std::nullopt, {}});
  const bool up = test::eventually([&] { return http_status(hub.port, "/healthz") == 200; },
                                   milliseconds(20'000));
  if (!up) throw std::runtime_error(name + " did not start: " + hub.proc->stderr_text());
  hub.life.pid = hub.proc->pid();
  hub.life.started_t = now_s();
  hubs_.push_back(std::move(hub));
}

std::unique_ptr<test::Process> Cluster::spawn_agent(const Slot& slot, Life& life) const {
  const std::vector<std::string> args{
      o_.agent_bin,
      "-u",
      "http://127.0.0.1:" + std::to_string(slot.hub_proxy->port()) + "/api",
      "--max-concurrency",
      std::to_string(o_.max_concurrency),
      "--health-addr",
      "127.0.0.1:" + std::to_string(slot.health_port),
      "--health-interval",
      "5s",
      "--backoff-strategy",
      "fallback",
      "--shutdown-grace",
      "20s",
      "--sqlite-dirs",  // soak.db lives there
      dir_.path().string()};
  auto proc = std::make_unique<test::Process>(
      test::Process::Options{args, {{"AGENT_TOKEN", token_}}, std::nullopt, {}});
  life = Life{};
  life.pid = proc->pid();
  life.started_t = now_s();
  if (!proc->wait_for_output("\"msg\":\"agent started\"", milliseconds(30'000))) {
    throw std::runtime_error(slot.name + " did not start: " + proc->stdout_text() +
                             proc->stderr_text());
  }
  return proc;
}

bool Cluster::kill_and_restart(std::size_t i, int down_ms, std::string& error) {
  Slot& slot = *slots_.at(i);
  std::unique_ptr<test::Process> old;
  {
    std::lock_guard lock(mu_);
    slot.down = true;
    slot.proc->signal(SIGKILL);
    slot.proc->wait(milliseconds(5000));
    slot.lives.back().ended_t = now_s();
    slot.lives.back().end_reason = "killed";
    save_slot_logs(slot);
    old = std::move(slot.proc);
    ++slot.generation;
  }
  old.reset();
  std::this_thread::sleep_for(milliseconds(down_ms));
  // Started outside the lock: sampling goes on while the replacement connects
  // (the slot stays marked down until then, so it is not sampled).
  try {
    Life life;
    auto proc = spawn_agent(slot, life);
    std::lock_guard lock(mu_);
    slot.proc = std::move(proc);
    slot.lives.push_back(std::move(life));
    slot.down = false;
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

std::vector<std::string> Cluster::sample() {
  struct Target {
    std::size_t slot;
    pid_t pid;
    std::uint16_t health_port;
  };
  std::vector<Target> targets;
  {
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      if (!slots_[i]->down && slots_[i]->proc) {
        targets.push_back({i, slots_[i]->proc->pid(), slots_[i]->health_port});
      }
    }
  }
  std::vector<std::string> lines;
  for (const auto& t : targets) {
    Sample s;
    s.healthz = http_status(t.health_port, "/healthz");
    // One retry: the machine is shared, and a single slow answer under a
    // compile storm is not a hung agent; two in a row are.
    if (s.healthz != 200) s.healthz = http_status(t.health_port, "/healthz");
    s.readyz = http_status(t.health_port, "/readyz");
    s.t = now_s();
    s.rss_kib = rss_kib(t.pid);
    s.fds = count_fds(t.pid);
    s.cpu_s = cpu_seconds(t.pid);
    std::lock_guard lock(mu_);
    Slot& slot = *slots_[t.slot];
    // The agent may have been killed while we measured: keep the sample only
    // if it belongs to the life that is still current.
    if (slot.down || !slot.proc || slot.proc->pid() != t.pid) continue;
    slot.lives.back().samples.push_back(s);
    lines.push_back(format_sample(slot.name, t.pid, s, true));
  }
  for (std::size_t i = 0; i < hubs_.size(); ++i) {
    auto& hub = hubs_[i];
    Sample h;
    h.t = now_s();
    h.rss_kib = rss_kib(hub.life.pid);
    h.fds = count_fds(hub.life.pid);
    h.cpu_s = cpu_seconds(hub.life.pid);
    h.healthz = http_status(hub.port, "/healthz");
    h.readyz = http_status(hub.port, "/readyz");
    std::lock_guard lock(mu_);
    hub.life.samples.push_back(h);
    const char* name = hubs_.size() == 1 ? "hub" : (i == 0 ? "hub-a" : "hub-b");
    lines.push_back(format_sample(name, hub.life.pid, h, false));
  }
  return lines;
}

void Cluster::stop_agents() {
  for (auto& slot : slots_) {
    std::lock_guard lock(mu_);
    if (slot->proc) slot->proc->signal(SIGTERM);
  }
  for (auto& slot : slots_) {
    std::lock_guard lock(mu_);
    if (!slot->proc) continue;
    const auto status = slot->proc->wait(milliseconds(40'000));
    slot->lives.back().ended_t = now_s();
    slot->lives.back().end_reason = "stopped";
    slot->lives.back().exit_status = status ? *status : -1;
    slot->down = true;
  }
  std::lock_guard lock(mu_);
  for (auto& hub : hubs_) {
    hub.proc->signal(SIGTERM);
    const auto status = hub.proc->wait(milliseconds(20'000));
    hub.life.ended_t = now_s();
    hub.life.end_reason = "stopped";
    hub.life.exit_status = status ? *status : -1;
  }
}

std::vector<Life> Cluster::lives(std::size_t i) const {
  std::lock_guard lock(mu_);
  return slots_.at(i)->lives;
}

Life Cluster::hub_life(std::size_t i) const {
  std::lock_guard lock(mu_);
  return hubs_.at(i).life;
}

void Cluster::save_slot_logs(const Slot& slot) const {
  if (!slot.proc) return;
  const auto base = o_.log_dir / (slot.name + "." + std::to_string(slot.generation));
  std::ofstream(base.string() + ".stdout.log") << slot.proc->stdout_text();
  std::ofstream(base.string() + ".stderr.log") << slot.proc->stderr_text();
}

void Cluster::save_logs() const {
  std::lock_guard lock(mu_);
  for (const auto& slot : slots_) save_slot_logs(*slot);
  for (std::size_t i = 0; i < hubs_.size(); ++i) {
    const std::string name = hubs_.size() == 1 ? "hub" : (i == 0 ? "hub-a" : "hub-b");
    std::ofstream((o_.log_dir / (name + ".stdout.log")).string()) << hubs_[i].proc->stdout_text();
    std::ofstream((o_.log_dir / (name + ".stderr.log")).string()) << hubs_[i].proc->stderr_text();
  }
}

}  // namespace outpost::soak
