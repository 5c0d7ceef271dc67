// Runtime features against a real hub: results streamed in parts, local caps,
// cancellation from the control plane, --max-per-source, --max-rate, local
// sources with SIGHUP reload, and a token revoked while the agent runs.
#include <csignal>
#include <fstream>

#include "e2e/agent_fixture.hpp"

namespace outpost::test {
namespace {

const char* kManyRows =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000) "
    "SELECT x, 'row number ' || x AS label FROM c";

TEST_F(AgentE2E, LargeResultsAreStreamedInPartsAndReassembled) {
  // 16 KiB parts: above the agent's 8 KiB gzip threshold, so they travel gzipped.
  start_hub({"--max-part-bytes", "16KiB"});
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token);
  keep_logs(agent);
  const Json j = wait_finished(create_job(src, kManyRows), 60s);
  ASSERT_EQ(j.value("status", ""), "succeeded") << j.dump().substr(0, 2000);
  EXPECT_GE(j.value("parts", 0), 5);  // 5000 rows of ~25 bytes in 16 KiB parts
  ASSERT_EQ(j["rows"].size(), 5000u);
  EXPECT_EQ(j["rows"][0], Json::parse(R"([1, "row number 1"])"));
  EXPECT_EQ(j["rows"][4999], Json::parse(R"([5000, "row number 5000"])"));
  EXPECT_EQ(j["result"]["row_count"], 5000);
  EXPECT_FALSE(j["result"].contains("rows") && !j["result"]["rows"].is_null() &&
               !j["result"]["rows"].empty());
}

TEST_F(AgentE2E, LargeInlineResultsAreSentGzippedAndArriveIntact) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token);
  keep_logs(agent);
  const Json j = wait_finished(create_job(src, kManyRows), 60s);
  ASSERT_EQ(j.value("status", ""), "succeeded");
  EXPECT_EQ(j.value("parts", -1), 0);
  ASSERT_EQ(j["rows"].size(), 5000u);
  EXPECT_EQ(j["rows"][2500], Json::parse(R"([2501, "row number 2501"])"));
}

TEST_F(AgentE2E, LocalResultCapsTruncate) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--max-result-rows", "100"});
  keep_logs(agent);
  const Json j = wait_finished(create_job(src, kManyRows), 60s);
  ASSERT_EQ(j.value("status", ""), "succeeded");
  EXPECT_EQ(j["result"]["row_count"], 100);
  EXPECT_EQ(j["result"]["truncated"], true);
  EXPECT_EQ(j["rows"].size(), 100u);
  // The job's own max_rows applies below the agent's cap.
  const auto id = admin_json("POST", "/jobs",
                             {{"source_id", src},
                              {"type", "query"},
                              {"params", {{"sql", kManyRows}, {"max_rows", 7}}}},
                             201)
                      .value("id", "");
  const Json k = wait_finished(id, 60s);
  EXPECT_EQ(k["result"]["row_count"], 7);
  EXPECT_EQ(k["result"]["truncated"], true);
}

TEST_F(AgentE2E, CancelFromTheControlPlaneStopsTheStatementAndPostsNothing) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, kEndless);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--max-concurrency", "1"});
  keep_logs(agent);
  const auto id = create_job(src, kKnobSql);
  ASSERT_TRUE(agent.wait_for_msg("job received", 20s));
  admin_json("POST", "/jobs/" + id + "/cancel", nullptr, 202);
  ASSERT_TRUE(eventually(
      [&] {
        for (const auto& l : agent.lines("job finished")) {
          if (l.value("status", "") == "cancelled") return true;
        }
        return false;
      },
      10s));
  EXPECT_EQ(job(id).value("status", ""), "cancelled");
  // The only slot is free again: the statement was interrupted, not abandoned.
  const auto db2 = dir_.path() / "quick.db";
  make_db(db2, 3);
  const auto quick = create_sqlite_source(db2, "quick");
  EXPECT_EQ(wait_finished(create_job(quick, kKnobSql), 20s).value("status", ""), "succeeded");
}

TEST_F(AgentE2E, MaxPerSourceQueuesJobsInTheAgent) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 1'500'000);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--max-per-source", "1"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 20s));
  const auto a = create_job(src, kKnobSql);
  const auto b = create_job(src, kKnobSql);
  EXPECT_EQ(wait_finished(a, 60s).value("status", ""), "succeeded");
  EXPECT_EQ(wait_finished(b, 60s).value("status", ""), "succeeded");
  EXPECT_EQ(agent.lines("job waits for a per-source slot").size(), 1u);
  // The second started only after the first finished.
  const Json ja = job(a), jb = job(b);
  const auto& first = ja.value("started_at", "") < jb.value("started_at", "") ? ja : jb;
  const auto& second = &first == &ja ? jb : ja;
  EXPECT_LE(first.value("finished_at", ""), second.value("started_at", ""));
}

TEST_F(AgentE2E, MaxRateSpacesJobStarts) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  const auto token = create_token();
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(token, {"--max-rate", "2"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 20s));
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(create_job(src, "SELECT 1"));
  for (const auto& id : ids) EXPECT_EQ(wait_finished(id, 30s).value("status", ""), "succeeded");
  const auto received = agent.lines("job received");
  ASSERT_EQ(received.size(), 6u);
  // A burst of 2, then one every 500 ms: the 6th starts >= 2 s after the 1st.
  const auto span = ts_ms(received.back()) - ts_ms(received.front());
  EXPECT_GE(span, 1900) << span;
}

TEST_F(AgentE2E, LocalSourceRefsAndSighupReload) {
  start_hub();
  const auto one = dir_.path() / "one.db";
  const auto two = dir_.path() / "two.db";
  make_db(one, 111);
  make_db(two, 222);
  const auto sources = dir_.path() / "sources.yaml";
  auto write_sources = [&](const std::filesystem::path& db) {
    std::ofstream(sources) << "version: 1\nsources:\n  local_shop:\n    type: sqlite\n"
                              "    config:\n      path: "
                           << db.string() << "\n";
  };
  write_sources(one);
  const auto token = create_token();
  auto agent = start_agent(token, {"--sources-file", sources.string()});
  keep_logs(agent);
  auto run = [&] {
    const auto id = admin_json("POST", "/jobs",
                               {{"source", {{"ref", "local_shop"}}},
                                {"type", "query"},
                                {"params", {{"sql", "SELECT n FROM knob"}}}},
                               201)
                        .value("id", "");
    return wait_finished(id, 30s);
  };
  Json j = run();
  ASSERT_EQ(j.value("status", ""), "succeeded") << j.dump();
  EXPECT_EQ(j["rows"], Json::parse("[[111]]"));
  write_sources(two);
  agent.process->signal(SIGHUP);
  ASSERT_TRUE(agent.wait_for_msg("sources file reloaded", 10s));
  j = run();
  EXPECT_EQ(j["rows"], Json::parse("[[222]]"));
  // An unknown ref fails as invalid_job, naming it.
  const auto bad =
      admin_json(
          "POST", "/jobs",
          {{"source", {{"ref", "nope"}}}, {"type", "query"}, {"params", {{"sql", "SELECT 1"}}}},
          201)
          .value("id", "");
  const Json k = wait_finished(bad, 30s);
  EXPECT_EQ(k["error"]["code"], "invalid_job");
  EXPECT_NE(k["error"]["message"].get<std::string>().find("nope"), std::string::npos);
}

TEST_F(AgentE2E, RevokedTokenStopsClaimingAndReportsNotReady) {
  start_hub();
  const auto db = dir_.path() / "w.db";
  make_db(db, 1);
  std::string token_id;
  const Json t = admin_json("POST", "/tokens", {{"name", "revocable"}}, 201);
  token_id = t.value("id", "");
  const auto src = create_sqlite_source(db);
  auto agent = start_agent(t.value("token", ""), {"--health-interval", "500ms"});
  keep_logs(agent);
  ASSERT_TRUE(agent.wait_for_msg("agent started", 20s));
  ASSERT_TRUE(eventually([&] { return agent.health("/readyz").status == 200; }, 5s));
  admin_json("DELETE", "/tokens/" + token_id, nullptr, 204);
  ASSERT_TRUE(eventually([&] { return agent.health("/readyz").status == 503; }, 15s));
  EXPECT_TRUE(agent.process->running());
  const auto id = create_job(src, "SELECT 1");
  EXPECT_TRUE(agent.wait_for_msg("control plane call failed", 10s));
  EXPECT_GT(agent.metric(R"(outpost_control_plane_errors_total{kind="unauthorized"})"), 0);
  EXPECT_EQ(job(id).value("status", ""), "scheduled");
  EXPECT_TRUE(agent.lines("job received").empty());
}

}  // namespace
}  // namespace outpost::test
