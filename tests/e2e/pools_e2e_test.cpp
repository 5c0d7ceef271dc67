// Pools and routing end to end (hub-v2.md §3, §4 first bullet): an
// outpost-hub process on a throwaway PostgreSQL store, outpost-agent
// processes with tokens of different pools, SQLite sources for the bulk of
// jobs and the same PostgreSQL server as the source of Test connection.
#include <map>

#include "e2e/agent_fixture.hpp"
#include "integration/hub_pg_support.hpp"

namespace outpost::test {
namespace {

constexpr const char* kObserverPassword = "observer-pw-5c1e-literal";

class PoolsE2E : public AgentE2E {
 protected:
  void SetUp() override {
    start_hub({"--store", env_.url(), "--store-password-file", env_.password_file()});
  }

  std::string make_pool(const std::string& name) {
    return admin_json("POST", "/pools", {{"name", name}}, 201).value("id", "");
  }
  std::string pool_token(const std::string& pool) {
    return admin_json("POST", "/tokens", {{"name", "agent-" + pool}, {"pool_id", pool}}, 201)
        .value("token", "");
  }
  std::string sqlite_source(const std::string& pool, const std::string& file) {
    make_db(dir_.path() / file, 10);
    return admin_json("POST", "/sources",
                      {{"name", file},
                       {"type", "sqlite"},
                       {"pool_id", pool},
                       {"config", {{"path", (dir_.path() / file).string()}}}},
                      201)
        .value("id", "");
  }
  std::string pg_source(const std::string& pool, const std::string& password) {
    static const bool role = [] {
      pgstore::StoreEnv::server().exec(std::string("CREATE ROLE observer LOGIN PASSWORD '") +
                                       kObserverPassword + "'");
      return true;
    }();
    (void)role;
    return admin_json("POST", "/sources",
                      {{"name", "pg-" + password.substr(0, 5)},
                       {"type", "postgres"},
                       {"pool_id", pool},
                       {"config", pgstore::StoreEnv::server().source_config("observer", password)}},
                      201)
        .value("id", "");
  }
  std::int64_t pool_field(const std::string& pool, const char* field) {
    for (const auto& p : admin_json("GET", "/pools", nullptr, 200)) {
      if (p.value("id", "") == pool) return p.value(field, std::int64_t{-1});
    }
    return -1;
  }
  bool wait_agents(const std::string& pool, std::int64_t n) {
    return eventually([&] { return pool_field(pool, "agents_online") == n; }, 30s);
  }
  HttpResponse test_source(const std::string& id, int wait_ms) {
    return admin().request(
        "POST", "/api/v1/admin/sources/" + id + "/test", Json{{"wait_ms", wait_ms}}.dump(),
        {{"Content-Type", "application/json"}}, std::chrono::milliseconds(wait_ms + 30'000));
  }

  pgstore::StoreEnv env_;
};

TEST_F(PoolsE2E, EveryJobRunsOnAnAgentOfItsPoolAndAnIdlePoolKeepsItsQueue) {
  const std::string a = make_pool("net-a"), b = make_pool("net-b"), idle = make_pool("net-idle");
  const std::map<std::string, std::string> source{{a, sqlite_source(a, "a.db")},
                                                  {b, sqlite_source(b, "b.db")},
                                                  {idle, sqlite_source(idle, "idle.db")}};
  std::vector<Agent> agents;
  for (const auto& pool : {a, a, b, b}) {
    agents.push_back(start_agent(pool_token(pool)));
    keep_logs(agents.back());
  }
  ASSERT_TRUE(wait_agents(a, 2));
  ASSERT_TRUE(wait_agents(b, 2));
  // The agent logs the pool its token belongs to (from the connect answer).
  for (std::size_t i = 0; i < agents.size(); ++i) {
    ASSERT_TRUE(agents[i].wait_for_msg("agent started", 20s));
    EXPECT_EQ(agents[i].lines("agent started").at(0).value("pool", ""), i < 2 ? "net-a" : "net-b");
  }

  std::map<std::string, std::string> pool_of;  // job → pool it was created in
  std::vector<std::string> idle_jobs;
  for (int i = 0; i < 220; ++i) {
    const std::string& pool = i % 11 == 10 ? idle : (i % 2 == 0 ? a : b);
    const std::string id = create_job(source.at(pool), kKnobSql);
    if (pool == idle) {
      idle_jobs.push_back(id);
    } else {
      pool_of[id] = pool;
    }
  }
  ASSERT_EQ(pool_of.size(), 200u);
  ASSERT_EQ(idle_jobs.size(), 20u);
  std::map<std::string, std::string> instance_pool;
  for (const auto& [id, pool] : pool_of) {
    const Json done = wait_finished(id, 120s);
    ASSERT_EQ(done.value("status", ""), "succeeded") << done.dump();
    EXPECT_EQ(done.value("pool_id", ""), pool);
    const std::string instance = done.value("agent_instance", "");
    if (!instance_pool.count(instance)) {
      for (const auto& ag : admin_json("GET", "/agents", nullptr, 200)) {
        instance_pool[ag.value("instance_id", "")] = ag.value("pool_id", "");
      }
    }
    EXPECT_EQ(instance_pool[instance], pool) << id << " ran on " << instance;
  }
  // Nobody serves the idle pool: its jobs wait, counted in its queue depth.
  for (const auto& id : idle_jobs) EXPECT_EQ(job(id).value("status", ""), "scheduled");
  EXPECT_EQ(pool_field(idle, "queue_depth"), 20);
  EXPECT_EQ(pool_field(idle, "agents_online"), 0);
  EXPECT_EQ(pool_field(a, "queue_depth"), 0);

  // Deleting the idle pool's source cancels its queued jobs.
  auto del = admin().request("DELETE", "/api/v1/admin/sources/" + source.at(idle), "", {});
  EXPECT_EQ(del.status, 204) << del.body;
  for (const auto& id : idle_jobs) EXPECT_EQ(job(id).value("status", ""), "cancelled");
  EXPECT_EQ(pool_field(idle, "queue_depth"), 0);
  admin_json("GET", "/sources/" + source.at(idle), nullptr, 404);
}

TEST_F(PoolsE2E, TestConnectionSucceedsFailsWithAuthFailedAndAnswersNoAgent) {
  const std::string lan = make_pool("lan"), empty = make_pool("empty");
  auto agent = start_agent(pool_token(lan));
  keep_logs(agent);
  ASSERT_TRUE(wait_agents(lan, 1));

  const std::string good = pg_source(lan, kObserverPassword);
  auto ok = test_source(good, 60000);
  ASSERT_EQ(ok.status, 200) << ok.body;
  Json j = pgstore::parse(ok);
  EXPECT_EQ(j.value("status", ""), "succeeded") << ok.body;
  EXPECT_EQ(j.value("type", ""), "test_connection");
  EXPECT_EQ(j.value("pool_id", ""), lan);

  const std::string wrong = pg_source(lan, "not-the-password-9d2");
  auto failed = test_source(wrong, 60000);
  ASSERT_EQ(failed.status, 200) << failed.body;
  j = pgstore::parse(failed);
  EXPECT_EQ(j.value("status", ""), "failed") << failed.body;
  EXPECT_EQ(j["error"].value("code", ""), "auth_failed") << failed.body;

  // The console's edit form sends the config back as shown (masked): the
  // stored password stays and the test still logs in.
  Json shown = admin_json("GET", "/sources/" + good, nullptr, 200);
  EXPECT_EQ(shown["config"].value("password", ""), "********");
  admin_json("PATCH", "/sources/" + good, {{"name", "pg-renamed"}, {"config", shown["config"]}},
             200);
  ok = test_source(good, 60000);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(pgstore::parse(ok).value("status", ""), "succeeded") << ok.body;

  const std::string nobody = pg_source(empty, kObserverPassword);
  auto none = test_source(nobody, 60000);
  ASSERT_EQ(none.status, 200) << none.body;
  j = pgstore::parse(none);
  EXPECT_EQ(j.value("status", ""), "failed");
  EXPECT_EQ(j["error"].value("code", ""), "no_agent");
  EXPECT_EQ(pool_field(empty, "queue_depth"), 0);  // not left queued

  // No admin answer and no hub log line carries the literal password.
  for (const char* target : {"/sources", "/jobs", "/pools", "/tokens", "/agents"}) {
    auto r = admin().get(std::string("/api/v1/admin") + target);
    EXPECT_EQ(r.body.find(kObserverPassword), std::string::npos) << target;
  }
  EXPECT_EQ(hub_->stdout_text().find(kObserverPassword), std::string::npos);
  EXPECT_EQ(hub_->stderr_text().find(kObserverPassword), std::string::npos);
}

}  // namespace
}  // namespace outpost::test
