#include "outpost/cancel.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace outpost {
namespace {

TEST(CancelToken, FirstReasonWins) {
  CancelToken token;
  EXPECT_FALSE(token.cancelled());
  token.cancel(CancelReason::kTimeout);
  token.cancel(CancelReason::kRequested);
  EXPECT_TRUE(token.cancelled());
  EXPECT_EQ(token.reason(), CancelReason::kTimeout);
}

TEST(CancelToken, HookRunsOnceOnCancel) {
  CancelToken token;
  int calls = 0;
  auto reg = token.on_cancel([&] { ++calls; });
  std::thread canceller([&] { token.cancel(CancelReason::kRequested); });
  canceller.join();
  token.cancel(CancelReason::kRequested);
  EXPECT_EQ(calls, 1);
}

TEST(CancelToken, HookRunsAtOnceWhenAlreadyCancelled) {
  CancelToken token;
  token.cancel(CancelReason::kShutdown);
  int calls = 0;
  auto reg = token.on_cancel([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(CancelToken, UnregisteredHookNeverRuns) {
  CancelToken token;
  int calls = 0;
  {
    auto reg = token.on_cancel([&] { ++calls; });
  }
  token.cancel(CancelReason::kRequested);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace outpost
