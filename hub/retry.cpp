#include "retry.hpp"

#include <algorithm>
#include <cmath>
#include <random>

namespace outpost::hub {

std::chrono::milliseconds retry_delay(std::int64_t backoff_ms, int attempt, double unit) {
  const double u = std::clamp(unit, 0.0, 1.0);
  const int doublings = std::clamp(attempt - 1, 0, 40);  // 2^40 × anything ≥ 1 ms is past the cap
  const double base = static_cast<double>(std::max<std::int64_t>(backoff_ms, 0)) *
                      std::ldexp(1.0, doublings) * (0.8 + 0.4 * u);
  const double capped = std::min(base, static_cast<double>(kMaxRetryDelay.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(capped)));
}

double jitter_unit() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

bool is_retryable(const std::optional<Json>& error) {
  if (!error || !error->is_object()) return false;
  const auto it = error->find("retryable");
  return it != error->end() && it->is_boolean() && it->get<bool>();
}

bool should_retry(const std::optional<Json>& error, int attempt, int max_attempts) {
  return is_retryable(error) && attempt < max_attempts;
}

}  // namespace outpost::hub
