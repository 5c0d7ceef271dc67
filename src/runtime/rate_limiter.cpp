#include "runtime/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace outpost::runtime {

RateLimiter::RateLimiter(double rate_per_second, Clock::time_point now)
    : rate_(std::max(rate_per_second, 0.0)),
      burst_(std::max(1.0, rate_)),
      tokens_(burst_),
      last_(now) {}

void RateLimiter::refill(Clock::time_point now) {
  if (now <= last_) return;
  const double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

int RateLimiter::available(Clock::time_point now) {
  if (unlimited()) return std::numeric_limits<int>::max();
  refill(now);
  return static_cast<int>(std::floor(tokens_));
}

bool RateLimiter::try_take(Clock::time_point now) {
  if (unlimited()) return true;
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

std::chrono::milliseconds RateLimiter::time_until_token(Clock::time_point now) {
  if (unlimited()) return std::chrono::milliseconds(0);
  refill(now);
  if (tokens_ >= 1.0) return std::chrono::milliseconds(0);
  const double seconds = (1.0 - tokens_) / rate_;
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000.0)));
}

}  // namespace outpost::runtime
