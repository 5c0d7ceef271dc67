// The agent and the hub as real processes: jobs before and after the agent
// starts, start-up latency, metrics, start-up refusals (exit 3), job
// timeouts, unsupported jobs, and SIGTERM with short and long jobs.
#include <algorithm>
#include <csignal>

#include "e2e/agent_fixture.hpp"

namespace outpost::test {
namespace {

TEST_F(AgentE2E, JobScheduledBeforeTheAgentStartsRunsOnceItConnects) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 10);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  const auto id = create_job(src, "SELECT name FROM items ORDER BY id");
  auto agent = start_agent(token);
  keep_logs(agent);
  const Json j = wait_finished(id, 30s);
  ASSERT_EQ(j.value("status", ""), "succeeded") << j.dump();
  EXPECT_EQ(j["rows"], Json::parse(R"([["alpha"],["beta"],["gamma"]])"));
  EXPECT_EQ(j["result"]["row_count"], 3);
  EXPECT_EQ(j["result"]["truncated"], false);
  ASSERT_TRUE(agent.wait_for_msg("job finished", 10s));
  const auto received = agent.lines("job received");
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0]["job_id"], id);
  EXPECT_EQ(received[0]["job_type"], "query");
  EXPECT_EQ(received[0]["source"], "warehouse");
  EXPECT_EQ(received[0]["attempt"], 1);
  const auto finished = agent.lines("job finished");
  ASSERT_EQ(finished.size(), 1u);
  EXPECT_TRUE(finished[0].contains("duration_ms"));
  EXPECT_EQ(finished[0]["status"], "succeeded");
}

TEST_F(AgentE2E, JobScheduledWhileIdleIsAnsweredOnTheOutstandingClaim) {
  start_hub({"--poll-wait", "60s"});
  const auto db = dir_.path() / "w.db";
  make_db(db, 10);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token);
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 20s));
  // Warm-up: after this job the next claim has long been outstanding.
  ASSERT_EQ(wait_finished(create_job(src, "SELECT 1"), 20s).value("status", ""), "succeeded");

  std::vector<long long> latencies;
  for (int i = 0; i < 5; ++i) {
    const auto before = agent.lines("job received").size();
    const auto t0 = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    const auto id = create_job(src, "SELECT 1");
    ASSERT_TRUE(eventually([&] { return agent.lines("job received").size() > before; }, 10s));
    const auto line = agent.lines("job received").back();
    ASSERT_EQ(line["job_id"], id);
    latencies.push_back(ts_ms(line) - t0);
    ASSERT_EQ(wait_finished(id, 20s).value("status", ""), "succeeded");
  }
  std::sort(latencies.begin(), latencies.end());
  std::string all;
  for (auto l : latencies) all += std::to_string(l) + " ms ";
  RecordProperty("schedule_to_start_ms", all);
  std::printf("schedule-to-start latencies: %s\n", all.c_str());
  // The 50 ms target is a speed figure (reported above, measured in bench/);
  // what this test asserts is its cause: the job was answered on the claim
  // already outstanding, not on a later poll (the hub holds a claim open for
  // up to --poll-wait, 60 s here), whatever the load on the machine.
  EXPECT_LT(latencies.back(), 30'000) << all;
}

TEST_F(AgentE2E, MetricsCountersMoveAndHealthEndpointsAnswer) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 10);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token);
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 20s));
  EXPECT_EQ(agent.health("/healthz").status, 200);
  ASSERT_TRUE(eventually([&] { return agent.health("/readyz").status == 200; }, 5s));
  const std::string ok_series =
      R"(outpost_jobs_total{connector="sqlite",status="succeeded",type="query"})";
  EXPECT_EQ(agent.metric(ok_series), 0);  // present from the start, at zero
  ASSERT_EQ(wait_finished(create_job(src, "SELECT 1"), 20s).value("status", ""), "succeeded");
  ASSERT_TRUE(eventually([&] { return agent.metric(ok_series) == 1; }, 5s));
  ASSERT_EQ(wait_finished(create_job(src, "SELECT * FROM no_such_table"), 20s).value("status", ""),
            "failed");
  ASSERT_EQ(wait_finished(create_job(src, "SELECT 2"), 20s).value("status", ""), "succeeded");
  ASSERT_TRUE(eventually([&] { return agent.metric(ok_series) == 2; }, 5s));
  EXPECT_EQ(agent.metric(R"(outpost_jobs_total{connector="sqlite",status="failed",type="query"})"),
            1);
  EXPECT_GE(agent.metric(R"(outpost_claims_total{result="jobs"})"), 3);
  EXPECT_EQ(agent.metric("outpost_jobs_running"), 0);
  EXPECT_EQ(agent.metric("outpost_stale_results_total"), 0);
  EXPECT_GT(agent.metric("outpost_last_contact_timestamp_seconds"), 1.7e9);
  EXPECT_GE(agent.metric(R"(outpost_job_duration_seconds_count{type="query"})"), 3);
  const auto body = agent.health("/metrics").body;
  EXPECT_NE(body.find("outpost_build_info{version=\""), std::string::npos);
  EXPECT_NE(body.find("outpost_control_plane_errors_total"), std::string::npos);
  EXPECT_EQ(agent.health("/nope").status, 404);
}

// "Shortly after start" (agent-protocol-v1 §3) means without retrying: with
// the fallback backoff a retrying agent would still run after 10 s.
TEST_F(AgentE2E, WrongTokenExitsWithStatus3AtOnceWithoutEchoingIt) {
  start_hub();
  const std::string bad = "not-a-valid-token-5c1e9a";
  auto agent = start_agent(bad);
  const auto status = agent.process->wait(10s);
  ASSERT_TRUE(status.has_value()) << "still running (retrying?) 10 s after a refused token";
  EXPECT_EQ(*status, 3);
  const auto err = agent.process->stderr_text();
  EXPECT_NE(err.find("401"), std::string::npos) << err;
  EXPECT_NE(err.find("token"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_EQ(err.find(bad), std::string::npos) << err;
  EXPECT_EQ(agent.process->stdout_text().find(bad), std::string::npos);
}

TEST_F(AgentE2E, UrlWithoutApiExitsWithStatus3AndTheHint) {
  start_hub();
  const auto token = create_token();
  auto agent = start_agent(token, {}, "http://127.0.0.1:" + std::to_string(hub_port_));
  const auto status = agent.process->wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 3);
  const auto err = agent.process->stderr_text();
  EXPECT_NE(err.find("404"), std::string::npos) << err;
  EXPECT_NE(err.find("/api"), std::string::npos) << err;
  EXPECT_EQ(err.find(token), std::string::npos);
}

TEST_F(AgentE2E, MaxRetriesExhaustedExitsWithStatus1) {
  // Nothing listens on this port: every connect fails at once.
  const auto port = free_port();
  auto agent = start_agent("some-token-value", {"--max-retries", "3"},
                           "http://127.0.0.1:" + std::to_string(port) + "/api");
  const auto status = agent.process->wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1);
  const auto err = agent.process->stderr_text();
  EXPECT_NE(err.find("--max-retries 3"), std::string::npos) << err;
  // A first attempt and three retries (KrakenD's max_retries counting).
  EXPECT_EQ(agent.lines("control plane call failed").size(), 4u);
  for (const auto& l : agent.lines("control plane call failed")) {
    EXPECT_EQ(l["backoff_ms"], 1000);  // --backoff-strategy fallback
  }
}

TEST_F(AgentE2E, JobTimeoutCancelsTheStatementAndFailsAsTimeout) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, kEndless);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--job-timeout", "1500ms"});
  keep_logs(agent);
  const auto id = create_job(src, kKnobSql, 60000);
  const Json j = wait_finished(id, 30s);
  ASSERT_EQ(j.value("status", ""), "failed") << j.dump();
  EXPECT_EQ(j["error"]["code"], "timeout");
  // Whichever stops it first names the bound: the runtime ("1500ms") or the
  // connector's own deadline check ("job deadline").
  const auto message = j["error"]["message"].get<std::string>();
  EXPECT_TRUE(message.find("1500") != std::string::npos ||
              message.find("deadline") != std::string::npos)
      << message;
  // The agent is free again: a quick job still runs.
  EXPECT_EQ(wait_finished(create_job(src, "SELECT 1"), 20s).value("status", ""), "succeeded");
}

TEST_F(AgentE2E, UnknownConnectorAndMalformedParamsFailAtOnce) {
  start_hub();
  const auto token = create_token();
  const auto oracle =
      admin_json("POST", "/sources",
                 {{"name", "legacy"}, {"type", "oracle"}, {"config", Json::object()}}, 201)
          .value("id", "");
  auto agent = start_agent(token);
  keep_logs(agent);
  const Json j = wait_finished(create_job(oracle, "SELECT 1"), 20s);
  EXPECT_EQ(j.value("status", ""), "failed");
  EXPECT_EQ(j["error"]["code"], "unsupported");
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  const auto src = create_sqlite_source(db);
  const auto bad =
      admin_json("POST", "/jobs",
                 {{"source_id", src}, {"type", "query"}, {"params", {{"sql", 42}}}}, 201)
          .value("id", "");
  const Json k = wait_finished(bad, 20s);
  EXPECT_EQ(k.value("status", ""), "failed");
  EXPECT_EQ(k["error"]["code"], "invalid_job");
  EXPECT_NE(k["error"]["message"].get<std::string>().find("params.sql"), std::string::npos);
}

TEST_F(AgentE2E, SigtermLetsARunningJobFinishWithinTheGrace) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 3'000'000);  // about a second of SQLite work
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--shutdown-grace", "60s"});
  keep_logs(agent);
  const auto id = create_job(src, kKnobSql);
  ASSERT_TRUE(agent.wait_for_msg("job received", 20s));
  agent.process->signal(SIGTERM);
  const auto status = agent.process->wait(60s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_FALSE(agent.lines("agent stopped").empty());
  const Json j = job(id);
  EXPECT_EQ(j.value("status", ""), "succeeded") << j.dump();
  EXPECT_EQ(j["rows"], Json::parse("[[3000000]]"));
  EXPECT_TRUE(agent.lines("job released").empty());
}

TEST_F(AgentE2E, SigtermReleasesALongJobAndASecondAgentCompletesIt) {
  start_hub();
  const auto big = dir_.path() / "big.db";
  const auto small = dir_.path() / "small.db";
  const auto link = dir_.path() / "current.db";
  make_db(big, kEndless);
  make_db(small, 42);
  point_link(link, big);
  const auto token = create_token();
  const auto src = create_sqlite_source(link);
  auto first = start_agent(token, {"--shutdown-grace", "1s"});
  keep_logs(first);
  const auto id = create_job(src, kKnobSql);
  ASSERT_TRUE(first.wait_for_msg("job received", 20s));
  const auto t0 = std::chrono::steady_clock::now();
  first.process->signal(SIGTERM);
  const auto status = first.process->wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  EXPECT_FALSE(first.lines("job released").empty());
  EXPECT_FALSE(first.lines("agent stopped").empty());
  EXPECT_EQ(job(id).value("status", ""), "scheduled");

  point_link(link, small);
  auto second = start_agent(token);
  keep_logs(second);
  const Json j = wait_finished(id, 30s);
  EXPECT_EQ(j.value("status", ""), "succeeded") << j.dump();
  EXPECT_EQ(j["rows"], Json::parse("[[42]]"));
}

TEST_F(AgentE2E, SecondSignalEndsTheGraceAtOnce) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, kEndless);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--shutdown-grace", "10m"});
  keep_logs(agent);
  create_job(src, kKnobSql);
  ASSERT_TRUE(agent.wait_for_msg("job received", 20s));
  agent.process->signal(SIGINT);
  ASSERT_TRUE(agent.wait_for_msg("shutting down", 10s));
  agent.process->signal(SIGINT);
  const auto status = agent.process->wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0);
  EXPECT_FALSE(agent.lines("job released").empty());
}

}  // namespace
}  // namespace outpost::test
