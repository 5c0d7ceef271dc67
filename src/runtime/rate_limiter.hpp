#pragma once

#include <chrono>

namespace outpost::runtime {

/// Token bucket behind --max-rate: at most `rate` job starts per second on
/// average, with bursts of up to max(1, rate) starts. A rate of 0 means
/// unlimited. Pure: the caller passes the current time.
///
/// Thread safety: none (used from the network thread only).
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  RateLimiter(double rate_per_second, Clock::time_point now);

  [[nodiscard]] bool unlimited() const noexcept { return rate_ <= 0; }

  /// Whole tokens available at `now` (a large number when unlimited).
  [[nodiscard]] int available(Clock::time_point now);

  /// Takes one token if there is one.
  bool try_take(Clock::time_point now);

  /// How long until one token is available (zero if one is available now).
  [[nodiscard]] std::chrono::milliseconds time_until_token(Clock::time_point now);

 private:
  void refill(Clock::time_point now);

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

}  // namespace outpost::runtime
