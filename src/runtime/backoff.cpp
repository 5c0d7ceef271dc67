#include "runtime/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <utility>

namespace outpost::runtime {
namespace {

constexpr double kJitterFraction = 0.33;
constexpr std::chrono::milliseconds kMaxRetryAfter{std::chrono::hours(1)};

// One engine per thread, seeded on first use: every job call owns a Backoff,
// and opening std::random_device for each was a measurable share of a job's CPU.
double default_random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(-1.0, 1.0)(engine);
}

}  // namespace

Backoff::Backoff(config::BackoffStrategy strategy, std::chrono::milliseconds cap,
                 RandomSource random, ClockSource clock)
    : strategy_(strategy),
      cap_(std::max(cap, std::chrono::milliseconds(1))),
      random_(random ? std::move(random) : RandomSource(default_random)),
      clock_(clock ? std::move(clock) : ClockSource([] { return Clock::now(); })) {}

std::chrono::milliseconds Backoff::delay_for(int failures) const {
  using config::BackoffStrategy;
  const double r = std::max(failures, 1);
  const double cap_seconds = static_cast<double>(cap_.count()) / 1000.0;
  double base = 1.0;
  bool jitter = false;
  switch (strategy_) {
    case BackoffStrategy::kLinear: base = r; break;
    case BackoffStrategy::kLinearJitter: base = r, jitter = true; break;
    case BackoffStrategy::kExponential: base = std::exp2(std::min(r, 64.0)); break;
    case BackoffStrategy::kExponentialJitter:
      base = std::exp2(std::min(r, 64.0));
      jitter = true;
      break;
    case BackoffStrategy::kFallback: base = 1.0; break;
  }
  double seconds = base;
  if (jitter) {
    const double u = std::clamp(random_(), -1.0, 1.0);
    seconds = base + u * kJitterFraction * base;
  }
  seconds = std::clamp(seconds, 0.0, cap_seconds);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000.0)));
}

std::chrono::milliseconds Backoff::fail(std::optional<std::chrono::milliseconds> retry_after) {
  if (failures_ < 1'000'000) ++failures_;
  auto delay = delay_for(failures_);
  if (retry_after) delay = std::max(delay, std::min(*retry_after, kMaxRetryAfter));
  next_attempt_ = clock_() + delay;
  return delay;
}

void Backoff::succeed() {
  failures_ = 0;
  next_attempt_ = clock_();
}

}  // namespace outpost::runtime
