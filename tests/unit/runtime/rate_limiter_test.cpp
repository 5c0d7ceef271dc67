#include "runtime/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace outpost::runtime {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimiter, ZeroMeansUnlimited) {
  const auto t0 = Clock::time_point{} + 100s;
  RateLimiter r(0, t0);
  EXPECT_TRUE(r.unlimited());
  for (int i = 0; i < 10000; ++i) EXPECT_TRUE(r.try_take(t0));
  EXPECT_EQ(r.time_until_token(t0), 0ms);
}

TEST(RateLimiter, BurstOfRateThenOnePerInterval) {
  const auto t0 = Clock::time_point{} + 100s;
  RateLimiter r(5, t0);
  EXPECT_EQ(r.available(t0), 5);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(r.try_take(t0));
  EXPECT_FALSE(r.try_take(t0));
  EXPECT_EQ(r.time_until_token(t0), 200ms);
  EXPECT_FALSE(r.try_take(t0 + 199ms));
  EXPECT_TRUE(r.try_take(t0 + 200ms));
  EXPECT_FALSE(r.try_take(t0 + 200ms));
}

TEST(RateLimiter, RefillNeverExceedsBurst) {
  const auto t0 = Clock::time_point{} + 100s;
  RateLimiter r(2, t0);
  EXPECT_EQ(r.available(t0 + 1h), 2);
}

TEST(RateLimiter, FractionalRates) {
  const auto t0 = Clock::time_point{} + 100s;
  RateLimiter r(0.5, t0);  // one start every 2 s, burst 1
  EXPECT_TRUE(r.try_take(t0));
  EXPECT_FALSE(r.try_take(t0 + 1s));
  EXPECT_EQ(r.time_until_token(t0 + 1s), 1000ms);
  EXPECT_TRUE(r.try_take(t0 + 2s));
}

TEST(RateLimiter, OverOneSecondStartsMatchTheRate) {
  const auto t0 = Clock::time_point{} + 100s;
  RateLimiter r(10, t0);
  int started = 0;
  for (auto t = t0; t < t0 + 10s; t += 1ms) started += r.try_take(t) ? 1 : 0;
  // 10 in the initial burst plus 10 per second for 10 s.
  EXPECT_GE(started, 109);
  EXPECT_LE(started, 110);
}

}  // namespace
}  // namespace outpost::runtime
