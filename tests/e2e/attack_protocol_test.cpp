// Issue 14, class 7, as an attacker holding the control plane: hostile job
// fields served by tests/support/hostile_server to a real outpost-agent. A
// job whose id or lease token is unsafe in a request path or header is
// dropped (logged, counted), never answered; a document nested 100,000 deep
// is a protocol error, never a crash. Each test also hands out a well-formed
// job afterwards and waits for its result, so "no request for the bad job"
// is measured against an agent that demonstrably answers jobs.

#include <signal.h>

#include <atomic>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "e2e/security_fixture.hpp"
#include "support/hostile_server.hpp"

namespace outpost::test {
namespace {

using Action = HostileServer::Action;
constexpr const char* kHostileToken = "attack-protocol-token-2c9e";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// A postgres job aimed at `db_port` (a CountingListener: it fails at once).
Json job(const std::string& id, const std::string& lease_token, std::uint16_t db_port) {
  return Json{{"id", id},
              {"type", "query"},
              {"attempt", 1},
              {"lease", {{"token", lease_token}, {"expires_at", "2099-01-01T00:00:00Z"}}},
              {"source",
               {{"type", "postgres"},
                {"config", {{"host", "127.0.0.1"}, {"port", db_port}, {"user", "u"}}}}},
              {"params", {{"sql", "SELECT 1"}}}};
}

/// A control plane that hands out `first` (a raw claim body) on the first
/// claim, then a well-formed job "job_ok", then nothing; answers the rest.
HostileServer::Handler control_plane(std::string first, std::uint16_t db_port) {
  auto claims = std::make_shared<std::atomic<int>>(0);
  const std::string ok = Json{{"jobs", Json::array({job("job_ok", "l_ok", db_port)})}}.dump();
  return [first, ok, claims](const HostileServer::Request& r) {
    if (ends_with(r.target, "/v1/agent/connect")) {
      return Action::json(
          200,
          R"({"agent_id":"agt_x","poll_wait_ms":300,"heartbeat_interval_ms":500,"lease_ttl_ms":5000})");
    }
    if (ends_with(r.target, "/v1/agent/jobs/claim")) {
      const int n = (*claims)++;
      if (n == 0) return Action::json(200, first);
      if (n == 1) return Action::json(200, ok);
      return Action::json(200, R"({"jobs":[]})");
    }
    return Action::json(200, "{}");
  };
}

class AttackProtocol : public ::testing::Test {
 protected:
  void TearDown() override {
    if (agent_ && HasFailure()) {
      std::cerr << "agent stdout:\n"
                << agent_->stdout_text() << "\nstderr:\n"
                << agent_->stderr_text() << "\n";
    }
    if (agent_) {
      const std::string all = agent_->stdout_text() + agent_->stderr_text();
      EXPECT_EQ(all.find(kHostileToken), std::string::npos) << "the token is in the agent output";
    }
  }

  void start(const std::string& base_url) {
    health_port_ = free_port();
    agent_ = std::make_unique<Process>(
        Process::Options{{agent_binary(), "-u", base_url, "--health-addr",
                          "127.0.0.1:" + std::to_string(health_port_), "--backoff-strategy",
                          "fallback", "--max-concurrency", "2"},
                         {{"AGENT_TOKEN", kHostileToken}},
                         std::nullopt,
                         {}});
    ASSERT_TRUE(agent_->wait_for_output("\"agent started\"", 15s)) << agent_->stdout_text();
  }

  int healthz() const {
    try {
      HttpTestClient c("127.0.0.1", health_port_);
      return c.request("GET", "/healthz", {}, {}, 2s).status;
    } catch (const std::exception&) {
      return 0;
    }
  }

  double metric(const std::string& series) const {
    try {
      HttpTestClient c("127.0.0.1", health_port_);
      std::istringstream in(c.request("GET", "/metrics", {}, {}, 2s).body);
      for (std::string line; std::getline(in, line);) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
      }
    } catch (const std::exception&) {
    }
    return -1;
  }

  /// The hostile job was dropped: the well-formed job that followed it got
  /// its result posted, and no request ever named anything but job_ok.
  void expect_dropped(const HostileServer& server, const CountingListener& db) {
    ASSERT_TRUE(eventually([&] { return server.count("/jobs/job_ok/result") >= 1; }, 30s))
        << "the control job was never answered";
    EXPECT_TRUE(agent_->wait_for_output("claimed job cannot be answered and is skipped", 5s));
    for (const auto& r : server.requests()) {
      const bool known = ends_with(r.target, "/v1/agent/connect") ||
                         ends_with(r.target, "/v1/agent/heartbeat") ||
                         ends_with(r.target, "/v1/agent/jobs/claim") ||
                         r.target.find("/v1/agent/jobs/job_ok/") != std::string::npos;
      EXPECT_TRUE(known) << "request for the hostile job: " << r.method << " " << r.target;
      EXPECT_EQ(r.headers.find("X-Injected"), std::string::npos) << r.headers;
      EXPECT_EQ(r.target.find(".."), std::string::npos) << r.target;
    }
    EXPECT_EQ(db.accepts(), 1) << "only the control job may dial the database";
    EXPECT_GE(metric("outpost_claims_total{result=\"unanswerable_job\"}"), 1);
    EXPECT_TRUE(agent_->running());
    EXPECT_EQ(healthz(), 200);
  }

  std::unique_ptr<Process> agent_;
  std::uint16_t health_port_ = 0;
};

TEST_F(AttackProtocol, JobIdDotDotIsDroppedNotPostedAsADotSegment) {
  CountingListener db;
  HostileServer server(
      control_plane(Json{{"jobs", Json::array({job("..", "l_1", db.port())})}}.dump(), db.port()));
  start(server.base_url());
  expect_dropped(server, db);
}

TEST_F(AttackProtocol, JobIdWithSlashesIsDropped) {
  CountingListener db;
  HostileServer server(control_plane(
      Json{{"jobs", Json::array({job("../../connect?x=", "l_1", db.port())})}}.dump(), db.port()));
  start(server.base_url());
  expect_dropped(server, db);
}

TEST_F(AttackProtocol, LeaseTokenWithCrLfIsNeverSentAsAHeader) {
  CountingListener db;
  const std::string smuggle =
      "l_1\r\nX-Injected: yes\r\nContent-Length: 0\r\n\r\nPOST /api/v1/agent/smuggled HTTP/1.1";
  HostileServer server(control_plane(
      Json{{"jobs", Json::array({job("job_crlf", smuggle, db.port())})}}.dump(), db.port()));
  start(server.base_url());
  expect_dropped(server, db);
  EXPECT_EQ(server.count("/smuggled"), 0u);
}

TEST_F(AttackProtocol, ParamsNested100000DeepAreAProtocolErrorNotACrash) {
  CountingListener db;
  Json shallow = job("job_deep", "l_1", db.port());
  shallow["params"]["x"] = "DEEP";
  // params.x = [[[…]]] 100,000 levels deep: valid JSON, only too deep.
  std::string deep = shallow.dump();
  const std::string nest = std::string(100'000, '[') + std::string(100'000, ']');
  deep.replace(deep.find("\"DEEP\""), 6, nest);
  const std::string body = "{\"jobs\":[" + deep + "]}";
  ASSERT_NE(body.find(std::string(1000, '[')), std::string::npos);
  HostileServer server(control_plane(body, db.port()));
  start(server.base_url());
  // The deep answer is refused as a protocol error (backoff), then the next
  // claim brings the control job, which is answered.
  ASSERT_TRUE(eventually([&] { return server.count("/jobs/job_ok/result") >= 1; }, 30s))
      << agent_->stdout_text();
  EXPECT_TRUE(agent_->wait_for_output("deeper than 64 levels", 5s));
  EXPECT_EQ(server.count("/jobs/job_deep/result"), 0u);
  EXPECT_EQ(db.accepts(), 1);
  EXPECT_TRUE(agent_->running());
  EXPECT_EQ(healthz(), 200);
  agent_->signal(SIGTERM);
  EXPECT_EQ(agent_->wait(15s), std::optional<int>(0));
}

TEST_F(AttackProtocol, RenewedLeaseTokenWithCrLfIsNeverSent) {
  // A database that accepts and never answers keeps the job running while
  // the lease keeper renews; every renewal hands back a CR/LF token.
  HostileServer hanging_db([](const HostileServer::Request&) {
    Action a;
    a.kind = Action::Kind::kHang;
    return a;
  });
  Json running = job("job_hb", "l_1", hanging_db.port());
  running["timeout_ms"] = 4000;
  const std::string first = Json{{"jobs", Json::array({running})}}.dump();
  auto claims = std::make_shared<std::atomic<int>>(0);
  HostileServer server([first, claims](const HostileServer::Request& r) {
    if (ends_with(r.target, "/v1/agent/connect")) {
      return Action::json(
          200,
          R"({"agent_id":"agt_x","poll_wait_ms":300,"heartbeat_interval_ms":300,"lease_ttl_ms":5000})");
    }
    if (ends_with(r.target, "/v1/agent/jobs/claim")) {
      return Action::json(200, (*claims)++ == 0 ? first : std::string(R"({"jobs":[]})"));
    }
    if (ends_with(r.target, "/jobs/job_hb/heartbeat")) {
      return Action::json(200, Json{{"lease",
                                     {{"token", "l_2\r\nX-Injected: yes\r\n\r\nPOST /smuggled"},
                                      {"expires_at", "2099-01-01T00:00:00Z"}}},
                                    {"cancel_requested", false}}
                                   .dump());
    }
    return Action::json(200, "{}");
  });
  start(server.base_url());
  ASSERT_TRUE(eventually([&] { return server.count("/jobs/job_hb/heartbeat") >= 3; }, 20s))
      << agent_->stdout_text();
  EXPECT_TRUE(
      agent_->wait_for_output("holds characters or a length a lease token may not have", 5s));
  for (const auto& r : server.requests()) {
    EXPECT_EQ(r.headers.find("X-Injected"), std::string::npos) << r.headers;
    EXPECT_EQ(r.body.find("X-Injected"), std::string::npos) << r.body;
    EXPECT_EQ(r.target.find("smuggled"), std::string::npos) << r.target;
  }
  EXPECT_TRUE(agent_->running());
  EXPECT_EQ(healthz(), 200);
}

}  // namespace
}  // namespace outpost::test
