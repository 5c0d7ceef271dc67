// Fuzzes the hub's cron parser and next-time search: every input parses or
// fails with a CronError naming a field; whatever parses yields a next time
// strictly after the start that matches every field, in UTC and in a zone
// with daylight-saving changes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <cctz/civil_time.h>

#include "cron.hpp"

namespace {

using outpost::hub::CronError;
using outpost::hub::CronSchedule;
using outpost::hub::SystemTime;

void check(const CronSchedule& s, const cctz::time_zone& zone, SystemTime start, bool utc) {
  const auto next = s.next_after(start);
  if (!next) return;  // matches no date (e.g. 30 February)
  if (*next <= start) std::abort();
  const auto civil = cctz::convert(std::chrono::floor<std::chrono::seconds>(*next), zone);
  const auto& f = s.fields();
  if (civil.second() != 0) std::abort();
  if (!f.months.test(static_cast<std::size_t>(civil.month()))) std::abort();
  if (!utc) return;  // DST: a skipped time runs at the change
  // In UTC every field matches, and no minute in between does.
  if (!s.matches(civil)) std::abort();
  for (auto m = cctz::civil_minute(cctz::convert(start, zone)) + 1;
       m < cctz::civil_minute(civil) && m - cctz::civil_minute(cctz::convert(start, zone)) < 3000;
       ++m) {
    if (s.matches(cctz::civil_second(m))) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const SystemTime start(std::chrono::seconds(1'774'000'000));  // March 2026, before DST
  for (const char* name : {"UTC", "Europe/Paris"}) {
    try {
      const CronSchedule s(text, name);
      cctz::time_zone zone;
      cctz::load_time_zone(name, &zone);
      check(s, zone, start, std::string_view(name) == "UTC");
    } catch (const CronError& e) {
      const std::string_view what = e.what();
      if (!what.starts_with("cron: ")) std::abort();
    }
  }
  return 0;
}
