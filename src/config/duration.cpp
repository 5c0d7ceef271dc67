#include "config/duration.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace outpost::config {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t nanos;
};

// Longest names first so "ms" is not read as "m" followed by garbage.
constexpr std::array<Unit, 8> kUnits{{
    {"\xC2\xB5s", 1'000},  // µs (micro sign)
    {"\xCE\xBCs", 1'000},  // μs (Greek mu)
    {"ns", 1},
    {"us", 1'000},
    {"ms", 1'000'000},
    {"s", 1'000'000'000},
    {"m", 60'000'000'000},
    {"h", 3'600'000'000'000},
}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

// Reads "<digits>[.<digits>]" at `pos`; returns the value as integer and
// fractional parts so whole numbers stay exact.
bool read_number(std::string_view text, std::size_t& pos, std::uint64_t& whole, double& fraction,
                 bool& overflow) {
  const std::size_t start = pos;
  whole = 0;
  fraction = 0;
  overflow = false;
  while (pos < text.size() && is_digit(text[pos])) {
    const auto digit = static_cast<std::uint64_t>(text[pos] - '0');
    if (whole > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) overflow = true;
    whole = overflow ? whole : whole * 10 + digit;
    ++pos;
  }
  bool any_digit = pos > start;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    double scale = 0.1;
    while (pos < text.size() && is_digit(text[pos])) {
      fraction += scale * (text[pos] - '0');
      scale /= 10;
      any_digit = true;
      ++pos;
    }
  }
  return any_digit;
}

}  // namespace

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text, std::string* error) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) {
    fail(error, "empty duration; write a number with a unit, e.g. 30s, 150ms or 1m30s");
    return std::nullopt;
  }
  if (text == "0") return std::chrono::nanoseconds(0);
  if (text.front() == '-') {
    fail(error, "duration " + quoted + " is negative; durations must be 0 or more");
    return std::nullopt;
  }
  constexpr auto kMax = static_cast<double>(std::numeric_limits<std::int64_t>::max());
  double total = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::uint64_t whole = 0;
    double fraction = 0;
    bool overflow = false;
    if (!read_number(text, pos, whole, fraction, overflow)) {
      fail(error, "invalid duration " + quoted +
                      ": expected a number with a unit (ns, us, µs, ms, s, m, h), e.g. 30s");
      return std::nullopt;
    }
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (text.substr(pos, candidate.name.size()) != candidate.name) continue;
      unit = &candidate;
      break;
    }
    if (unit == nullptr) {
      if (pos == text.size()) {
        fail(error, "duration " + quoted + " has no unit; write e.g. " + std::string(text) +
                        "s or " + std::string(text) + "ms (units: ns, us, µs, ms, s, m, h)");
      } else {
        fail(error, "invalid duration " + quoted + ": unknown unit at '" +
                        std::string(text.substr(pos)) + "' (units: ns, us, µs, ms, s, m, h)");
      }
      return std::nullopt;
    }
    pos += unit->name.size();
    const double part = (static_cast<double>(whole) + fraction) * static_cast<double>(unit->nanos);
    total += part;
    if (overflow || !std::isfinite(total) || total >= kMax) {
      fail(error, "duration " + quoted + " is too large (at most about 292 years)");
      return std::nullopt;
    }
  }
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(total)));
}

std::string format_duration(std::chrono::nanoseconds value) {
  std::int64_t ns = value.count();
  if (ns == 0) return "0s";
  std::string out;
  if (ns < 0) {
    out = "-";
    ns = -ns;
  }
  // Sub-second values read best in a single small unit.
  if (ns < 1'000'000'000) {
    if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
    if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
    return out + std::to_string(ns) + "ns";
  }
  const std::int64_t hours = ns / 3'600'000'000'000;
  ns %= 3'600'000'000'000;
  const std::int64_t minutes = ns / 60'000'000'000;
  ns %= 60'000'000'000;
  if (hours != 0) out += std::to_string(hours) + "h";
  if (minutes != 0) out += std::to_string(minutes) + "m";
  if (ns == 0) return out;
  if (ns % 1'000'000'000 == 0) return out + std::to_string(ns / 1'000'000'000) + "s";
  if (ns % 1'000'000 == 0) return out + std::to_string(ns / 1'000'000) + "ms";
  if (ns % 1'000 == 0) return out + std::to_string(ns / 1'000) + "us";
  return out + std::to_string(ns) + "ns";
}

}  // namespace outpost::config
