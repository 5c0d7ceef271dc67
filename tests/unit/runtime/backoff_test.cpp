#include "runtime/backoff.hpp"

#include <gtest/gtest.h>

namespace outpost::runtime {
namespace {

using config::BackoffStrategy;
using std::chrono::milliseconds;
using namespace std::chrono_literals;

// A random source that returns a fixed value in [-1, 1].
Backoff::RandomSource fixed(double u) {
  return [u] { return u; };
}

TEST(Backoff, LinearIsRSeconds) {
  Backoff b(BackoffStrategy::kLinear, 60s, fixed(1.0));
  EXPECT_EQ(b.delay_for(1), 1000ms);
  EXPECT_EQ(b.delay_for(2), 2000ms);
  EXPECT_EQ(b.delay_for(7), 7000ms);
}

TEST(Backoff, ExponentialIsTwoToTheR) {
  Backoff b(BackoffStrategy::kExponential, 600s, fixed(1.0));
  EXPECT_EQ(b.delay_for(1), 2000ms);
  EXPECT_EQ(b.delay_for(2), 4000ms);
  EXPECT_EQ(b.delay_for(5), 32000ms);
}

TEST(Backoff, FallbackIsAlwaysOneSecond) {
  Backoff b(BackoffStrategy::kFallback, 60s, fixed(1.0));
  for (int r = 1; r < 50; ++r) EXPECT_EQ(b.delay_for(r), 1000ms);
}

TEST(Backoff, LinearJitterStaysWithinAThirdOfR) {
  Backoff lo(BackoffStrategy::kLinearJitter, 600s, fixed(-1.0));
  Backoff hi(BackoffStrategy::kLinearJitter, 600s, fixed(1.0));
  Backoff mid(BackoffStrategy::kLinearJitter, 600s, fixed(0.0));
  EXPECT_EQ(lo.delay_for(3), 2010ms);  // 3 - 0.99
  EXPECT_EQ(hi.delay_for(3), 3990ms);  // 3 + 0.99
  EXPECT_EQ(mid.delay_for(3), 3000ms);
}

TEST(Backoff, ExponentialJitterStaysWithinAThirdOfTwoToTheR) {
  Backoff lo(BackoffStrategy::kExponentialJitter, 600s, fixed(-1.0));
  Backoff hi(BackoffStrategy::kExponentialJitter, 600s, fixed(1.0));
  EXPECT_EQ(lo.delay_for(2), 2680ms);  // 4 - 1.32
  EXPECT_EQ(hi.delay_for(2), 5320ms);  // 4 + 1.32
}

TEST(Backoff, JitterWithRealRandomnessIsAlwaysInBounds) {
  Backoff b(BackoffStrategy::kExponentialJitter, 3600s);
  for (int r = 1; r <= 10; ++r) {
    const double base = 1000.0 * (1 << r);
    for (int i = 0; i < 200; ++i) {
      const auto d = static_cast<double>(b.delay_for(r).count());
      EXPECT_GE(d, base * 0.67 - 1) << "r=" << r;
      EXPECT_LE(d, base * 1.33 + 1) << "r=" << r;
    }
  }
}

TEST(Backoff, OutOfRangeRandomValuesAreClamped) {
  Backoff b(BackoffStrategy::kLinearJitter, 600s, fixed(5.0));
  EXPECT_EQ(b.delay_for(3), 3990ms);
}

TEST(Backoff, EveryStrategyIsCapped) {
  for (auto s : {BackoffStrategy::kLinear, BackoffStrategy::kLinearJitter,
                 BackoffStrategy::kExponential, BackoffStrategy::kExponentialJitter}) {
    Backoff b(s, 5s, fixed(1.0));
    EXPECT_EQ(b.delay_for(100), 5000ms);
    EXPECT_EQ(b.delay_for(1'000'000), 5000ms);  // no overflow for huge r
  }
  Backoff fallback(BackoffStrategy::kFallback, 500ms, fixed(1.0));
  EXPECT_EQ(fallback.delay_for(1), 500ms);
}

TEST(Backoff, DefaultCapIsSixtySeconds) {
  Backoff b(BackoffStrategy::kExponential, config::AgentConfig{}.backoff_cap, fixed(0));
  EXPECT_EQ(b.delay_for(5), 32000ms);
  EXPECT_EQ(b.delay_for(6), 60000ms);
}

TEST(Backoff, FailCountsConsecutiveFailuresAndSucceedResets) {
  auto now = Backoff::Clock::time_point{} + 1000s;
  Backoff b(BackoffStrategy::kExponential, 60s, fixed(0), [&] { return now; });
  EXPECT_EQ(b.fail(), 2000ms);
  EXPECT_EQ(b.next_attempt(), now + 2000ms);
  EXPECT_EQ(b.fail(), 4000ms);
  EXPECT_EQ(b.fail(), 8000ms);
  EXPECT_EQ(b.failures(), 3);
  b.succeed();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.next_attempt(), now);
  EXPECT_EQ(b.fail(), 2000ms);
}

TEST(Backoff, RetryAfterIsHonouredWhenLonger) {
  auto now = Backoff::Clock::time_point{};
  Backoff b(BackoffStrategy::kLinear, 60s, fixed(0), [&] { return now; });
  EXPECT_EQ(b.fail(milliseconds(7000)), 7000ms);  // r=1 gives 1 s; the server asked 7 s
  EXPECT_EQ(b.fail(milliseconds(500)), 2000ms);   // r=2 gives 2 s, longer than asked
  EXPECT_EQ(b.fail(std::chrono::hours(5)), std::chrono::hours(1));  // bounded
}

TEST(Backoff, ZeroOrNegativeFailuresCountAsOne) {
  Backoff b(BackoffStrategy::kLinear, 60s, fixed(0));
  EXPECT_EQ(b.delay_for(0), 1000ms);
  EXPECT_EQ(b.delay_for(-3), 1000ms);
}

}  // namespace
}  // namespace outpost::runtime
