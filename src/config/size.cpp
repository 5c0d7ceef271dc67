#include "config/size.hpp"

#include <array>
#include <cctype>
#include <cmath>
#include <limits>

namespace outpost::config {
namespace {

struct SizeUnit {
  std::string_view name;  // lower case
  double multiplier;
};

constexpr double kKi = 1024.0;
constexpr std::array<SizeUnit, 14> kSizeUnits{{
    {"", 1},
    {"b", 1},
    {"k", kKi},
    {"kib", kKi},
    {"kb", 1e3},
    {"m", kKi* kKi},
    {"mib", kKi* kKi},
    {"mb", 1e6},
    {"g", kKi* kKi* kKi},
    {"gib", kKi* kKi* kKi},
    {"gb", 1e9},
    {"t", kKi* kKi* kKi* kKi},
    {"tib", kKi* kKi* kKi* kKi},
    {"tb", 1e12},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<std::uint64_t> {
    if (error != nullptr) *error = std::move(message);
    return std::nullopt;
  };
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return fail("empty size; write bytes or a number with a unit, e.g. 256MiB");
  if (text.front() == '-') return fail("size " + quoted + " is negative; sizes must be 0 or more");

  std::size_t pos = 0;
  double value = 0;
  bool any_digit = false;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
    value = value * 10 + (text[pos] - '0');
    any_digit = true;
    ++pos;
  }
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    double scale = 0.1;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0) {
      value += scale * (text[pos] - '0');
      scale /= 10;
      any_digit = true;
      ++pos;
    }
  }
  if (!any_digit) {
    return fail("invalid size " + quoted + ": expected a number with an optional unit " +
                "(B, KiB, MiB, GiB, TiB, kB, MB, GB, TB), e.g. 256MiB");
  }
  const std::string unit = lower(text.substr(pos));
  for (const auto& candidate : kSizeUnits) {
    if (unit != candidate.name) continue;
    const double bytes = std::floor(value * candidate.multiplier);
    if (!std::isfinite(bytes) || bytes >= 18446744073709551615.0) {
      return fail("size " + quoted + " is too large");
    }
    return static_cast<std::uint64_t>(bytes);
  }
  return fail("invalid size " + quoted + ": unknown unit '" + std::string(text.substr(pos)) +
              "' (use B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)");
}

std::string format_size(std::uint64_t bytes) {
  constexpr std::array<std::string_view, 4> kNames{"KiB", "MiB", "GiB", "TiB"};
  if (bytes == 0 || bytes % 1024 != 0) return std::to_string(bytes) + "B";
  std::size_t unit = 0;
  bytes /= 1024;
  while (unit + 1 < kNames.size() && bytes % 1024 == 0) {
    bytes /= 1024;
    ++unit;
  }
  return std::to_string(bytes) + std::string(kNames[unit]);
}

}  // namespace outpost::config
