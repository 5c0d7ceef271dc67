#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace outpost::connectors::common {

/// RFC 3339 / ISO 8601 UTC with milliseconds: "2026-11-22T10:00:00.123Z".
std::string format_iso8601_utc(std::chrono::system_clock::time_point when);

/// Rewrites a database's ISO-style date/time text into ISO 8601, as §7 asks:
///   "2024-01-02 03:04:05.5"      -> "2024-01-02T03:04:05.5"
///   "2024-01-02 03:04:05+02"     -> "2024-01-02T03:04:05+02:00"
///   "2024-01-02 03:04:05-03:30"  -> unchanged but for the 'T'
///   "0044-03-15 BC"              -> "-0043-03-15" (ISO years are astronomical)
///   "13:14:15+02"                -> "13:14:15+02:00" (time with zone)
/// Text it does not recognise ("infinity", "0000-00-00 …") is returned as is.
std::string sql_datetime_to_iso8601(std::string_view text);

/// Decodes hex digits (either case) into bytes; false on an odd length or a
/// non-hex character (`out` is then unspecified).
bool hex_decode(std::string_view hex, std::string& out);

/// Makes a valid JSON text fit on one NDJSON line: a raw CR or LF can only be
/// whitespace between tokens in valid JSON (inside strings they are escaped),
/// so each becomes a space.
std::string json_single_line(std::string_view json);

/// Whole milliseconds since `start` (steady clock).
std::int64_t elapsed_ms(std::chrono::steady_clock::time_point start);

/// Milliseconds left until `deadline`, never negative.
std::int64_t remaining_ms(std::chrono::steady_clock::time_point deadline);

}  // namespace outpost::connectors::common
