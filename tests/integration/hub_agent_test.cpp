// The agent protocol side of outpost-hub: connect, claim (long poll), result,
// parts, heartbeats, release, agent heartbeat, auth.
#include <atomic>
#include <chrono>
#include <future>
#include <set>

#include "integration/hub_fixture.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_F(HubTest, ConnectAnswersAgentIdAndProtocolSettings) {
  start_hub([](hub::HubOptions& o) {
    o.store.poll_wait = 15s;
    o.store.lease_ttl = 25s;
  });
  auto agent = client(create_token("prod-vpc-agent"));
  auto r = agent->post("/api/v1/agent/connect",
                       Json{{"instance_id", "i-1"},
                            {"version", "1.4.0"},
                            {"hostname", "h"},
                            {"capacity", 8},
                            {"connectors", {{{"type", "postgres"}, {"job_types", {"query"}}}}}}
                           .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json(r);
  EXPECT_TRUE(j["agent_id"].is_string());
  EXPECT_EQ(j["agent_name"], "prod-vpc-agent");
  EXPECT_EQ(j["poll_wait_ms"], 15000);
  EXPECT_EQ(j["lease_ttl_ms"], 25000);
  EXPECT_EQ(j["heartbeat_interval_ms"], 10000);
  EXPECT_EQ(j["accepts_gzip"], true);
  EXPECT_EQ(j["max_part_bytes"], 4 * 1024 * 1024);
}

TEST_F(HubTest, JobScheduledBeforeAnyAgentIsClaimableWithSourceVerbatim) {
  start_hub();
  const auto src = create_source(
      Json{{"host", "db.internal"}, {"port", 5432}, {"password", "${env:PGPASSWORD}"}});
  const auto id =
      create_job(src, "query", Json{{"sql", "SELECT count(*) FROM orders"}, {"max_rows", 10}});
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 3);
  ASSERT_EQ(jobs.size(), 1u);
  const auto& job = jobs[0];
  EXPECT_EQ(job["id"], id);
  EXPECT_EQ(job["type"], "query");
  EXPECT_EQ(job["attempt"], 1);
  EXPECT_EQ(job["timeout_ms"], 60000);
  EXPECT_TRUE(job["created_at"].is_string());
  EXPECT_TRUE(job["lease"]["token"].is_string());
  EXPECT_TRUE(job["lease"]["expires_at"].is_string());
  EXPECT_EQ(job["source"]["id"], src);
  EXPECT_EQ(job["source"]["type"], "postgres");
  EXPECT_EQ(job["source"]["config"]["password"], "${env:PGPASSWORD}");
  EXPECT_EQ(job["params"]["max_rows"], 10);
  EXPECT_EQ(get_job(id)["status"], "running");
  EXPECT_EQ(get_job(id)["agent_instance"], "i-1");
}

TEST_F(HubTest, SourceRefIsPassedToTheAgentAsRef) {
  start_hub();
  auto r =
      admin().post("/api/v1/admin/jobs",
                   Json{{"source", {{"ref", "warehouse"}}}, {"type", "test_connection"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["source"], (Json{{"ref", "warehouse"}}));
}

// What this means: a waiting long poll is woken by the new job, not by its
// 10 s wait running out. How fast the wake-up is (the 50 ms target) depends on
// the machine's load, so it is measured in bench/, not asserted here.
TEST_F(HubTest, LongPollIsWokenByAJobBeingScheduled) {
  start_hub();
  const auto src = create_source();
  auto agent = client(create_token());
  auto waiting = std::async(std::launch::async, [&] {
    auto jobs = claim(*agent, "i-1", 1, 10'000);
    return std::make_pair(Clock::now(), jobs);
  });
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, 5s));
  const auto scheduled = Clock::now();
  const auto id = create_job(src);
  auto [answered, jobs] = waiting.get();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], id);
  EXPECT_LT(answered - scheduled, 5s);  // far below the 10 s wait: woken, not timed out
}

TEST_F(HubTest, LongPollEndsWithAnEmptyListWhenTheWaitElapses) {
  start_hub();
  auto agent = client(create_token());
  const auto start = Clock::now();
  auto jobs = claim(*agent, "i-1", 1, 300);
  EXPECT_TRUE(jobs.empty());
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST_F(HubTest, ClaimNeverReturnsMoreJobsThanCapacity) {
  start_hub();
  const auto src = create_source();
  for (int i = 0; i < 5; ++i) create_job(src);
  auto agent = client(create_token());
  EXPECT_EQ(claim(*agent, "i-1", 2).size(), 2u);
  EXPECT_EQ(claim(*agent, "i-1", 2).size(), 2u);
  EXPECT_EQ(claim(*agent, "i-1", 2).size(), 1u);
  EXPECT_EQ(claim(*agent, "i-1", 2).size(), 0u);
  EXPECT_EQ(claim_raw(*agent, "i-1", 0, 0).status, 400);
}

TEST_F(HubTest, WaitingAgentsAreServedInTheOrderTheyAsked) {
  start_hub();
  const auto src = create_source();
  const auto token = create_token();  // two instances sharing one token
  auto a = client(token);
  auto b = client(token);
  auto first = std::async(std::launch::async, [&] { return claim(*a, "instance-a", 4, 10'000); });
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, 5s));
  auto second = std::async(std::launch::async, [&] { return claim(*b, "instance-b", 4, 10'000); });
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 2; }, 5s));
  const auto j1 = create_job(src);
  auto got_a = first.get();
  const auto j2 = create_job(src);
  auto got_b = second.get();
  ASSERT_EQ(got_a.size(), 1u);
  ASSERT_EQ(got_b.size(), 1u);
  EXPECT_EQ(got_a[0]["id"], j1);
  EXPECT_EQ(got_b[0]["id"], j2);
}

TEST_F(HubTest, ResultIsRecordedAndRepeatingItIsIdempotent) {
  start_hub();
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  EXPECT_EQ(post_result(*agent, id, lease).status, 200);
  EXPECT_EQ(post_result(*agent, id, lease).status, 200);
  auto view = get_job(id);
  EXPECT_EQ(view["status"], "succeeded");
  EXPECT_EQ(view["attempt"], 1);
  EXPECT_EQ(view["result"]["row_count"], 1);
  EXPECT_EQ(view["rows"], (Json{{1}}));
  // The agent's clock said 2026-11-22, before the job was even claimed: the
  // hub keeps reported times inside the lease's life (retention counts from them).
  ASSERT_TRUE(view["started_at"].is_string());
  ASSERT_TRUE(view["finished_at"].is_string());
  EXPECT_GT(view["started_at"].get<std::string>(), "2026-11-22T10:00:00Z");
  EXPECT_LE(view["started_at"].get<std::string>(), view["finished_at"].get<std::string>());
  // A different token after the fact is still a conflict.
  EXPECT_EQ(post_result(*agent, id, "l_forged").status, 409);
}

TEST_F(HubTest, FailedResultKeepsTheAgentsError) {
  start_hub();
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  Json failure{{"status", "failed"},
               {"error",
                {{"code", "auth_failed"},
                 {"message", "password authentication failed"},
                 {"retryable", false}}}};
  failure["result"] = nullptr;
  ASSERT_EQ(post_result(*agent, id, jobs[0]["lease"]["token"], failure).status, 200);
  auto view = get_job(id);
  EXPECT_EQ(view["status"], "failed");
  EXPECT_EQ(view["error"]["code"], "auth_failed");
}

TEST_F(HubTest, QueryPartsAreReassembledIntoRows) {
  start_hub();
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  auto put = [&](int seq, const std::string& body) {
    return agent->request("PUT", "/api/v1/agent/jobs/" + id + "/parts/" + std::to_string(seq), body,
                          {{"Content-Type", "application/x-ndjson"}, {"X-Lease-Token", lease}});
  };
  EXPECT_EQ(put(1, "[3,\"c\"]\n[4,null]\n").status, 200);
  EXPECT_EQ(put(0, "[1,\"a\"]\n[2,\"b\"]\n").status, 200);
  EXPECT_EQ(put(0, "[1,\"a\"]\n[2,\"b\"]\n").status, 200);  // resent: idempotent
  EXPECT_EQ(put(2, "not json\n").status, 400);
  auto r = post_result(*agent, id, lease,
                       Json{{"parts", 2},
                            {"result",
                             {{"columns", {{{"name", "id"}, {"type", "int4"}}}},
                              {"row_count", 4},
                              {"truncated", false}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto view = get_job(id);
  EXPECT_EQ(view["rows"], Json::parse(R"([[1,"a"],[2,"b"],[3,"c"],[4,null]])"));
  EXPECT_EQ(view["result"]["row_count"], 4);
}

TEST_F(HubTest, MetadataPartsAreReassembledIntoSchemas) {
  start_hub();
  const auto id = create_job(create_source(), "metadata", Json::object());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  auto r0 = agent->request("PUT", "/api/v1/agent/jobs/" + id + "/parts/0",
                           R"({"schema":"public","name":"orders","kind":"table","columns":[]})"
                           "\n"
                           R"({"schema":"sales","name":"v","kind":"view","columns":[]})"
                           "\n"
                           R"({"schema":"public","name":"items","kind":"table","columns":[]})"
                           "\n",
                           {{"X-Lease-Token", lease}});
  ASSERT_EQ(r0.status, 200) << r0.body;
  ASSERT_EQ(post_result(*agent, id, lease,
                        Json{{"parts", 1}, {"result", {{"database", "dw"}, {"table_count", 3}}}})
                .status,
            200);
  auto result = get_job(id)["result"];
  EXPECT_EQ(result["database"], "dw");
  ASSERT_EQ(result["schemas"].size(), 2u);
  EXPECT_EQ(result["schemas"][0]["name"], "public");
  EXPECT_EQ(result["schemas"][0]["tables"].size(), 2u);
  EXPECT_EQ(result["schemas"][0]["tables"][1]["name"], "items");
  EXPECT_FALSE(result["schemas"][0]["tables"][0].contains("schema"));
  EXPECT_EQ(result["schemas"][1]["name"], "sales");
}

TEST_F(HubTest, ResultAnnouncingMissingPartsIsRefused) {
  start_hub();
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  auto r = post_result(*agent, id, jobs[0]["lease"]["token"], Json{{"parts", 2}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json(r)["error"]["code"], "missing_part");
  EXPECT_EQ(get_job(id)["status"], "running");
}

TEST_F(HubTest, PartLargerThanMaxPartBytesGets413) {
  start_hub([](hub::HubOptions& o) { o.store.max_part_bytes = 100; });
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  auto r = agent->request("PUT", "/api/v1/agent/jobs/" + id + "/parts/0",
                          std::string(200, ' ') + "[1]\n",
                          {{"X-Lease-Token", jobs[0]["lease"]["token"].get<std::string>()}});
  EXPECT_EQ(r.status, 413);
}

TEST_F(HubTest, GzipRequestBodiesAreAccepted) {
  start_hub();
  const auto id = create_job(create_source());
  auto agent = client(create_token());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string body = Json{
      {"lease_token", jobs[0]["lease"]["token"]},
      {"status", "succeeded"},
      {"result",
       {{"ok", true}}}}.dump();
  auto r = agent->request("POST", "/api/v1/agent/jobs/" + id + "/result", http::gzip(body),
                          {{"Content-Type", "application/json"}, {"Content-Encoding", "gzip"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get_job(id)["result"]["ok"], true);
  auto bad = agent->request("POST", "/api/v1/agent/jobs/" + id + "/result", "not gzip at all",
                            {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(bad.status, 400);
}

TEST_F(HubTest, AgentHeartbeatIsShownInAgents) {
  start_hub();
  auto agent = client(create_token("edge"));
  ASSERT_EQ(agent
                ->post("/api/v1/agent/connect",
                       Json{{"instance_id", "i-9"}, {"version", "1.4.0"}, {"capacity", 8}}.dump())
                .status,
            200);
  auto r = agent->post("/api/v1/agent/heartbeat", Json{{"instance_id", "i-9"},
                                                       {"running", 2},
                                                       {"capacity", 8},
                                                       {"uptime_ms", 360000},
                                                       {"version", "1.4.0"}}
                                                      .dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto agents = json(admin().get("/api/v1/admin/agents"));
  ASSERT_EQ(agents.size(), 1u);
  EXPECT_TRUE(agents[0]["agent_id"].is_string());
  EXPECT_EQ(agents[0]["instance_id"], "i-9");
  EXPECT_EQ(agents[0]["name"], "edge");
  EXPECT_EQ(agents[0]["version"], "1.4.0");
  EXPECT_EQ(agents[0]["running"], 2);
  EXPECT_EQ(agents[0]["capacity"], 8);
  EXPECT_TRUE(agents[0]["last_seen"].is_string());
}

TEST_F(HubTest, AuthenticationErrors) {
  start_hub();
  const auto token = create_token();
  auto none = client();
  EXPECT_EQ(none->post("/api/v1/agent/connect", "{}").status, 401);
  EXPECT_EQ(client("wrong")->post("/api/v1/agent/connect", R"({"instance_id":"x"})").status, 401);
  EXPECT_EQ(client(token)->get("/api/v1/admin/agents").status, 403);
  EXPECT_EQ(client(kAdminToken)->post("/api/v1/agent/connect", R"({"instance_id":"x"})").status,
            403);
  EXPECT_EQ(client("wrong")->get("/api/v1/admin/agents").status, 401);
  auto r = none->get("/api/v1/admin/agents");
  EXPECT_EQ(json(r)["error"]["code"], "unauthorized");
}

TEST_F(HubTest, RevokedTokenGets401AtOnceEvenWhileLongPolling) {
  start_hub();
  std::string token_id;
  const auto token = create_token("soon-gone", &token_id);
  auto agent = client(token);
  auto waiting =
      std::async(std::launch::async, [&] { return claim_raw(*agent, "i-1", 1, 20'000); });
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, 5s));
  auto del = admin().request("DELETE", "/api/v1/admin/tokens/" + token_id);
  EXPECT_EQ(del.status, 204);
  EXPECT_EQ(waiting.get().status, 401);
  EXPECT_EQ(claim_raw(*agent, "i-1", 1, 0).status, 401);
  EXPECT_EQ(admin().request("DELETE", "/api/v1/admin/tokens/tok_404").status, 404);
}

TEST_F(HubTest, AClaimWhoseClientWentAwayIsNotGivenAJob) {
  start_hub();
  const auto src = create_source();
  const auto token = create_token();
  {
    auto gone = client(token);
    auto r = std::async(std::launch::async, [&] {
      try {
        gone->request("POST", "/api/v1/agent/jobs/claim",
                      R"({"instance_id":"dead","capacity":1,"wait_ms":20000})", {}, 300ms);
      } catch (const std::exception&) {
        // expected: the test client gives up after 300 ms and closes
      }
      gone->close();
    });
    ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, 5s));
    r.get();
  }
  ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 0; }, 5s));
  const auto id = create_job(src);
  auto alive = client(token);
  auto jobs = claim(*alive, "alive", 1);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], id);
  EXPECT_EQ(jobs[0]["attempt"], 1);
}

}  // namespace
}  // namespace outpost::test
