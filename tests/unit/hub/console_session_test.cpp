// The console's sessions, CSRF tokens and sign-in limits, on a manual clock.
#include "console/session.hpp"

#include <gtest/gtest.h>

#include "console/sign_in_limiter.hpp"

namespace outpost::hub::console {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

const SystemTime kT0{std::chrono::hours(24 * 365 * 56)};

TEST(SessionStore, CreatesDistinctRandomIdsAndCsrfTokens) {
  SessionStore store(minutes(30), minutes(600), 100);
  const auto a = store.create(kT0);
  const auto b = store.create(kT0);
  EXPECT_EQ(a.id.size(), 64u);
  EXPECT_EQ(a.csrf.size(), 64u);
  EXPECT_NE(a.id, b.id);
  EXPECT_NE(a.csrf, b.csrf);
  EXPECT_NE(a.id, a.csrf);
  EXPECT_EQ(store.use(a.id, kT0), a.csrf);
  EXPECT_EQ(store.use(b.id, kT0), b.csrf);
  EXPECT_EQ(store.use("", kT0), std::nullopt);
  EXPECT_EQ(store.use(std::string(64, '0'), kT0), std::nullopt);
}

TEST(SessionStore, IdleSessionExpiresAndUseRestartsTheIdleTimer) {
  SessionStore store(minutes(30), minutes(600), 100);
  const auto s = store.create(kT0);
  EXPECT_TRUE(store.use(s.id, kT0 + minutes(29)));
  EXPECT_TRUE(store.use(s.id, kT0 + minutes(58)));   // 29 min after the last use
  EXPECT_FALSE(store.use(s.id, kT0 + minutes(88)));  // 30 min idle
  EXPECT_EQ(store.size(), 0u);                       // removed when found expired
  EXPECT_FALSE(store.use(s.id, kT0 + minutes(89)));
}

TEST(SessionStore, ActiveSessionStillEndsAtItsLifetime) {
  SessionStore store(minutes(30), minutes(120), 100);
  const auto s = store.create(kT0);
  for (int m = 20; m < 120; m += 20) EXPECT_TRUE(store.use(s.id, kT0 + minutes(m))) << m;
  EXPECT_FALSE(store.use(s.id, kT0 + minutes(120)));
}

TEST(SessionStore, SignOutEndsOnlyThatSession) {
  SessionStore store(minutes(30), minutes(600), 100);
  const auto a = store.create(kT0);
  const auto b = store.create(kT0);
  EXPECT_TRUE(store.end(a.id));
  EXPECT_FALSE(store.end(a.id));
  EXPECT_FALSE(store.use(a.id, kT0));
  EXPECT_TRUE(store.use(b.id, kT0));
}

TEST(SessionStore, BoundedByEndingTheLeastRecentlyUsed) {
  SessionStore store(minutes(30), minutes(600), 3);
  const auto a = store.create(kT0);
  const auto b = store.create(kT0 + milliseconds(1));
  const auto c = store.create(kT0 + milliseconds(2));
  EXPECT_TRUE(store.use(a.id, kT0 + milliseconds(3)));  // a is now the most recent
  const auto d = store.create(kT0 + milliseconds(4));
  EXPECT_EQ(store.size(), 3u);
  EXPECT_TRUE(store.use(a.id, kT0 + milliseconds(5)));
  EXPECT_FALSE(store.use(b.id, kT0 + milliseconds(5)));
  EXPECT_TRUE(store.use(c.id, kT0 + milliseconds(5)));
  EXPECT_TRUE(store.use(d.id, kT0 + milliseconds(5)));
}

TEST(Csrf, MatchesOnlyTheExactToken) {
  const std::string token(64, 'a');
  EXPECT_TRUE(csrf_matches(token, token));
  EXPECT_FALSE(csrf_matches(token, std::string(63, 'a') + "b"));
  EXPECT_FALSE(csrf_matches(token, token.substr(1)));
  EXPECT_FALSE(csrf_matches(token, ""));
  EXPECT_FALSE(csrf_matches("", ""));  // a session without a token accepts nothing
}

TEST(SignInLimiter, BlocksAnAddressAfterTooManyFailuresUntilItsWindowEnds) {
  SignInLimiter limiter(3, minutes(1));
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(limiter.blocked("10.0.0.1", kT0)) << i;
    limiter.failed("10.0.0.1", kT0 + milliseconds(i));
  }
  auto wait = limiter.blocked("10.0.0.1", kT0 + std::chrono::seconds(20));
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, std::chrono::seconds(40));
  EXPECT_FALSE(limiter.blocked("10.0.0.2", kT0));  // other clients are not affected
  EXPECT_FALSE(limiter.blocked("10.0.0.1", kT0 + minutes(1)));
}

TEST(SignInLimiter, SuccessClearsTheAddress) {
  SignInLimiter limiter(2, minutes(1));
  limiter.failed("::1", kT0);
  limiter.succeeded("::1");
  limiter.failed("::1", kT0);
  EXPECT_FALSE(limiter.blocked("::1", kT0));
  limiter.failed("::1", kT0);
  EXPECT_TRUE(limiter.blocked("::1", kT0));
}

TEST(SignInLimiter, TableStaysBounded) {
  SignInLimiter limiter(5, minutes(1), 100);
  for (int i = 0; i < 1000; ++i) {
    limiter.failed("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256),
                   kT0 + milliseconds(i));
  }
  EXPECT_LE(limiter.tracked(), 100u);
}

}  // namespace
}  // namespace outpost::hub::console
