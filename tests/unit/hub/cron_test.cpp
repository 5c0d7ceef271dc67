// Cron expressions of schedules: parsing errors name the field; next times in
// UTC and across daylight-saving changes in Europe/Paris (real tz database);
// a property test against a minute-by-minute search on random expressions.
#include "cron.hpp"

#include <gtest/gtest.h>

#include <random>

#include "util.hpp"

namespace outpost::hub {
namespace {

SystemTime at(std::string_view rfc) {
  auto t = parse_rfc3339(rfc);
  EXPECT_TRUE(t) << rfc;
  return t.value_or(SystemTime{});
}

std::string next(std::string_view expr, std::string_view zone, std::string_view from) {
  auto n = CronSchedule(expr, zone).next_after(at(from));
  return n ? rfc3339(*n) : "none";
}

std::string error_of(std::string_view expr, std::string_view zone = "UTC") {
  try {
    CronSchedule s(expr, zone);
  } catch (const CronError& e) {
    return e.what();
  }
  return "";
}

TEST(Cron, ParsesRangesListsStepsAndNames) {
  auto f = parse_cron_fields("5,10-20/5 */6 1,15 JAN-mar,Dec mon-FRI");
  EXPECT_EQ(f.minutes.count(), 4u);  // 5 10 15 20
  EXPECT_TRUE(f.minutes.test(15));
  EXPECT_EQ(f.hours.count(), 4u);  // 0 6 12 18
  EXPECT_TRUE(f.days.test(15));
  EXPECT_TRUE(f.months.test(1) && f.months.test(3) && f.months.test(12) && !f.months.test(4));
  EXPECT_TRUE(f.weekdays.test(1) && f.weekdays.test(5) && !f.weekdays.test(0));
  EXPECT_TRUE(parse_cron_fields("0 0 * * 7").weekdays.test(0));       // 7 is Sunday
  EXPECT_EQ(parse_cron_fields("10/20 * * * *").minutes.count(), 3u);  // 10 30 50
  EXPECT_EQ(parse_cron_fields("@daily").hours.count(), 1u);
}

TEST(Cron, BadExpressionsNameTheField) {
  EXPECT_EQ(error_of("* * * *"),
            "cron: expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(error_of("60 * * * *"), "cron: minute field: 60 is out of range 0-59");
  EXPECT_EQ(error_of("0 24 * * *"), "cron: hour field: 24 is out of range 0-23");
  EXPECT_EQ(error_of("0 0 0 * *"), "cron: day-of-month field: 0 is out of range 1-31");
  EXPECT_EQ(error_of("0 0 * FOO *"), "cron: month field: 'FOO' is not a valid name here");
  EXPECT_EQ(error_of("0 0 * * 8"), "cron: day-of-week field: 8 is out of range 0-7");
  EXPECT_EQ(error_of("*/0 * * * *"), "cron: minute field: step 0 is out of range");
  EXPECT_EQ(error_of("5-1 * * * *"), "cron: minute field: range 5-1 runs backwards");
  EXPECT_EQ(error_of("1,,2 * * * *"), "cron: minute field: a value is missing");
  EXPECT_EQ(error_of("MON * * * *"), "cron: minute field: 'MON' is not a valid name here");
  EXPECT_NE(error_of("@often").find("unknown macro"), std::string::npos);
  EXPECT_EQ(error_of("0 3 * * *", "Mars/Olympus"),
            "timezone: 'Mars/Olympus' is not a time zone of the tz database (e.g. \"UTC\", "
            "\"Europe/Paris\")");
  EXPECT_FALSE(known_timezone("../../etc/passwd"));
  EXPECT_FALSE(known_timezone("/usr/share/zoneinfo/UTC"));
  EXPECT_TRUE(known_timezone("Europe/Paris"));
  EXPECT_TRUE(known_timezone("UTC"));
}

TEST(Cron, NextTimesInUtc) {
  EXPECT_EQ(next("0 3 * * *", "UTC", "2026-12-03T02:59:59Z"), "2026-12-03T03:00:00.000Z");
  EXPECT_EQ(next("0 3 * * *", "UTC", "2026-12-03T03:00:00Z"), "2026-12-04T03:00:00.000Z");
  EXPECT_EQ(next("*/15 * * * *", "UTC", "2026-12-03T10:07:30.500Z"), "2026-12-03T10:15:00.000Z");
  EXPECT_EQ(next("0 0 29 2 *", "UTC", "2026-03-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
  EXPECT_EQ(next("0 9 * * MON", "UTC", "2026-12-03T00:00:00Z"), "2026-12-07T09:00:00.000Z");
  // Both day fields restricted: either matches (the 13th, or a Friday).
  EXPECT_EQ(next("0 0 13 * FRI", "UTC", "2026-12-05T00:00:00Z"), "2026-12-11T00:00:00.000Z");
  EXPECT_EQ(next("0 0 31 12 *", "UTC", "2026-12-31T00:00:00Z"), "2027-12-31T00:00:00.000Z");
  EXPECT_EQ(next("0 0 30 2 *", "UTC", "2026-01-01T00:00:00Z"), "none");
}

TEST(Cron, NextTimesInParisAcrossDaylightSaving) {
  // Winter: Paris is UTC+1.
  EXPECT_EQ(next("0 3 * * *", "Europe/Paris", "2026-12-03T00:00:00Z"), "2026-12-03T02:00:00.000Z");
  // Summer: UTC+2.
  EXPECT_EQ(next("0 3 * * *", "Europe/Paris", "2026-07-01T00:00:00Z"), "2026-07-01T01:00:00.000Z");
  // 29 March 2026 02:00 → 03:00: 02:30 does not exist and runs at the change (01:00Z), once.
  EXPECT_EQ(next("30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z"), "2026-03-29T01:00:00.000Z");
  EXPECT_EQ(next("*/10 * * * *", "Europe/Paris", "2026-03-29T00:55:00Z"),
            "2026-03-29T01:00:00.000Z");
  EXPECT_EQ(next("*/10 * * * *", "Europe/Paris", "2026-03-29T01:00:00Z"),
            "2026-03-29T01:10:00.000Z");
  // 25 October 2026 03:00 → 02:00: 02:30 happens twice and runs once, the first time.
  EXPECT_EQ(next("30 2 * * *", "Europe/Paris", "2026-10-24T12:00:00Z"), "2026-10-25T00:30:00.000Z");
  EXPECT_EQ(next("30 2 * * *", "Europe/Paris", "2026-10-25T00:30:00Z"), "2026-10-26T01:30:00.000Z");
}

TEST(Cron, PropertyNextIsTheFirstMatchingMinuteAfterTheStart) {
  std::mt19937 gen(20261203);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); };
  auto field = [&](int lo, int hi) -> std::string {
    switch (pick(0, 4)) {
      case 0: return "*";
      case 1: return "*/" + std::to_string(pick(1, hi));
      case 2: return std::to_string(pick(lo, hi));
      case 3: {
        int a = pick(lo, hi), b = pick(a, hi);
        return std::to_string(a) + "-" + std::to_string(b);
      }
      default: return std::to_string(pick(lo, hi)) + "," + std::to_string(pick(lo, hi));
    }
  };
  const cctz::time_zone utc = cctz::utc_time_zone();
  for (int i = 0; i < 300; ++i) {
    // Day fields kept broad so the brute-force search below stays short.
    const std::string expr =
        field(0, 59) + " " + field(0, 23) + " * * " + (pick(0, 1) ? "*" : field(0, 6));
    const CronSchedule s(expr, "UTC");
    const SystemTime start(std::chrono::seconds(1'780'000'000 + pick(0, 10'000'000)));
    const auto got = s.next_after(start);
    ASSERT_TRUE(got) << expr;
    ASSERT_GT(*got, start) << expr;
    auto m =
        cctz::civil_minute(cctz::convert(std::chrono::floor<std::chrono::seconds>(start), utc));
    for (++m;; ++m) {
      if (s.matches(cctz::civil_second(m))) break;
    }
    EXPECT_EQ(rfc3339(*got), rfc3339(std::chrono::time_point_cast<SystemTime::duration>(
                                 utc.lookup(cctz::civil_second(m)).pre)))
        << expr << " from " << rfc3339(start);
  }
}

}  // namespace
}  // namespace outpost::hub
