// Reliability scenarios (issue 10) with real processes: outpost-hub, agents,
// a throwaway PostgreSQL, and a fault-injecting proxy between them. Each test
// asserts that no job is lost or accepted twice, the agent never hangs, its
// memory stays bounded, and /healthz keeps answering.

#include <signal.h>

#include <map>
#include <set>
#include <thread>

#include "e2e/agent_fixture.hpp"
#include "support/fault_proxy.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

class FaultScenarios : public AgentE2E {
 protected:
  void SetUp() override {
    pg_ = std::make_unique<PostgresServer>();
    pg_->exec(
        "CREATE ROLE observer LOGIN PASSWORD 'observer-pw-81f2'; GRANT pg_read_all_data TO "
        "observer;");
  }

  /// A postgres source on the hub, reached directly or through `via_port`.
  std::string pg_source(std::uint16_t via_port = 0) {
    auto config = pg_->source_config("observer", "observer-pw-81f2");
    if (via_port != 0) config["port"] = via_port;
    return admin_json("POST", "/sources",
                      {{"name", "pg"}, {"type", "postgres"}, {"config", config}}, 201)
        .value("id", "");
  }

  void expect_alive(const Agent& a, const std::string& context) {
    EXPECT_TRUE(a.process->running()) << context;
    EXPECT_EQ(a.health("/healthz").status, 200) << context;
  }

  std::unique_ptr<PostgresServer> pg_;
};

TEST_F(FaultScenarios, HubPartitionedDuringResultUploadLosesNothing) {
  // Long leases so a 30 s partition does not hand the job to another attempt;
  // small parts so the upload is under way when the partition starts.
  start_hub({"--lease-ttl", "90s", "--max-part-bytes", "65536"});
  const auto token = create_token();
  const auto source = pg_source();
  FaultProxy proxy(hub_port_);
  auto agent = start_agent(token, {}, "http://127.0.0.1:" + std::to_string(proxy.port()) + "/api");
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 10s));

  const auto id =
      create_job(source, "SELECT g, md5(g::text) FROM generate_series(1, 400000) g", 300000);
  // Partition once some parts are through.
  ASSERT_TRUE(eventually([&] { return proxy.bytes_forwarded() > 2 * 65536; }, 30s));
  proxy.set_blackhole(true);
  const auto partition_end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < partition_end) {
    expect_alive(agent, "during partition");
    std::this_thread::sleep_for(2s);
  }
  proxy.set_blackhole(false);

  const auto view = wait_finished(id, 180s);
  ASSERT_EQ(view.value("status", ""), "succeeded") << view.dump().substr(0, 2000);
  EXPECT_EQ(view.value("attempt", 0), 1);
  const auto& rows = view["rows"];
  ASSERT_EQ(rows.size(), 400000u);
  std::set<long long> seen;
  for (const auto& r : rows) seen.insert(r[0].get<long long>());
  EXPECT_EQ(seen.size(), 400000u) << "rows were duplicated or lost across the partition";
#if defined(__SANITIZE_ADDRESS__)
  // ASan's quarantine and redzones hold freed memory (measured ~520 MiB peak
  // here): only a guard against unbounded growth under the sanitizer.
  EXPECT_LT(agent.process->peak_rss_kib(), 1024u * 1024u);
#else
  EXPECT_LT(agent.process->peak_rss_kib(), 96u * 1024u);
#endif
  expect_alive(agent, "after partition");
}

TEST_F(FaultScenarios, PostgresBackendKilledMidQueryFailsTheJobAndFreesTheWorker) {
  start_hub();
  const auto token = create_token();
  const auto source = pg_source();
  auto agent = start_agent(token, {"--max-concurrency", "1"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 10s));

  // One attempt: a killed backend is a retryable failure, and this test is
  // about that attempt's outcome, not the hub's retry of it.
  const auto id = create_job(source, "SELECT pg_sleep(30)", 60000, "query", 1);
  ASSERT_TRUE(eventually(
      [&] {
        return pg_->query_column(
                      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT "
                      "pg_sleep(30)%' AND pid <> pg_backend_pid()")
                   .at(0) == "1";
      },
      15s));
  pg_->exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%SELECT "
      "pg_sleep(30)%' AND pid <> pg_backend_pid()");
  const auto view = wait_finished(id, 15s);
  EXPECT_EQ(view.value("status", ""), "failed") << view.dump();
  EXPECT_FALSE(view["error"].value("message", "").empty());

  // The one worker is free again and the pool did not keep the dead connection.
  const auto next = wait_finished(create_job(source, "SELECT 42"), 15s);
  EXPECT_EQ(next.value("status", ""), "succeeded") << next.dump();
  expect_alive(agent, "after backend kill");
}

TEST_F(FaultScenarios, BlackHoledPostgresTimesOutAndFreesTheWorker) {
  start_hub();
  const auto token = create_token();
  FaultProxy db_proxy(pg_->port());
  const auto source = pg_source(db_proxy.port());
  auto agent = start_agent(token, {"--max-concurrency", "1"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 10s));
  // Warm the pool through the proxy, then swallow all traffic.
  ASSERT_EQ(wait_finished(create_job(source, "SELECT 1"), 15s).value("status", ""), "succeeded");
  db_proxy.set_blackhole(true);

  const auto started = std::chrono::steady_clock::now();
  const auto id = create_job(source, "SELECT 2", 3000, "query", 1);
  const auto view = wait_finished(id, 30s);
  EXPECT_EQ(view.value("status", ""), "failed") << view.dump();
  EXPECT_EQ(view["error"].value("code", ""), "timeout") << view.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 20s);
  expect_alive(agent, "black-holed database");

  // The worker is free: a job against a healthy path runs.
  db_proxy.set_blackhole(false);
  const auto direct = pg_source();
  const auto next = wait_finished(create_job(direct, "SELECT 3"), 20s);
  EXPECT_EQ(next.value("status", ""), "succeeded") << next.dump();
}

// SIGTERM while jobs are in flight: the agent lets every job it started
// finish within the grace, hands back what it had not started, exits 0, and
// every job ends exactly once. How many of the 50 run at the same moment is
// up to the machine (under contention the first finish before the last
// start), so the test does not wait for all 50 at once: it signals as soon
// as jobs are running, and a second agent runs whatever the first handed
// back or never claimed.
TEST_F(FaultScenarios, FiftyJobsInFlightFinishOnSigterm) {
  start_hub();
  const auto token = create_token();
  const auto source = pg_source();
  auto agent = start_agent(token, {"--max-concurrency", "50", "--shutdown-grace", "30s"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 10s));
  std::vector<std::string> ids;
  for (int i = 0; i < 50; ++i)
    ids.push_back(create_job(source, "SELECT pg_sleep(2), " + std::to_string(i)));
  ASSERT_TRUE(eventually(
      [&] {
        return pg_->query_column(
                      "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT "
                      "pg_sleep(2), %' AND pid <> pg_backend_pid()")
                   .at(0) != "0";
      },
      30s));
  agent.process->signal(SIGTERM);
  EXPECT_EQ(agent.process->wait(40s), std::optional<int>(0));
  EXPECT_FALSE(agent.lines("agent stopped").empty());
  // Within the 30 s grace nothing the agent started was cut short.
  for (const auto& line : agent.lines("job finished")) {
    EXPECT_TRUE(line.value("status", "") == "succeeded" || line.value("status", "") == "released")
        << line.dump();
  }

  auto second = start_agent(token, {"--max-concurrency", "50"});
  keep_logs(second);
  std::map<std::string, int> succeeded;
  for (const auto& id : ids) {
    const auto view = wait_finished(id, 60s);
    EXPECT_EQ(view.value("status", ""), "succeeded") << id << " " << view.dump();
    ASSERT_EQ(view["rows"].size(), 1u) << id;
  }
  for (const auto* a : {&agent, &second}) {
    for (const auto& line : a->lines("job finished")) {
      if (line.value("status", "") == "succeeded") ++succeeded[line.value("job_id", "")];
    }
  }
  for (const auto& id : ids) EXPECT_EQ(succeeded[id], 1) << id << " did not succeed exactly once";
}

TEST_F(FaultScenarios, KillAndRestartUnderLoadWithTwoAgents) {
  start_hub();
  const auto token = create_token();
  const auto source = pg_source();
  auto a = start_agent(token, {"--max-concurrency", "4"});
  auto b = start_agent(token, {"--max-concurrency", "4"});
  keep_logs(a);
  keep_logs(b);
  ASSERT_TRUE(a.wait_for_msg("agent started", 10s));
  ASSERT_TRUE(b.wait_for_msg("agent started", 10s));
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) {
    ids.push_back(create_job(source, "SELECT pg_sleep(0.05), " + std::to_string(i)));
  }
  // Kill one agent hard while work is flowing, then bring a replacement up.
  ASSERT_TRUE(eventually([&] { return !a.lines("job finished").empty(); }, 20s));
  a.process->signal(SIGKILL);
  a.process->wait(5s);
  auto c = start_agent(token, {"--max-concurrency", "4"});
  keep_logs(c);
  ASSERT_TRUE(c.wait_for_msg("agent started", 10s));

  for (const auto& id : ids) {
    const auto view = wait_finished(id, 60s);
    EXPECT_EQ(view.value("status", ""), "succeeded") << id << " " << view.dump();
    ASSERT_EQ(view["rows"].size(), 1u) << id;
  }
  // No result was accepted twice: no job has two accepted ("succeeded")
  // results across the agents. (A's log is not complete: SIGKILL can land
  // between the hub accepting a result and A logging it, so the test does
  // not count on A's lines to cover every job; the hub's views above do.)
  std::map<std::string, int> accepted;
  for (const auto* agent : {&a, &b, &c}) {
    for (const auto& line : agent->lines("job finished")) {
      if (line.value("status", "") == "succeeded") ++accepted[line.value("job_id", "")];
    }
  }
  for (const auto& [id, count] : accepted) EXPECT_EQ(count, 1) << id << " accepted twice";
  expect_alive(b, "survivor");
  expect_alive(c, "replacement");
}

}  // namespace
}  // namespace outpost::test
