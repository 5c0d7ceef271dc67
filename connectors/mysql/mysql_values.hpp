#pragma once

#include <string>
#include <string_view>

#include "outpost/row_writer.hpp"

namespace outpost::connectors::mysql {

/// How one result column's text-protocol values become JSON (protocol v1 §7).
enum class ValueKind {
  kNull,         ///< the NULL type: always null
  kInteger,      ///< signed integers, YEAR: number (string beyond 2^53)
  kUnsigned,     ///< unsigned TINYINT..INT: number
  kUnsignedBig,  ///< BIGINT UNSIGNED: always a string, so the column has one JSON type
  kDecimal,      ///< DECIMAL: exact digits as a string
  kFloat,        ///< FLOAT/DOUBLE: number; NaN/±Infinity as strings
  kDate,         ///< DATE: "YYYY-MM-DD" as is
  kDateTime,     ///< DATETIME: "YYYY-MM-DDTHH:MM:SS[.ffffff]" (no zone: wall clock)
  kTimestamp,    ///< TIMESTAMP: as DATETIME plus "Z" (the session runs in UTC)
  kTime,         ///< TIME: "[-]HHH:MM:SS[.ffffff]" as is (may exceed 24 h)
  kBit,          ///< BIT(n): big-endian bytes as an unsigned integer
  kJson,         ///< JSON: the document itself, or a string if it does not parse
  kBinary,       ///< binary strings, BLOB, GEOMETRY: base64
  kText,         ///< everything else: text
};

/// The metadata of one result column that decides its mapping (a plain copy
/// of the MYSQL_FIELD members, so this header needs no Connector/C).
struct FieldInfo {
  int type = 0;                ///< enum_field_types
  unsigned int flags = 0;      ///< UNSIGNED_FLAG, ENUM_FLAG, SET_FLAG, …
  unsigned int charsetnr = 0;  ///< 63 = binary
  std::string_view format;     ///< MariaDB extended metadata, e.g. "json"
};

ValueKind value_kind(const FieldInfo& field);

/// The type name reported in `columns[].type`, e.g. "BIGINT UNSIGNED", "VARBINARY".
std::string type_name(const FieldInfo& field);

/// Writes one non-NULL value (the text protocol's bytes) with `writer`.
void write_value(RowWriter& writer, ValueKind kind, std::string_view text);

}  // namespace outpost::connectors::mysql
