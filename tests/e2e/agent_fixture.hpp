#pragma once

// A real outpost-hub process on a loopback port it chose (port 0), real outpost-agent
// processes pointed at it, and helpers for the admin API, the agents' health
// endpoints, their JSON log lines and the SQLite databases the jobs read.

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"
#include "support/process.hpp"

namespace outpost::test {

using Json = nlohmann::json;
using namespace std::chrono_literals;

/// A SQL statement that counts to the value in knob.n: seconds of CPU for a
/// large n, instant for a small one (SQLite evaluates the subquery once).
inline const char* kKnobSql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < (SELECT n FROM "
    "knob)) "
    "SELECT count(*) AS n FROM c";
/// Effectively endless for the knob query (until cancelled).
inline constexpr long long kEndless = 100'000'000'000LL;

struct Agent {
  std::shared_ptr<Process> process;
  /// The health server's port; 0 = the agent bound 127.0.0.1:0 and the port
  /// is read from its `agent starting` line on first use.
  mutable std::uint16_t health_port = 0;

  /// The JSON log lines whose msg is `msg`.
  [[nodiscard]] std::vector<Json> lines(const std::string& msg) const {
    std::vector<Json> out;
    std::istringstream in(process->stdout_text());
    std::string line;
    while (std::getline(in, line)) {
      Json j = Json::parse(line, nullptr, false);
      if (j.is_object() && j.value("msg", "") == msg) out.push_back(std::move(j));
    }
    return out;
  }
  bool wait_for_msg(const std::string& msg, std::chrono::milliseconds timeout) const {
    return process->wait_for_output("\"msg\":\"" + msg + "\"", timeout);
  }
  /// The health server's port (waits up to 10 s for the agent to report it).
  [[nodiscard]] std::uint16_t port() const {
    if (health_port != 0 || !wait_for_msg("agent starting", 10s)) return health_port;
    for (const auto& line : lines("agent starting")) {
      health_port = line.value("health_port", std::uint16_t{0});
    }
    return health_port;
  }
  /// GET on the health server; status 0 when it does not answer.
  [[nodiscard]] HttpResponse health(const std::string& path) const {
    try {
      if (port() == 0) return {};
      HttpTestClient c("127.0.0.1", port());
      return c.request("GET", path, {}, {}, 2s);
    } catch (const std::exception&) {
      return {};
    }
  }
  /// Value of a metric line that starts with `series` (name plus labels).
  [[nodiscard]] double metric(const std::string& series) const {
    auto r = health("/metrics");
    std::istringstream in(r.body);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
  }
};

class AgentE2E : public ::testing::Test {
 protected:
  static constexpr const char* kAdminToken = "e2e-admin-token-0b7d";

  void TearDown() override {
    if (HasFailure()) {
      for (const auto& p : dump_) {
        std::fprintf(stderr, "---- agent stdout (tail)\n%s\n---- agent stderr\n%s\n",
                     tail(p->stdout_text()).c_str(), p->stderr_text().c_str());
      }
      if (hub_) std::fprintf(stderr, "---- hub stderr\n%s\n", tail(hub_->stderr_text()).c_str());
    }
  }

  static std::string tail(const std::string& s) {
    return s.size() > 6000 ? s.substr(s.size() - 6000) : s;
  }

  /// Starts the hub with short leases and heartbeats so the tests run fast.
  void start_hub(std::vector<std::string> extra = {}) { launch_hub(std::move(extra)); }

  /// Starts outpost-hub on 127.0.0.1:0 and reads its port back from its
  /// `hub started` line (a restart reuses that port, so agents pointed at it
  /// find it again). The fixture's short --lease-ttl, --heartbeat-interval and
  /// --poll-wait apply unless `extra` gives them (the hub refuses a repeated
  /// option). `tls`: the hub serves HTTPS and the admin client verifies it.
  void launch_hub(std::vector<std::string> extra, std::optional<TlsClientOptions> tls = {}) {
    std::vector<std::string> args{hub_binary(), "--listen",
                                  "127.0.0.1:" + std::to_string(hub_port_), "--admin-token",
                                  kAdminToken};
    for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--lease-ttl", "3s"},
                                      {"--heartbeat-interval", "500ms"},
                                      {"--poll-wait", "5s"}}) {
      if (std::find(extra.begin(), extra.end(), flag) == extra.end()) {
        args.insert(args.end(), {flag, value});
      }
    }
    args.insert(args.end(), extra.begin(), extra.end());
    hub_ = std::make_unique<Process>(Process::Options{args, {}, std::nullopt, {}});
    admin_.reset();
    admin_tls_ = std::move(tls);
    ASSERT_TRUE(hub_->wait_for_output("\"msg\":\"hub started\"", 20s))
        << "hub did not start: " << hub_->stderr_text() << hub_->stdout_text();
    if (hub_port_ == 0) {
      std::istringstream in(hub_->stdout_text());
      std::string line;
      while (std::getline(in, line)) {
        const Json j = Json::parse(line, nullptr, false);
        if (j.is_object() && j.value("msg", "") == "hub started") {
          hub_port_ = j.value("port", std::uint16_t{0});
        }
      }
      ASSERT_NE(hub_port_, 0) << "no port in the hub's start line: " << hub_->stdout_text();
    }
    // Listening already; this only proves the admin API answers.
    ASSERT_EQ(admin().get("/api/v1/admin/agents").status, 200) << hub_->stderr_text();
  }

  [[nodiscard]] std::string hub_url() const {
    return "http://127.0.0.1:" + std::to_string(hub_port_) + "/api";
  }

  HttpTestClient& admin() {
    if (!admin_) {
      admin_ = std::make_unique<HttpTestClient>("127.0.0.1", hub_port_, admin_tls_);
      admin_->set_header("Authorization", std::string("Bearer ") + kAdminToken);
    }
    return *admin_;
  }

  Json admin_json(const std::string& method, const std::string& target, const Json& body,
                  int expected_status) {
    auto r = admin().request(method, "/api/v1/admin" + target, body.is_null() ? "" : body.dump(),
                             {{"Content-Type", "application/json"}});
    EXPECT_EQ(r.status, expected_status) << method << " " << target << ": " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    return j.is_discarded() ? Json() : j;
  }

  std::string create_token() {
    return admin_json("POST", "/tokens", {{"name", "e2e-agent"}}, 201).value("token", "");
  }

  std::string create_sqlite_source(const std::filesystem::path& db,
                                   const std::string& name = "warehouse") {
    return admin_json("POST", "/sources",
                      {{"name", name}, {"type", "sqlite"}, {"config", {{"path", db.string()}}}},
                      201)
        .value("id", "");
  }

  /// Creates a job. `max_attempts` 0 keeps the hub's default (3 attempts, so
  /// a retryable failure runs again); a test of one attempt's outcome passes 1.
  std::string create_job(const std::string& source_id, const std::string& sql,
                         int timeout_ms = 60000, const std::string& type = "query",
                         int max_attempts = 0) {
    Json body{{"source_id", source_id}, {"type", type}, {"timeout_ms", timeout_ms}};
    if (type == "query") body["params"] = {{"sql", sql}};
    if (max_attempts > 0) body["max_attempts"] = max_attempts;
    return admin_json("POST", "/jobs", body, 201).value("id", "");
  }

  Json job(const std::string& id) { return admin_json("GET", "/jobs/" + id, nullptr, 200); }

  /// Waits until the job reaches a final status; returns it (null on timeout).
  Json wait_finished(const std::string& id, std::chrono::milliseconds timeout) {
    Json last;
    const bool done = eventually(
        [&] {
          last = job(id);
          const auto s = last.value("status", "");
          return s == "succeeded" || s == "failed" || s == "cancelled";
        },
        timeout);
    EXPECT_TRUE(done) << "job " << id << " did not finish: " << last.dump();
    return done ? last : Json();
  }

  /// Starts an agent; the token goes in through AGENT_TOKEN, never argv.
  Agent start_agent(const std::string& token, std::vector<std::string> extra = {},
                    std::optional<std::string> url = std::nullopt) {
    Agent a;
    std::vector<std::string> args{agent_binary(),  "-u",          url.value_or(hub_url()),
                                  "--health-addr", "127.0.0.1:0", "--backoff-strategy",
                                  "fallback"};
    if (std::find(extra.begin(), extra.end(), "--max-concurrency") == extra.end()) {
      args.insert(args.end(), {"--max-concurrency", "4"});
    }
    // The tests' SQLite files live in dir_; without --sqlite-dirs the agent
    // refuses every SQLite file. A test passing its own keeps it.
    if (std::find(extra.begin(), extra.end(), "--sqlite-dirs") == extra.end()) {
      args.insert(args.end(), {"--sqlite-dirs", dir_.path().string()});
    }
    args.insert(args.end(), extra.begin(), extra.end());
    a.process = std::make_shared<Process>(
        Process::Options{args, {{"AGENT_TOKEN", token}}, std::nullopt, {}});
    return a;
  }

  /// The agent's output is printed if the test fails.
  void keep_logs(const Agent& a) { dump_.push_back(a.process); }

  /// A SQLite file with a `knob(n)` table and a few `items`.
  static void make_db(const std::filesystem::path& path, long long knob) {
    std::filesystem::remove(path);
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql = "CREATE TABLE knob(n INTEGER); INSERT INTO knob VALUES (" +
                            std::to_string(knob) +
                            "); CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT);"
                            "INSERT INTO items(name) VALUES ('alpha'), ('beta'), ('gamma');";
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  /// Points `link` at `target` atomically (a running query keeps its file).
  static void point_link(const std::filesystem::path& link, const std::filesystem::path& target) {
    const auto tmp = link.string() + ".tmp";
    std::filesystem::remove(tmp);
    std::filesystem::create_symlink(target, tmp);
    std::filesystem::rename(tmp, link);
  }

  TempDir dir_;
  std::uint16_t hub_port_ = 0;  ///< 0 until the hub reported the port it bound
  std::unique_ptr<Process> hub_;
  std::unique_ptr<HttpTestClient> admin_;
  std::optional<TlsClientOptions> admin_tls_;
  std::vector<std::shared_ptr<Process>> dump_;
};

/// Milliseconds since the epoch of a log line's "ts" (RFC 3339 UTC with ms).
inline long long ts_ms(const Json& line) {
  const std::string ts = line.value("ts", "");
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(ts.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7) {
    return -1;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<long long>(timegm(&tm)) * 1000 + ms;
}

}  // namespace outpost::test
