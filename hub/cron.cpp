#include "cron.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

#include <cctz/civil_time.h>

namespace outpost::hub {

namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // 3-letter names for min..min+count-1, or null
  int name_count;
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr FieldSpec kFields[] = {
    {"minute", 0, 59, nullptr, 0},       {"hour", 0, 23, nullptr, 0},
    {"day-of-month", 1, 31, nullptr, 0}, {"month", 1, 12, kMonthNames, 12},
    {"day-of-week", 0, 7, kDayNames, 7},
};

[[noreturn]] void fail(const FieldSpec& f, const std::string& what) {
  throw CronError(std::string("cron: ") + f.name + " field: " + what);
}

int parse_value(const FieldSpec& f, std::string_view text) {
  if (text.empty()) fail(f, "a value is missing");
  if (std::isalpha(static_cast<unsigned char>(text[0])) != 0) {
    std::string lower;
    for (char c : text)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (int i = 0; i < f.name_count; ++i) {
      if (lower == f.names[i]) return f.min + i;
    }
    fail(f, "'" + std::string(text) + "' is not a valid name here");
  }
  if (text.size() > 4 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    fail(f, "'" + std::string(text) + "' is not a number");
  }
  const int v = std::stoi(std::string(text));
  if (v < f.min || v > f.max) {
    fail(f, std::to_string(v) + " is out of range " + std::to_string(f.min) + "-" +
                std::to_string(f.max));
  }
  return v;
}

/// One comma-separated item: "*", "a", "a-b", each optionally "/step".
void parse_item(const FieldSpec& f, std::string_view item, std::vector<int>& out) {
  int step = 1;
  bool stepped = false;
  if (auto slash = item.find('/'); slash != std::string_view::npos) {
    const std::string_view s = item.substr(slash + 1);
    if (s.empty() || s.size() > 4 || !std::all_of(s.begin(), s.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c)) != 0;
        })) {
      fail(f, "step '" + std::string(s) + "' is not a number");
    }
    step = std::stoi(std::string(s));
    if (step < 1 || step > f.max) fail(f, "step " + std::to_string(step) + " is out of range");
    stepped = true;
    item = item.substr(0, slash);
  }
  int lo = f.min;
  int hi = f.max;
  if (item != "*") {
    const auto dash = item.find('-');
    lo = parse_value(f, item.substr(0, dash));
    if (dash != std::string_view::npos) {
      hi = parse_value(f, item.substr(dash + 1));
      if (hi < lo) fail(f, "range " + std::string(item) + " runs backwards");
    } else if (!stepped) {
      hi = lo;
    }
  }
  for (int v = lo; v <= hi; v += step) out.push_back(v);
}

std::vector<int> parse_field(const FieldSpec& f, std::string_view text) {
  std::vector<int> out;
  for (;;) {
    const auto comma = text.find(',');
    parse_item(f, text.substr(0, comma), out);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string_view expand_macro(std::string_view e) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kMacros{{
      {"@yearly", "0 0 1 1 *"},
      {"@annually", "0 0 1 1 *"},
      {"@monthly", "0 0 1 * *"},
      {"@weekly", "0 0 * * 0"},
      {"@daily", "0 0 * * *"},
      {"@midnight", "0 0 * * *"},
      {"@hourly", "0 * * * *"},
  }};
  for (const auto& [name, expr] : kMacros) {
    if (e == name) return expr;
  }
  throw CronError("cron: unknown macro '" + std::string(e) +
                  "' (use @yearly, @monthly, @weekly, @daily or @hourly)");
}

std::vector<std::string_view> split_fields(std::string_view e) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < e.size()) {
    while (i < e.size() && (e[i] == ' ' || e[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < e.size() && e[i] != ' ' && e[i] != '\t') ++i;
    if (i > start) out.push_back(e.substr(start, i - start));
  }
  return out;
}

}  // namespace

CronFields parse_cron_fields(std::string_view expression) {
  if (expression.size() > 256)
    throw CronError("cron: the expression is longer than 256 characters");
  auto parts = split_fields(expression);
  if (parts.size() == 1 && parts[0].starts_with('@')) parts = split_fields(expand_macro(parts[0]));
  if (parts.size() != 5) {
    throw CronError("cron: expected 5 fields (minute hour day-of-month month day-of-week), got " +
                    std::to_string(parts.size()));
  }
  CronFields out;
  for (int v : parse_field(kFields[0], parts[0])) out.minutes.set(static_cast<std::size_t>(v));
  for (int v : parse_field(kFields[1], parts[1])) out.hours.set(static_cast<std::size_t>(v));
  for (int v : parse_field(kFields[2], parts[2])) out.days.set(static_cast<std::size_t>(v));
  for (int v : parse_field(kFields[3], parts[3])) out.months.set(static_cast<std::size_t>(v));
  for (int v : parse_field(kFields[4], parts[4])) out.weekdays.set(static_cast<std::size_t>(v % 7));
  out.days_star = parts[2].starts_with('*');
  out.weekdays_star = parts[4].starts_with('*');
  return out;
}

bool known_timezone(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' ||
      name.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '/' && c != '_' && c != '+' &&
        c != '-') {
      return false;
    }
  }
  cctz::time_zone tz;
  return cctz::load_time_zone(std::string(name), &tz);
}

CronSchedule::CronSchedule(std::string_view expression, std::string_view zone_name)
    : fields_(parse_cron_fields(expression)) {
  if (!known_timezone(zone_name)) {
    throw CronError("timezone: '" + std::string(zone_name) +
                    "' is not a time zone of the tz database (e.g. \"UTC\", \"Europe/Paris\")");
  }
  cctz::load_time_zone(std::string(zone_name), &zone_);
}

bool CronSchedule::day_matches(const cctz::civil_day& d) const {
  if (!fields_.months.test(static_cast<std::size_t>(d.month()))) return false;
  const bool dom = fields_.days.test(static_cast<std::size_t>(d.day()));
  // cctz: monday = 0 .. sunday = 6; cron: sunday = 0.
  const int wd = (static_cast<int>(cctz::get_weekday(d)) + 1) % 7;
  const bool dow = fields_.weekdays.test(static_cast<std::size_t>(wd));
  if (fields_.days_star || fields_.weekdays_star) return dom && dow;
  return dom || dow;
}

bool CronSchedule::matches(const cctz::civil_second& t) const {
  return day_matches(cctz::civil_day(t)) &&
         fields_.hours.test(static_cast<std::size_t>(t.hour())) &&
         fields_.minutes.test(static_cast<std::size_t>(t.minute()));
}

std::optional<SystemTime> CronSchedule::next_after(SystemTime t) const {
  using std::chrono::seconds;
  const auto t_sec = std::chrono::floor<seconds>(t);
  const cctz::civil_minute start(cctz::convert(t_sec, zone_));
  const cctz::civil_day first(start);
  for (cctz::civil_day d = first; d - first <= 366 * 8; ++d) {
    if (!day_matches(d)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!fields_.hours.test(static_cast<std::size_t>(h))) continue;
      for (int m = 0; m < 60; ++m) {
        if (!fields_.minutes.test(static_cast<std::size_t>(m))) continue;
        const cctz::civil_minute cm(d.year(), d.month(), d.day(), h, m);
        if (cm < start) continue;
        const auto look = zone_.lookup(cctz::civil_second(cm));
        // Skipped by a clock change: at the change. Repeated: the first one.
        const auto at = look.kind == cctz::time_zone::civil_lookup::SKIPPED ? look.trans : look.pre;
        const SystemTime abs = std::chrono::time_point_cast<SystemTime::duration>(at);
        if (abs > t) return abs;
      }
    }
  }
  return std::nullopt;
}

}  // namespace outpost::hub
