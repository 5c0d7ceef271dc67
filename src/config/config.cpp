#include "config/config.hpp"

namespace outpost::config {

std::string_view to_string(BackoffStrategy strategy) noexcept {
  switch (strategy) {
    case BackoffStrategy::kLinear: return "linear";
    case BackoffStrategy::kLinearJitter: return "linear-jitter";
    case BackoffStrategy::kExponential: return "exponential";
    case BackoffStrategy::kExponentialJitter: return "exponential-jitter";
    case BackoffStrategy::kFallback: return "fallback";
  }
  return "unknown";
}

std::string_view to_string(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "unknown";
}

std::string_view to_string(LogFormat format) noexcept {
  return format == LogFormat::kJson ? "json" : "text";
}

}  // namespace outpost::config
