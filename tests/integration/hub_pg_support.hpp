#pragma once

// Helpers of the PostgreSQL store tests: a throwaway cluster with a role and
// a database per test, the hub as a real process on that store, and the
// agent protocol calls those tests make.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::test::pgstore {

using Json = nlohmann::json;
using namespace std::chrono_literals;

inline constexpr const char* kAdminToken = "admin-secret-for-pg-tests";

/// The cluster shared by a test binary (initdb costs seconds), a fresh
/// database and login role for each test.
class StoreEnv {
 public:
  static PostgresServer& server() {
    static PostgresServer* s = new PostgresServer();  // lives until exit (watchdog cleans up)
    return *s;
  }

  StoreEnv() {
    static std::atomic<int> counter{0};
    db_ = "hub_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    password_ = "pw-" + db_ + "-Secret";
    server().exec("CREATE ROLE " + db_ + " LOGIN PASSWORD '" + password_ + "'");
    server().exec("CREATE DATABASE " + db_ + " OWNER " + db_);
    password_file_ = dir_.path() / "store-password";
    std::ofstream(password_file_) << password_ << "\n";
  }

  /// postgres://ROLE@127.0.0.1:PORT/DB (no password: it goes in a file).
  [[nodiscard]] std::string url() const {
    return "postgres://" + db_ + "@127.0.0.1:" + std::to_string(server().port()) + "/" + db_ +
           "?sslmode=disable";
  }
  [[nodiscard]] const std::string& password() const { return password_; }
  [[nodiscard]] std::string password_file() const { return password_file_.string(); }
  [[nodiscard]] const std::string& database() const { return db_; }

  /// First column of a query in this test's database, as text.
  [[nodiscard]] std::vector<std::string> query(const std::string& sql) const {
    return server().query_column(sql, db_);
  }
  [[nodiscard]] std::int64_t count(const std::string& sql) const {
    return std::stoll(query(sql).at(0));
  }

  /// pg_ctl stop -m fast / start on the same data directory and port.
  static void stop_server();
  static void start_server();

 private:
  TempDir dir_;
  std::string db_, password_;
  std::filesystem::path password_file_;
};

/// outpost-hub as a child process on 127.0.0.1 and an ephemeral port, on the
/// PostgreSQL store of `env`.
class HubProcess {
 public:
  HubProcess(const StoreEnv& env, std::vector<std::string> extra = {}) {
    Process::Options o;
    o.args = {hub_binary(),
              "--listen",
              "127.0.0.1:0",
              "--admin-token",
              kAdminToken,
              "--store",
              env.url(),
              "--store-password-file",
              env.password_file(),
              "--lease-ttl",
              "30s",
              "--retain",
              "168h"};
    o.args.insert(o.args.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(std::move(o));
  }

  /// Waits for "hub started" and reads the port from that log line.
  bool wait_started(std::chrono::milliseconds timeout = 30s) {
    // Give up at once if the hub exits instead (bad flag, store unreachable).
    const bool started = eventually(
        [&] {
          return process_->stdout_text().find("\"hub started\"") != std::string::npos ||
                 !process_->running();
        },
        timeout);
    if (!started || process_->stdout_text().find("\"hub started\"") == std::string::npos) {
      return false;
    }
    std::istringstream lines(process_->stdout_text());
    for (std::string line; std::getline(lines, line);) {
      if (line.find("\"hub started\"") == std::string::npos) continue;
      auto j = Json::parse(line, nullptr, false);
      if (j.is_object() && j.contains("port")) port_ = j["port"].get<std::uint16_t>();
    }
    return port_ != 0;
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }
  Process& process() { return *process_; }
  [[nodiscard]] std::string output() const {
    return process_->stdout_text() + process_->stderr_text();
  }

  std::unique_ptr<HttpTestClient> client(const std::string& bearer = {}) const {
    auto c = std::make_unique<HttpTestClient>("127.0.0.1", port_);
    if (!bearer.empty()) c->set_header("Authorization", "Bearer " + bearer);
    return c;
  }
  std::unique_ptr<HttpTestClient> admin() const { return client(kAdminToken); }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

inline Json parse(const HttpResponse& r) {
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

/// POST /v1/admin/tokens → the agent's secret.
inline std::string create_token(HttpTestClient& admin, const std::string& name = "agent") {
  auto r = admin.post("/api/v1/admin/tokens", Json{{"name", name}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return parse(r).value("token", "");
}

/// POST /v1/admin/jobs of a query job on a {"ref"} source → the job id.
inline std::string create_job(HttpTestClient& admin) {
  auto r = admin.post(
      "/api/v1/admin/jobs",
      Json{{"source", {{"ref", "warehouse"}}}, {"type", "query"}, {"params", {{"sql", "SELECT 1"}}}}
          .dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return parse(r).value("id", "");
}

inline HttpResponse claim(HttpTestClient& agent, const std::string& instance, int capacity,
                          int wait_ms) {
  return agent.request(
      "POST", "/api/v1/agent/jobs/claim",
      Json{{"instance_id", instance}, {"capacity", capacity}, {"wait_ms", wait_ms}}.dump(),
      {{"Content-Type", "application/json"}, {"X-Outpost-Instance", instance}},
      std::chrono::milliseconds(wait_ms + 15'000));
}

inline HttpResponse post_result(HttpTestClient& agent, const std::string& job_id,
                                const std::string& lease, std::uint64_t parts = 0) {
  Json body{{"lease_token", lease},
            {"status", "succeeded"},
            {"parts", parts},
            {"result", {{"columns", {{{"name", "n"}, {"type", "int8"}}}}, {"truncated", false}}}};
  return agent.post("/api/v1/agent/jobs/" + job_id + "/result", body.dump());
}

/// Renews a lease as the agent's lease keeper does (protocol §5); the answer
/// carries the token to use from then on.
inline HttpResponse heartbeat(HttpTestClient& agent, const std::string& job_id,
                              const std::string& lease) {
  return agent.post("/api/v1/agent/jobs/" + job_id + "/heartbeat",
                    Json{{"lease_token", lease}}.dump());
}

inline HttpResponse put_part(HttpTestClient& agent, const std::string& job_id,
                             const std::string& lease, std::uint64_t seq,
                             const std::string& ndjson) {
  return agent.request("PUT", "/api/v1/agent/jobs/" + job_id + "/parts/" + std::to_string(seq),
                       ndjson,
                       {{"Content-Type", "application/x-ndjson"}, {"X-Lease-Token", lease}});
}

/// p-th percentile (0..100) of `values` (sorted in place).
inline double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto i = static_cast<std::size_t>((p / 100.0) * static_cast<double>(values.size() - 1));
  return values[i];
}

}  // namespace outpost::test::pgstore
