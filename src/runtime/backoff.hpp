#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "config/config.hpp"

namespace outpost::runtime {

/// The reconnection delays of agent-cli.md, as a pure computation: the clock
/// and the random source are injected so every formula, its jitter bounds and
/// the cap can be tested exactly.
///
///   linear              d = r
///   linear-jitter       d = r ± u·0.33·r
///   exponential         d = 2^r
///   exponential-jitter  d = 2^r ± u·0.33·2^r
///   fallback            d = 1
/// with r the number of consecutive failures (≥ 1), d in seconds, u in [-1, 1],
/// and every delay capped.
///
/// Thread safety: none; each loop owns its own instance.
class Backoff {
 public:
  using Clock = std::chrono::steady_clock;
  /// Returns a uniformly distributed value in [-1, 1].
  using RandomSource = std::function<double()>;
  using ClockSource = std::function<Clock::time_point()>;

  /// Empty `random`/`clock` use a seeded std::mt19937_64 and steady_clock.
  Backoff(config::BackoffStrategy strategy, std::chrono::milliseconds cap, RandomSource random = {},
          ClockSource clock = {});

  /// The delay after `failures` consecutive failures (values < 1 count as 1).
  [[nodiscard]] std::chrono::milliseconds delay_for(int failures) const;

  /// Records one more failure; returns how long to wait before the next
  /// attempt. A `retry_after` from the server (429/503) is honoured when it is
  /// longer than the computed delay (bounded to one hour against nonsense).
  std::chrono::milliseconds fail(std::optional<std::chrono::milliseconds> retry_after = {});

  /// Resets the count of consecutive failures.
  void succeed();

  [[nodiscard]] int failures() const noexcept { return failures_; }
  /// When the next attempt is due (now after a success).
  [[nodiscard]] Clock::time_point next_attempt() const noexcept { return next_attempt_; }

 private:
  config::BackoffStrategy strategy_;
  std::chrono::milliseconds cap_;
  RandomSource random_;
  ClockSource clock_;
  int failures_ = 0;
  Clock::time_point next_attempt_{};
};

}  // namespace outpost::runtime
