// Leases in outpost-hub: expiry and re-claim with attempt + 1, fencing of
// stale tokens (409), renewal by heartbeat, max attempts, release, cancel.
#include <future>

#include "integration/hub_fixture.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

class HubLeaseTest : public HubTest {
 protected:
  void SetUp() override {
    start_hub([](hub::HubOptions& o) {
      o.store.lease_ttl = 2s;
      o.store.max_attempts = 3;
    });
    source_ = create_source();
    agent_ = client(create_token());
  }

  HttpResponse heartbeat(const std::string& id, const std::string& lease) {
    return agent_->post("/api/v1/agent/jobs/" + id + "/heartbeat",
                        Json{{"lease_token", lease}, {"progress", {{"rows", 10}}}}.dump());
  }
  HttpResponse release(const std::string& id, const std::string& lease) {
    return agent_->post("/api/v1/agent/jobs/" + id + "/release",
                        Json{{"lease_token", lease}, {"reason", "shutdown"}}.dump());
  }
  HttpResponse put_part(const std::string& id, const std::string& lease) {
    return agent_->request("PUT", "/api/v1/agent/jobs/" + id + "/parts/0", "[1]\n",
                           {{"X-Lease-Token", lease}});
  }

  std::string source_;
  std::unique_ptr<HttpTestClient> agent_;
};

TEST_F(HubLeaseTest, ExpiredLeaseIsReclaimedByAWaitingPollerWithAttemptPlusOne) {
  const auto id = create_job(source_);
  auto first = claim(*agent_, "slow", 1);
  ASSERT_EQ(first.size(), 1u);
  // Nobody renews: the lease timer alone must hand the job to this poller.
  auto other = client(create_token("other"));
  auto second = claim(*other, "fast", 1, 10'000);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["id"], id);
  EXPECT_EQ(second[0]["attempt"], 2);
  EXPECT_NE(second[0]["lease"]["token"], first[0]["lease"]["token"]);
  EXPECT_EQ(get_job(id)["agent_instance"], "fast");
}

TEST_F(HubLeaseTest, StaleLeaseTokenGets409Everywhere) {
  const auto id = create_job(source_);
  auto first = claim(*agent_, "slow", 1);
  ASSERT_EQ(first.size(), 1u);
  const std::string stale = first[0]["lease"]["token"];
  auto second = claim(*agent_, "fast", 1, 10'000);
  ASSERT_EQ(second.size(), 1u);
  const std::string live = second[0]["lease"]["token"];

  EXPECT_EQ(heartbeat(id, stale).status, 409);
  EXPECT_EQ(put_part(id, stale).status, 409);
  EXPECT_EQ(release(id, stale).status, 409);
  auto r = post_result(*agent_, id, stale);
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(json(r)["error"]["code"], "lease_conflict");
  // The live attempt is unaffected and wins.
  EXPECT_EQ(post_result(*agent_, id, live).status, 200);
  EXPECT_EQ(post_result(*agent_, id, stale).status, 409);
  EXPECT_EQ(get_job(id)["status"], "succeeded");
  EXPECT_EQ(get_job(id)["attempt"], 2);
}

TEST_F(HubLeaseTest, HeartbeatRenewsTheLeaseAndReportsNoCancel) {
  const auto id = create_job(source_);
  auto jobs = claim(*agent_, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  // Renew for longer than one TTL; the job must stay ours.
  for (int i = 0; i < 8; ++i) {
    auto r = heartbeat(id, lease);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json(r);
    EXPECT_EQ(j["cancel_requested"], false);
    EXPECT_EQ(j["lease"]["token"], lease);
    EXPECT_TRUE(j["lease"]["expires_at"].is_string());
    std::this_thread::sleep_for(300ms);  // the heartbeat cadence itself, not a wait for an event
  }
  EXPECT_EQ(get_job(id)["status"], "running");
  EXPECT_EQ(get_job(id)["progress"]["rows"], 10);
  EXPECT_EQ(post_result(*agent_, id, lease).status, 200);
}

TEST_F(HubLeaseTest, JobFailsAsAgentLostAfterMaxAttemptsExpiries) {
  const auto id = create_job(source_);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto jobs = claim(*agent_, "crashy", 1, 10'000);
    ASSERT_EQ(jobs.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(jobs[0]["attempt"], attempt);
  }
  ASSERT_TRUE(eventually([&] { return get_job(id)["status"] == "failed"; }, 5s));
  auto view = get_job(id);
  EXPECT_EQ(view["error"]["code"], "agent_lost");
  EXPECT_EQ(claim(*agent_, "crashy", 1, 600).size(), 0u);
}

TEST_F(HubLeaseTest, ReleaseMakesTheJobClaimableAtOnceWithoutCountingAnAttempt) {
  const auto id = create_job(source_);
  auto jobs = claim(*agent_, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  auto r = release(id, jobs[0]["lease"]["token"]);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(get_job(id)["status"], "scheduled");
  auto again = claim(*agent_, "i-2", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["attempt"], 1);
}

TEST_F(HubLeaseTest, CancellingARunningJobIsSeenByHeartbeatThenTheJobIsGone) {
  const auto id = create_job(source_);
  auto jobs = claim(*agent_, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  EXPECT_EQ(admin().post("/api/v1/admin/jobs/" + id + "/cancel", "").status, 202);
  auto hb = heartbeat(id, lease);
  ASSERT_EQ(hb.status, 200);
  EXPECT_EQ(json(hb)["cancel_requested"], true);
  EXPECT_EQ(get_job(id)["status"], "cancelled");
  EXPECT_EQ(post_result(*agent_, id, lease).status, 410);
  // Once the lease has run out, the job is gone for everybody.
  ASSERT_TRUE(eventually([&] { return heartbeat(id, lease).status == 410; }, 5s));
  EXPECT_EQ(claim(*agent_, "i-1", 1, 600).size(), 0u);
}

TEST_F(HubLeaseTest, CancellingAScheduledJobRemovesItFromTheQueue) {
  const auto id = create_job(source_);
  EXPECT_EQ(admin().post("/api/v1/admin/jobs/" + id + "/cancel", "").status, 202);
  EXPECT_EQ(admin().post("/api/v1/admin/jobs/" + id + "/cancel", "").status, 202);
  EXPECT_EQ(get_job(id)["status"], "cancelled");
  EXPECT_EQ(claim(*agent_, "i-1", 1).size(), 0u);
  EXPECT_EQ(admin().post("/api/v1/admin/jobs/job_999/cancel", "").status, 404);
}

}  // namespace
}  // namespace outpost::test
