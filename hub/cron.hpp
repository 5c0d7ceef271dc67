#pragma once

// Cron expressions of schedules (hub-v2.md §4): the classic 5 fields
// "minute hour day-of-month month day-of-week" read in an IANA time zone
// from the system tz database (/usr/share/zoneinfo, through cctz).
//
// Field syntax: "*", a value, a range "a-b", any of those with a step "/n"
// ("a/n" means a to the field's end), and comma-separated lists of them.
// Months take JAN..DEC and days of the week SUN..SAT (case-insensitive);
// day-of-week 7 is Sunday too. "@yearly", "@annually", "@monthly", "@weekly",
// "@daily", "@midnight" and "@hourly" stand for their usual expressions.
// As in Vixie cron, when both day fields are restricted (neither starts with
// "*") a day matches if either does.
//
// Daylight-saving time: a local time skipped by a clock change runs at the
// change (once, however many skipped times match); a repeated local time runs
// once, at its first occurrence.

#include <bitset>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include "store/records.hpp"

namespace outpost::hub {

/// A cron expression or time zone that cannot be used; what() names the
/// field and the problem ("cron: hour field: 24 is out of range 0-23").
class CronError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// The five fields as sets of allowed values.
struct CronFields {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days;     ///< 1..31
  std::bitset<13> months;   ///< 1..12
  std::bitset<7> weekdays;  ///< 0 = Sunday .. 6 = Saturday
  bool days_star = false;   ///< the day-of-month field started with "*"
  bool weekdays_star = false;
};

/// Parses the 5 fields (or a macro). Throws CronError.
CronFields parse_cron_fields(std::string_view expression);

/// A parsed expression in a loaded time zone. Immutable, thread safe.
class CronSchedule {
 public:
  /// Throws CronError for a bad expression or an unknown time zone.
  CronSchedule(std::string_view expression, std::string_view zone_name);

  /// The first due time strictly after `t` (whole seconds), or nullopt when
  /// the expression matches no time in the next 8 years ("0 0 30 2 *").
  [[nodiscard]] std::optional<SystemTime> next_after(SystemTime t) const;

  [[nodiscard]] const CronFields& fields() const noexcept { return fields_; }
  /// True when the local time `t` (its minute) matches every field.
  [[nodiscard]] bool matches(const cctz::civil_second& t) const;

 private:
  [[nodiscard]] bool day_matches(const cctz::civil_day& d) const;

  CronFields fields_;
  cctz::time_zone zone_;
};

/// True when `name` looks like an IANA zone name ("Europe/Paris", "UTC") and
/// the tz database has it. Names with "..", a leading '/' or other characters
/// than letters, digits and "/_+-" are refused before any file is looked up.
bool known_timezone(std::string_view name);

}  // namespace outpost::hub
