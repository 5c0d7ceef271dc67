#include "common/text_format.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace outpost::connectors::common {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "+02" -> "+02:00"; "+05:30" and "+05:53:28" stay. `zone` starts with + or -.
std::string normalize_offset(std::string_view zone) {
  if (zone.size() == 3 && all_digits(zone.substr(1))) return std::string(zone) + ":00";
  return std::string(zone);
}

// Splits "HH:MM:SS[.f]<zone>" into time and zone (zone may be empty).
std::string time_with_zone(std::string_view t) {
  const auto pos = t.find_first_of("+-");
  if (pos == std::string_view::npos) return std::string(t);
  return std::string(t.substr(0, pos)) + normalize_offset(t.substr(pos));
}

}  // namespace

std::string format_iso8601_utc(std::chrono::system_clock::time_point when) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch());
  const auto secs = static_cast<std::time_t>(ms.count() / 1000);
  const int millis = static_cast<int>(((ms.count() % 1000) + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string sql_datetime_to_iso8601(std::string_view text) {
  std::string_view body = text;
  bool bc = false;
  if (body.size() > 3 && body.substr(body.size() - 3) == " BC") {
    bc = true;
    body.remove_suffix(3);
  }
  // A bare time ("13:14:15[.f][zone]").
  if (body.size() >= 8 && body[2] == ':' && all_digits(body.substr(0, 2))) {
    return time_with_zone(body);
  }
  // A date ("YYYY-MM-DD", year may have more digits), optionally " time".
  const auto dash = body.find('-');
  if (dash == std::string_view::npos || dash < 4 || !all_digits(body.substr(0, dash))) {
    return std::string(text);
  }
  std::string out;
  std::string_view year = body.substr(0, dash);
  if (bc) {
    // 1 BC is year 0, 2 BC is year -1: astronomical numbering.
    long long y = 0;
    std::from_chars(year.data(), year.data() + year.size(), y);
    char buf[24];
    std::snprintf(buf, sizeof buf, "%s%04lld", y - 1 == 0 ? "" : "-", y - 1);
    out = buf;
  } else {
    out = std::string(year);
  }
  const auto space = body.find(' ', dash);
  if (space == std::string_view::npos) {
    out.append(body.substr(dash));
    return out;
  }
  out.append(body.substr(dash, space - dash));
  out.push_back('T');
  out.append(time_with_zone(body.substr(space + 1)));
  return out;
}

bool hex_decode(std::string_view hex, std::string& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]);
    const int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>((hi << 4) | lo));
  }
  return true;
}

std::string json_single_line(std::string_view json) {
  std::string out(json);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return out;
}

std::int64_t elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

std::int64_t remaining_ms(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return std::max<std::int64_t>(0, left.count());
}

}  // namespace outpost::connectors::common
