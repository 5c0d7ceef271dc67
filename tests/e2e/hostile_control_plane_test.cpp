// The agent against a control plane that misbehaves in every way a broken
// server or network does (issue 10): it must never crash or hang, keep
// /healthz answering, keep its memory bounded, and keep retrying with backoff.

#include <signal.h>

#include <atomic>
#include <functional>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/hostile_server.hpp"
#include "support/http_test_client.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using Json = nlohmann::json;
using Action = HostileServer::Action;
using namespace std::chrono_literals;

constexpr const char* kToken = "hostile-test-token-5d1e";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// Answers connect and heartbeats properly, hands claims to `on_claim`, and
/// accepts results, parts and releases.
HostileServer::Handler control_plane(std::function<Action(int claim_number)> on_claim) {
  auto claims = std::make_shared<std::atomic<int>>(0);
  return [on_claim, claims](const HostileServer::Request& r) {
    if (ends_with(r.target, "/v1/agent/connect")) {
      return Action::json(
          200,
          R"({"agent_id":"agt_h","poll_wait_ms":500,"heartbeat_interval_ms":500,"lease_ttl_ms":5000})");
    }
    if (ends_with(r.target, "/v1/agent/jobs/claim")) return on_claim((*claims)++);
    if (ends_with(r.target, "/heartbeat") && r.target.find("/jobs/") != std::string::npos) {
      return Action::json(
          200,
          R"({"lease":{"token":"l1","expires_at":"2099-01-01T00:00:00Z"},"cancel_requested":false})");
    }
    return Action::json(200, "{}");
  };
}

struct RunningAgent {
  std::uint16_t health_port = free_port();
  std::unique_ptr<Process> process;

  RunningAgent(const std::string& url, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{agent_binary(),
                                  "-u",
                                  url,
                                  "--health-addr",
                                  "127.0.0.1:" + std::to_string(health_port),
                                  "--backoff-strategy",
                                  "fallback",
                                  "--max-concurrency",
                                  "2"};
    args.insert(args.end(), extra.begin(), extra.end());
    process = std::make_unique<Process>(Process::Options{args, {{"AGENT_TOKEN", kToken}}, {}, {}});
  }

  int healthz() const {
    try {
      HttpTestClient c("127.0.0.1", health_port);
      return c.request("GET", "/healthz", {}, {}, 2s).status;
    } catch (const std::exception&) {
      return 0;
    }
  }

  /// The agent survived: still running, /healthz answers 200, token not printed.
  void expect_healthy(const std::string& context) const {
    EXPECT_TRUE(process->running()) << context << ": agent exited\n" << process->stderr_text();
    EXPECT_EQ(healthz(), 200) << context;
    EXPECT_EQ(process->stdout_text().find(kToken), std::string::npos) << context;
    EXPECT_EQ(process->stderr_text().find(kToken), std::string::npos) << context;
  }
};

struct HostileCase {
  const char* name;
  std::function<Action()> answer;
  std::chrono::milliseconds observe;
  int min_claims;  // the agent must keep retrying at least this often
};

void PrintTo(const HostileCase& c, std::ostream* os) { *os << c.name; }

class HostileAnswers : public ::testing::TestWithParam<HostileCase> {};

TEST_P(HostileAnswers, AgentSurvivesAndRetries) {
  const auto& c = GetParam();
  HostileServer server(control_plane([&](int) { return c.answer(); }));
  RunningAgent agent(server.base_url());
  ASSERT_TRUE(agent.process->wait_for_output("\"agent started\"", 10s))
      << agent.process->stdout_text();
  ASSERT_TRUE(eventually(
      [&] { return server.count("/jobs/claim") >= static_cast<std::size_t>(c.min_claims); },
      c.observe))
      << c.name << ": the agent stopped retrying; claims=" << server.count("/jobs/claim");
  agent.expect_healthy(c.name);
  // Bounded memory: a 1 GiB body or an endless dribble is never buffered whole.
  EXPECT_LT(agent.process->peak_rss_kib(), 400u * 1024u) << c.name;
  EXPECT_NE(agent.process->stdout_text().find("control plane call failed"), std::string::npos)
      << c.name;
  agent.process->signal(SIGTERM);
  EXPECT_EQ(agent.process->wait(15s), std::optional<int>(0))
      << c.name << agent.process->stdout_text();
}

INSTANTIATE_TEST_SUITE_P(
    Reliability, HostileAnswers,
    ::testing::Values(
        HostileCase{"garbage",
                    [] {
                      Action a;
                      a.kind = Action::Kind::kRaw;
                      a.body = std::string("\x00\xff\x13garbage\r\n\r\n\x7f", 16);
                      return a;
                    },
                    15s, 3},
        HostileCase{"truncated_json",
                    [] { return Action::json(200, R"({"jobs": [{"id": "job_1", "type": "qu)"); },
                    15s, 3},
        HostileCase{"wrong_shape_json", [] { return Action::json(200, R"({"jobs": {"id": 5}})"); },
                    15s, 3},
        HostileCase{"array_instead_of_object", [] { return Action::json(200, "[1,2,3]"); }, 15s, 3},
        HostileCase{"one_gib_body",
                    [] {
                      Action a;
                      a.kind = Action::Kind::kHuge;
                      a.huge_bytes = 1ull << 30;
                      return a;
                    },
                    40s, 2},
        HostileCase{"dribbled_body",
                    [] {
                      Action a = Action::json(200, R"({"jobs": []})");
                      a.kind = Action::Kind::kDribble;
                      a.dribble_interval = 1000ms;
                      return a;
                    },
                    90s, 2},
        HostileCase{"never_answers",
                    [] {
                      Action a;
                      a.kind = Action::Kind::kHang;
                      return a;
                    },
                    90s, 2},
        HostileCase{
            "server_errors_forever",
            [] { return Action::json(500, R"({"error":{"code":"boom","message":"down"}})"); }, 15s,
            4},
        HostileCase{"connection_closed",
                    [] {
                      Action a;
                      a.kind = Action::Kind::kClose;
                      return a;
                    },
                    15s, 3}),
    [](const ::testing::TestParamInfo<HostileCase>& param_info) {
      return std::string(param_info.param.name);
    });

TEST(HostileControlPlane, HonoursRetryAfterOn429) {
  HostileServer server(control_plane([](int) {
    return Action::json(429, R"({"error":{"code":"slow_down","message":"rate limited"}})",
                        "Retry-After: 2\r\n");
  }));
  RunningAgent agent(server.base_url());
  ASSERT_TRUE(agent.process->wait_for_output("\"agent started\"", 10s));
  ASSERT_TRUE(eventually([&] { return server.count("/jobs/claim") >= 3; }, 20s));
  std::vector<std::chrono::steady_clock::time_point> times;
  for (const auto& r : server.requests()) {
    if (ends_with(r.target, "/jobs/claim")) times.push_back(r.at);
  }
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], 1900ms)
        << "claim " << i << " came before Retry-After elapsed";
  }
  agent.expect_healthy("429");
}

TEST(HostileControlPlane, DoesNotFollowRedirectsToAnotherOrigin) {
  HostileServer elsewhere(
      [](const HostileServer::Request&) { return Action::json(200, R"({"jobs":[]})"); });
  const std::string location = "Location: " + elsewhere.base_url() + "/v1/agent/jobs/claim\r\n";
  HostileServer server(control_plane([&](int) { return Action::json(302, "{}", location); }));
  RunningAgent agent(server.base_url());
  ASSERT_TRUE(agent.process->wait_for_output("\"agent started\"", 10s));
  ASSERT_TRUE(eventually([&] { return server.count("/jobs/claim") >= 3; }, 20s));
  EXPECT_EQ(elsewhere.requests().size(), 0u) << "the agent followed a redirect to another origin";
  agent.expect_healthy("redirect");
}

Json query_job(const std::string& id, const std::string& db) {
  return {
      {"id", id},
      {"type", "query"},
      {"attempt", 1},
      {"timeout_ms", 10000},
      {"lease", {{"token", "l_" + id}, {"expires_at", "2099-01-01T00:00:00Z"}}},
      {"source", {{"id", "s1"}, {"name", "db"}, {"type", "sqlite"}, {"config", {{"path", db}}}}},
      {"params", {{"sql", "SELECT 1 AS one"}}}};
}

/// Results posted by the agent, by job id (last one wins).
std::map<std::string, Json> results(const HostileServer& server) {
  std::map<std::string, Json> out;
  for (const auto& r : server.requests()) {
    if (!ends_with(r.target, "/result")) continue;
    const auto start = r.target.find("/jobs/") + 6;
    const auto id = r.target.substr(start, r.target.size() - 7 - start);
    out[id] = Json::parse(r.body, nullptr, false);
  }
  return out;
}

TEST(HostileControlPlane, MoreJobsThanCapacityAndDuplicatesAreEachRunOnce) {
  TempDir dir;
  const auto db = (dir.path() / "x.db").string();
  ASSERT_EQ(std::system(("sqlite3 " + db + " 'CREATE TABLE t(x)'").c_str()), 0);
  HostileServer server(control_plane([&](int n) {
    if (n != 0) return Action::json(200, R"({"jobs":[]})");
    // Capacity is 2; five jobs come back, one of them twice.
    Json jobs = Json::array();
    for (int i = 0; i < 5; ++i) jobs.push_back(query_job("job_" + std::to_string(i), db));
    jobs.push_back(query_job("job_0", db));
    return Action::json(200, Json{{"jobs", jobs}}.dump());
  }));
  RunningAgent agent(server.base_url(), {"--sqlite-dirs", dir.path().string()});
  ASSERT_TRUE(eventually([&] { return results(server).size() >= 5; }, 20s))
      << agent.process->stdout_text();
  const auto posted = results(server);
  for (int i = 0; i < 5; ++i) {
    const auto id = "job_" + std::to_string(i);
    ASSERT_TRUE(posted.count(id)) << id;
    EXPECT_EQ(posted.at(id).value("status", ""), "succeeded") << posted.at(id).dump();
  }
  EXPECT_EQ(server.count("/jobs/job_0/result"), 1u) << "a duplicated job ran twice";
  agent.expect_healthy("over capacity");
}

TEST(HostileControlPlane, MalformedJobsFailAsInvalidJobAndAreNeverDropped) {
  // Each job has an id and a lease (so it can be answered) and one field
  // missing or of the wrong type.
  std::vector<Json> jobs;
  auto base = [](const std::string& id) {
    Json j = query_job(id, "/nonexistent.db");
    return j;
  };
  Json j;
  j = base("bad_type_missing"), j.erase("type"), jobs.push_back(j);
  j = base("bad_type_number"), j["type"] = 7, jobs.push_back(j);
  j = base("bad_source_missing"), j.erase("source"), jobs.push_back(j);
  j = base("bad_source_string"), j["source"] = "db", jobs.push_back(j);
  j = base("bad_config_array"), j["source"]["config"] = Json::array(), jobs.push_back(j);
  j = base("bad_params_string"), j["params"] = "SELECT 1", jobs.push_back(j);
  j = base("bad_sql_number"), j["params"]["sql"] = 42, jobs.push_back(j);
  j = base("bad_timeout_string"), j["timeout_ms"] = "soon", jobs.push_back(j);
  j = base("bad_attempt_string"), j["attempt"] = "one", jobs.push_back(j);
  std::size_t next = 0;
  HostileServer server(control_plane([&](int) {
    if (next >= jobs.size()) return Action::json(200, R"({"jobs":[]})");
    return Action::json(200, Json{{"jobs", Json::array({jobs[next++]})}}.dump());
  }));
  RunningAgent agent(server.base_url());
  ASSERT_TRUE(eventually([&] { return results(server).size() >= jobs.size(); }, 30s))
      << agent.process->stdout_text();
  const auto posted = results(server);
  for (const auto& job : jobs) {
    const auto id = job["id"].get<std::string>();
    ASSERT_TRUE(posted.count(id)) << id << " was dropped";
    EXPECT_EQ(posted.at(id).value("status", ""), "failed") << id;
    EXPECT_EQ(posted.at(id)["error"].value("code", ""), "invalid_job")
        << id << posted.at(id).dump();
  }
  agent.expect_healthy("malformed jobs");
}

}  // namespace
}  // namespace outpost::test
