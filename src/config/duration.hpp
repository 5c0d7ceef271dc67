#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::config {

/// Parses a duration such as "150ms", "10s", "1m30s", "1.5h" or "0".
///
/// Units: ns, us, µs (also the Greek μ), ms, s, m, h. Several parts may follow
/// each other ("1h2m3.5s"); each part is a non-negative decimal number with a
/// unit. A bare number other than "0" is rejected, because "30" could mean
/// seconds or milliseconds. Returns nullopt and sets `error` (one sentence
/// that says how to fix the value) when the text is not a valid duration.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string* error);

/// Formats a duration with the largest units that keep it exact ("1m30s", "150ms", "0s").
std::string format_duration(std::chrono::nanoseconds value);

}  // namespace outpost::config
