// The hub's rules (HubService) on the memory store with a manual clock: no
// sleeping, no network. Posted work runs when the test polls the io_context.
#include "service.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "store/memory_store.hpp"

namespace outpost::hub {
namespace {

using namespace std::chrono_literals;

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.lease_ttl = 10s;
    o.max_attempts = 2;
    o.retain = std::chrono::hours(24);
    service_ = std::make_shared<HubService>(io_.get_executor(), io_.get_executor(), store_, o,
                                            clock_, nullptr);
    service_->start();
    io_.poll();
    auto created = service_->create_token(Json{{"name", "agent"}});
    secret_ = created.body["token"].get<std::string>();
    token_ = *service_->authenticate_agent(secret_);
  }
  void TearDown() override {
    service_->shutdown();
    io_.poll();
  }

  std::string add_job(Json extra = Json::object()) {
    Json body{{"type", "query"}, {"source", {{"ref", "wh"}}}, {"params", {{"sql", "select 1"}}}};
    body.update(extra);
    auto a = service_->create_job(body);
    EXPECT_EQ(a.kind, Answer::Kind::kCreated);
    return a.body["id"].get<std::string>();
  }

  /// A claim whose answer lands in `out` (wait 0 answers at once).
  void claim(std::optional<Answer>& out, std::int64_t wait_ms = 0,
             const std::string& instance = "i-1") {
    ClaimParams p{instance, 4, wait_ms};
    ClaimReply reply;
    reply.send = [&out](Answer a) { out = std::move(a); };
    service_->claim(token_, p, std::move(reply));
  }

  Json claim_now(const std::string& instance = "i-1") {
    std::optional<Answer> out;
    claim(out, 0, instance);
    EXPECT_TRUE(out);
    return out ? out->body["jobs"] : Json::array();
  }

  Answer finish(const Json& leased, std::uint64_t parts = 0, Json extra = Json::object()) {
    Json body{{"lease_token", leased["lease"]["token"]},
              {"status", "succeeded"},
              {"parts", parts},
              {"result", {{"row_count", 3}}}};
    body.update(extra);
    return service_->result(leased["id"].get<std::string>(), parse_result(body.dump()));
  }

  boost::asio::io_context io_;
  std::shared_ptr<ManualClock> clock_ =
      std::make_shared<ManualClock>(SystemTime(std::chrono::milliseconds(1'800'000'000'000)));
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  std::shared_ptr<HubService> service_;
  std::string secret_;
  TokenRecord token_;
};

TEST_F(ServiceTest, AClaimLeasesAJobWithTheClocksExpiry) {
  const auto id = add_job();
  auto jobs = claim_now();
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["id"], id);
  EXPECT_EQ(jobs[0]["attempt"], 1);
  EXPECT_EQ(jobs[0]["lease"]["expires_at"], rfc3339(clock_->now() + 10s));
  EXPECT_EQ(jobs[0]["source"], (Json{{"ref", "wh"}}));
  EXPECT_TRUE(claim_now().empty());
}

TEST_F(ServiceTest, LeaseExpiryRequeuesThenFailsWithoutSleeping) {
  const auto id = add_job();
  auto first = claim_now().at(0);
  clock_->advance(9s);
  EXPECT_EQ(service_->sweep_leases(), 0u);
  clock_->advance(1s);
  EXPECT_EQ(service_->sweep_leases(), 1u);
  auto second = claim_now("i-2").at(0);
  EXPECT_EQ(second["attempt"], 2);
  // Fencing: the first lease is refused with a conflict.
  EXPECT_EQ(finish(first).kind, Answer::Kind::kConflict);
  clock_->advance(10s);
  EXPECT_EQ(service_->sweep_leases(), 1u);
  auto job = service_->get_job(id).body;
  EXPECT_EQ(job["status"], "failed");
  EXPECT_EQ(job["error"]["code"], "agent_lost");
  ASSERT_EQ(job["attempts"].size(), 2u);
  EXPECT_EQ(job["attempts"][1]["agent_instance"], "i-2");
  EXPECT_EQ(job["attempts"][1]["status"], "expired");
}

TEST_F(ServiceTest, AHeartbeatKeepsTheLeaseAlive) {
  add_job();
  auto leased = claim_now().at(0);
  const std::string id = leased["id"];
  for (int i = 0; i < 5; ++i) {
    clock_->advance(8s);
    auto a = service_->job_heartbeat(id, {leased["lease"]["token"], Json{{"rows", i}}});
    ASSERT_EQ(a.kind, Answer::Kind::kOk);
    EXPECT_EQ(a.body["cancel_requested"], false);
    EXPECT_EQ(service_->sweep_leases(), 0u);
  }
  EXPECT_EQ(finish(leased).kind, Answer::Kind::kOk);
  EXPECT_EQ(finish(leased).body["duplicate"], true);
}

TEST_F(ServiceTest, AWaitingClaimIsWokenByANewJob) {
  std::optional<Answer> out;
  claim(out, 60'000);
  EXPECT_FALSE(out);
  EXPECT_EQ(service_->stats().waiters, 1u);
  const auto id = add_job();
  io_.poll();  // the wake-up's claim runs where store calls may block
  ASSERT_TRUE(out);
  ASSERT_EQ(out->body["jobs"].size(), 1u);
  EXPECT_EQ(out->body["jobs"][0]["id"], id);
  EXPECT_EQ(service_->stats().waiters, 0u);
}

TEST_F(ServiceTest, ANewerClaimOfTheSameInstanceEndsTheOlderOne) {
  std::optional<Answer> first, second;
  claim(first, 60'000);
  claim(second, 60'000);
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->body["jobs"].empty());
  EXPECT_FALSE(second);
  EXPECT_EQ(service_->stats().waiters, 1u);
  service_->shutdown();  // answers `second` while it is still in scope
  EXPECT_TRUE(second);
}

TEST_F(ServiceTest, RevokingATokenEndsItsWaitingClaimsWith401) {
  std::optional<Answer> out;
  claim(out, 60'000);
  EXPECT_EQ(service_->revoke_token(token_.id).kind, Answer::Kind::kNoContent);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, Answer::Kind::kUnauthorized);
  EXPECT_FALSE(service_->authenticate_agent(secret_));
}

TEST_F(ServiceTest, ShutdownAnswersWaitingClaimsWithNoJobs) {
  std::optional<Answer> out;
  claim(out, 60'000);
  service_->shutdown();
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->body["jobs"].empty());
}

TEST_F(ServiceTest, RetentionDeletesFinishedJobsOlderThanRetain) {
  const auto old_id = add_job();
  auto leased = claim_now().at(0);
  ASSERT_EQ(finish(leased).kind, Answer::Kind::kOk);
  clock_->advance(std::chrono::hours(23));
  const auto young_id = add_job();
  auto young = claim_now().at(0);
  ASSERT_EQ(finish(young).kind, Answer::Kind::kOk);
  const auto waiting_id = add_job();
  clock_->advance(std::chrono::hours(2));
  EXPECT_EQ(service_->run_retention(), 1u);
  EXPECT_EQ(service_->get_job(old_id).kind, Answer::Kind::kNotFound);
  EXPECT_EQ(service_->get_job(young_id).kind, Answer::Kind::kOk);
  EXPECT_EQ(service_->get_job(waiting_id).kind, Answer::Kind::kOk);
}

TEST_F(ServiceTest, AnAgentsFutureFinishTimeIsClampedToTheHubsClock) {
  add_job();
  auto leased = claim_now().at(0);
  ASSERT_EQ(finish(leased, 0, {{"finished_at", "2100-01-01T00:00:00Z"}}).kind, Answer::Kind::kOk);
  auto job = service_->get_job(leased["id"]).body;
  EXPECT_EQ(job["finished_at"], rfc3339(clock_->now()));
}

TEST_F(ServiceTest, ListJobsPagesWithACursorAndRejectsBadParameters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(add_job());
  auto p1 = service_->list_jobs("limit=2").body;
  ASSERT_EQ(p1["jobs"].size(), 2u);
  EXPECT_EQ(p1["jobs"][0]["id"], ids[4]);
  EXPECT_FALSE(p1["jobs"][0].contains("rows"));
  ASSERT_TRUE(p1["next_cursor"].is_string());
  auto p2 = service_->list_jobs("limit=2&cursor=" + p1["next_cursor"].get<std::string>()).body;
  EXPECT_EQ(p2["jobs"][0]["id"], ids[2]);
  auto p3 = service_->list_jobs("limit=2&cursor=" + p2["next_cursor"].get<std::string>()).body;
  ASSERT_EQ(p3["jobs"].size(), 1u);
  EXPECT_TRUE(p3["next_cursor"].is_null());
  EXPECT_EQ(service_->list_jobs("").body["jobs"].size(), 5u);
  EXPECT_EQ(service_->list_jobs("status=running").body["jobs"].size(), 0u);
  EXPECT_EQ(service_->list_jobs("pool_id=pool_default").body["jobs"].size(), 5u);
  EXPECT_THROW(service_->list_jobs("limit=0"), BadRequest);
  EXPECT_THROW(service_->list_jobs("limit=1001"), BadRequest);
  EXPECT_THROW(service_->list_jobs("status=done"), BadRequest);
  EXPECT_THROW(service_->list_jobs("cursor=garbage"), BadRequest);
}

TEST_F(ServiceTest, GetJobSplicesStreamedRowsAndStreamRowsServesWindows) {
  add_job();
  auto leased = claim_now().at(0);
  const std::string id = leased["id"];
  const std::string token = leased["lease"]["token"];
  EXPECT_EQ(service_->put_part(id, token, 0, "{\"a\":1}\r\n\n{\"a\":2}\n").kind, Answer::Kind::kOk);
  EXPECT_EQ(service_->put_part(id, token, 1, "{\"a\":3}").kind, Answer::Kind::kOk);
  EXPECT_THROW(service_->put_part(id, token, 2, "{bad"), BadRequest);
  ASSERT_EQ(finish(leased, 2).kind, Answer::Kind::kOk);
  auto view = service_->get_job(id);
  ASSERT_TRUE(view.json_text);
  auto parsed = Json::parse(*view.json_text);
  EXPECT_EQ(parsed["rows"], Json::parse(R"([{"a":1},{"a":2},{"a":3}])"));
  std::vector<std::string> lines;
  auto failed = service_->stream_rows(id, 1, 5, [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(lines, (std::vector<std::string>{"{\"a\":2}", "{\"a\":3}"}));
  EXPECT_TRUE(service_->stream_rows("job_nope", 0, 1, [](std::string_view) { return true; }));
}

TEST_F(ServiceTest, StreamRowsServesInlineRowsOfASmallResult) {
  add_job();
  auto leased = claim_now().at(0);
  ASSERT_EQ(finish(leased, 0, {{"result", {{"rows", Json::parse("[[1],[2],[3]]")}}}}).kind,
            Answer::Kind::kOk);
  std::vector<std::string> lines;
  service_->stream_rows(leased["id"], 2, 10, [&](std::string_view l) {
    lines.emplace_back(l);
    return true;
  });
  EXPECT_EQ(lines, (std::vector<std::string>{"[3]"}));
}

TEST_F(ServiceTest, MetricsNameEverySeriesOfTheContract) {
  add_job();
  claim_now();
  const auto text = service_->metrics_text();
  for (const char* name :
       {"outpost_hub_queue_depth{pool=\"pool_default\"}", "outpost_hub_jobs{status=\"running\"} 1",
        "outpost_hub_agents_online{pool=\"pool_default\"} 1",
        "outpost_hub_claims_total{result=\"jobs\"} 1", "outpost_hub_job_wait_seconds_bucket",
        "outpost_hub_store_errors_total", "outpost_hub_http_requests_total"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << "\n" << text;
  }
}

}  // namespace
}  // namespace outpost::hub
