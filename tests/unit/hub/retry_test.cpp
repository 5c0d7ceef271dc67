// The retry rule: B × 2^(attempt-1) ms with ±20 % jitter, capped; only
// errors marked retryable, only while attempts remain.
#include "retry.hpp"

#include <gtest/gtest.h>

namespace outpost::hub {
namespace {

using std::chrono::milliseconds;

TEST(Retry, DelayDoublesPerAttemptWithinTwentyPercent) {
  for (int attempt = 1; attempt <= 5; ++attempt) {
    const std::int64_t base = 1000LL << (attempt - 1);
    EXPECT_EQ(retry_delay(1000, attempt, 0.5), milliseconds(base));
    EXPECT_EQ(retry_delay(1000, attempt, 0.0), milliseconds(base * 8 / 10));
    EXPECT_EQ(retry_delay(1000, attempt, 1.0), milliseconds(base * 12 / 10));
  }
  for (int i = 0; i < 1000; ++i) {
    const auto d = retry_delay(500, 3, jitter_unit());
    EXPECT_GE(d, milliseconds(1600));
    EXPECT_LE(d, milliseconds(2400));
  }
  EXPECT_EQ(retry_delay(0, 4, 0.3), milliseconds(0));
  EXPECT_EQ(retry_delay(3'600'000, 90, 0.9), kMaxRetryDelay);
  EXPECT_EQ(retry_delay(1000, 0, 0.5), milliseconds(1000));  // attempt below 1 reads as 1
}

TEST(Retry, JitterIsSpreadOverTheWholeRange) {
  double lo = 1.0, hi = 0.0;
  for (int i = 0; i < 2000; ++i) {
    const double u = jitter_unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    lo = std::min(lo, u);
    hi = std::max(hi, u);
  }
  EXPECT_LT(lo, 0.05);
  EXPECT_GT(hi, 0.95);
}

TEST(Retry, OnlyRetryableErrorsWithAttemptsLeft) {
  const Json retryable{{"code", "timeout"}, {"retryable", true}};
  EXPECT_TRUE(should_retry(retryable, 1, 3));
  EXPECT_TRUE(should_retry(retryable, 2, 3));
  EXPECT_FALSE(should_retry(retryable, 3, 3));
  EXPECT_FALSE(should_retry(retryable, 1, 1));
  EXPECT_FALSE(should_retry(Json{{"code", "auth_failed"}, {"retryable", false}}, 1, 3));
  EXPECT_FALSE(should_retry(Json{{"code", "query_failed"}}, 1, 3));
  EXPECT_FALSE(should_retry(Json{{"retryable", "yes"}}, 1, 3));
  EXPECT_FALSE(should_retry(std::nullopt, 1, 3));
}

}  // namespace
}  // namespace outpost::hub
