#pragma once

// The retry rule of jobs (hub-v2.md §4): a failed attempt whose error says
// "retryable": true runs again after B × 2^(attempt-1) ms, ±20 % jitter,
// while the job has attempts left. Pure functions, unit-tested without time.

#include <chrono>
#include <cstdint>

#include "store/records.hpp"

namespace outpost::hub {

/// The longest retry delay, whatever the backoff and attempt: a day.
inline constexpr std::chrono::milliseconds kMaxRetryDelay{24LL * 3600 * 1000};

/// B × 2^(attempt-1) ms scaled by (0.8 + 0.4 × unit), capped at
/// kMaxRetryDelay. `attempt` is the attempt that just failed (≥ 1); `unit` is
/// uniform in [0, 1) (values outside are clamped).
std::chrono::milliseconds retry_delay(std::int64_t backoff_ms, int attempt, double unit);

/// A uniform value in [0, 1) from a per-thread generator (for the jitter).
double jitter_unit();

/// True when `error` says "retryable": true.
bool is_retryable(const std::optional<Json>& error);

/// True when a failed result with `error` on attempt `attempt` of a job
/// allowing `max_attempts` is retried: error.retryable is true and attempts
/// remain.
bool should_retry(const std::optional<Json>& error, int attempt, int max_attempts);

}  // namespace outpost::hub
