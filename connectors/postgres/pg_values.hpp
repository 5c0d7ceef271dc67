#pragma once

#include <libpq-fe.h>

#include <optional>
#include <string>
#include <string_view>

#include "outpost/row_writer.hpp"

namespace outpost::connectors::postgres {

/// How a column's text-format values are written (protocol v1 §7).
enum class ValueKind {
  kText,      ///< text, varchar, char, name, interval, arrays, enums, …: the text form
  kBool,      ///< "t"/"f" → true/false
  kInteger,   ///< int2/4/8, oid: numbers, wider than 2^53 as strings
  kFloat,     ///< float4/8: numbers; NaN/±Infinity as strings
  kNumeric,   ///< numeric: its exact text as a string
  kBytea,     ///< PostgreSQL hex output decoded, written as base64
  kDateTime,  ///< date, time, timetz, timestamp, timestamptz → ISO 8601
  kJson,      ///< json/jsonb: the value itself, on one line
};

/// The built-in type with this OID: its short name ("int8", "timestamptz",
/// "int4[]" for arrays) and value kind; nullopt for other OIDs (user types,
/// enums, domains, extension types), whose name the caller looks up.
struct BuiltinType {
  std::string_view name;
  ValueKind kind;
};
std::optional<BuiltinType> builtin_type(Oid oid) noexcept;

/// The fewest bytes of JSON a value of `kind` with `text_bytes` bytes of
/// text form can take (what RowWriter::fits is asked before converting).
std::size_t min_json_bytes(ValueKind kind, std::size_t text_bytes) noexcept;

/// Writes one non-NULL text-format value. Falls back to the text form when a
/// value is not what its kind promises (never drops or corrupts data). A
/// value that cannot fit the row's byte limit (RowWriter::fits) is refused
/// before any conversion copy: the writer records null and over_limit().
void write_value(RowWriter& row, ValueKind kind, std::string_view text);

}  // namespace outpost::connectors::postgres
