// Retries in the rules (hub-v2.md §4) with a manual clock: a retryable
// failure queues the job again after its backoff, attempts are counted with
// lease expiries, every attempt is kept, fencing still holds.
#include "service_fixture.hpp"

namespace outpost::hub::testing {
namespace {

using namespace std::chrono_literals;

class RetryTest : public ServiceFixture {};

TEST_F(RetryTest, ARetryableFailureRunsAgainAfterItsBackoff) {
  const auto id = add_job({{"max_attempts", 3}, {"retry_backoff_ms", 2000}});
  auto first = claim_now().at(0);
  ASSERT_EQ(fail(first, true).kind, Answer::Kind::kOk);
  auto view = job(id);
  EXPECT_EQ(view["status"], "scheduled");
  EXPECT_EQ(view["attempt"], 1);
  EXPECT_EQ(view["error"]["code"], "timeout");
  ASSERT_EQ(view["attempts"].size(), 1u);
  EXPECT_EQ(view["attempts"][0]["status"], "failed");
  EXPECT_EQ(view["attempts"][0]["error"]["code"], "timeout");
  // 2000 ms ± 20 %: never before 1600 ms, always by 2400 ms.
  clock_->advance(1599ms);
  EXPECT_TRUE(claim_now().empty());
  clock_->advance(801ms);
  auto second = claim_now("i-2");
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["attempt"], 2);
  // Fencing: the first attempt's lease is stale.
  EXPECT_EQ(succeed(first).kind, Answer::Kind::kConflict);
  ASSERT_EQ(succeed(second[0]).kind, Answer::Kind::kOk);
  view = job(id);
  EXPECT_EQ(view["status"], "succeeded");
  EXPECT_TRUE(view["error"].is_null());
  ASSERT_EQ(view["attempts"].size(), 2u);
  EXPECT_EQ(view["attempts"][1]["agent_instance"], "i-2");
  EXPECT_EQ(view["attempts"][1]["status"], "succeeded");
}

TEST_F(RetryTest, TheBackoffDoublesAndTheLastAttemptStaysFailed) {
  const auto id = add_job({{"max_attempts", 3}, {"retry_backoff_ms", 1000}});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto leased = claim_now();
    ASSERT_EQ(leased.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(leased[0]["attempt"], attempt);
    ASSERT_EQ(fail(leased[0], true).kind, Answer::Kind::kOk);
    if (attempt == 3) break;
    const auto base = std::chrono::milliseconds(1000 << (attempt - 1));
    clock_->advance(base * 8 / 10 - 1ms);
    EXPECT_TRUE(claim_now().empty()) << "attempt " << attempt;
    clock_->advance(base * 4 / 10 + 1ms);
  }
  auto view = job(id);
  EXPECT_EQ(view["status"], "failed");
  EXPECT_EQ(view["error"]["code"], "timeout");
  EXPECT_FALSE(view["finished_at"].is_null());
  ASSERT_EQ(view["attempts"].size(), 3u);
  for (const auto& a : view["attempts"]) EXPECT_EQ(a["status"], "failed");
  clock_->advance(1h);
  EXPECT_TRUE(claim_now().empty());
}

TEST_F(RetryTest, ANonRetryableFailureIsFinal) {
  const auto id = add_job({{"max_attempts", 5}});
  ASSERT_EQ(fail(claim_now().at(0), false, "auth_failed").kind, Answer::Kind::kOk);
  auto view = job(id);
  EXPECT_EQ(view["status"], "failed");
  EXPECT_EQ(view["attempts"].size(), 1u);
  clock_->advance(1h);
  EXPECT_TRUE(claim_now().empty());
}

TEST_F(RetryTest, LeaseExpiriesAndRetriesShareTheAttempts) {
  const auto id = add_job({{"max_attempts", 2}, {"retry_backoff_ms", 0}});
  ASSERT_EQ(fail(claim_now().at(0), true).kind, Answer::Kind::kOk);
  auto second = claim_now();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0]["attempt"], 2);
  clock_->advance(10s);
  EXPECT_EQ(service_->sweep_leases(), 1u);
  auto view = job(id);
  EXPECT_EQ(view["status"], "failed");
  EXPECT_EQ(view["error"]["code"], "agent_lost");
  ASSERT_EQ(view["attempts"].size(), 2u);
  EXPECT_EQ(view["attempts"][0]["status"], "failed");
  EXPECT_EQ(view["attempts"][1]["status"], "expired");
}

TEST_F(RetryTest, MaxAttemptsDefaultsToTheHubsAndIsValidated) {
  const auto id = add_job({{"retry_backoff_ms", 0}});
  for (int i = 0; i < 3; ++i) ASSERT_EQ(fail(claim_now().at(0), true).kind, Answer::Kind::kOk);
  EXPECT_EQ(job(id)["status"], "failed");
  EXPECT_EQ(job(id)["attempts"].size(), 3u);
  for (const Json& bad : {Json{{"max_attempts", 0}}, Json{{"max_attempts", "3"}},
                          Json{{"retry_backoff_ms", -1}}, Json{{"retry_backoff_ms", 1.5}}}) {
    Json body{{"type", "query"}, {"source_id", source_id_}};
    body.update(bad);
    try {
      service_->create_job(body);
      ADD_FAILURE() << bad.dump();
    } catch (const BadRequest& e) {
      EXPECT_EQ(e.code, "invalid_field");
      EXPECT_NE(e.message.find(bad.begin().key()), std::string::npos) << e.message;
    }
  }
}

TEST_F(RetryTest, AWaitingClaimIsWokenWhenTheBackoffEnds) {
  add_job({{"retry_backoff_ms", 1000}});
  ASSERT_EQ(fail(claim_now().at(0), true).kind, Answer::Kind::kOk);
  std::optional<Answer> out;
  ClaimReply reply;
  reply.send = [&out](Answer a) { out = std::move(a); };
  service_->claim(token_, ClaimParams{"i-1", 1, 60'000}, std::move(reply));
  io_.poll();
  EXPECT_FALSE(out);
  clock_->advance(1200ms);
  service_->run_scheduler();  // what the scheduler timer does when the delay ends
  io_.poll();
  ASSERT_TRUE(out);
  ASSERT_EQ(out->body["jobs"].size(), 1u);
  EXPECT_EQ(out->body["jobs"][0]["attempt"], 2);
}

TEST_F(RetryTest, CancellingAJobWaitingForItsRetryEndsIt) {
  const auto id = add_job({{"retry_backoff_ms", 1000}});
  ASSERT_EQ(fail(claim_now().at(0), true).kind, Answer::Kind::kOk);
  EXPECT_EQ(service_->cancel_job(id).kind, Answer::Kind::kAccepted);
  clock_->advance(1h);
  service_->run_scheduler();
  EXPECT_TRUE(claim_now().empty());
  EXPECT_EQ(job(id)["status"], "cancelled");
}

}  // namespace
}  // namespace outpost::hub::testing
