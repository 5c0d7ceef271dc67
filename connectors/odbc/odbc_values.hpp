#pragma once

#include <sql.h>
#include <sqlext.h>

#include <optional>
#include <string>
#include <vector>

#include "outpost/errors.hpp"
#include "outpost/result_sink.hpp"

namespace outpost::connectors::odbc {

/// How a result column is read with SQLGetData and written (protocol §7).
enum class FetchKind {
  kInteger,    ///< TINYINT..BIGINT: SQL_C_SBIGINT, number (string beyond 2^53)
  kUnsigned,   ///< unsigned integers: SQL_C_UBIGINT
  kDouble,     ///< REAL, FLOAT, DOUBLE: SQL_C_DOUBLE, NaN/±Inf as strings
  kDecimal,    ///< NUMERIC, DECIMAL: exact text, as a string
  kBit,        ///< BIT: boolean
  kDate,       ///< DATE: "YYYY-MM-DD"
  kTimestamp,  ///< TIMESTAMP: "YYYY-MM-DDTHH:MM:SS[.fffffffff]"
  kBinary,     ///< BINARY, VARBINARY, LONGVARBINARY: base64, read in chunks
  kText,       ///< everything else: UTF-16 from the driver, UTF-8 out, read in chunks
};

FetchKind fetch_kind(SQLSMALLINT sql_type, bool is_unsigned);

/// Result columns of an executed statement, with how to read each.
struct ResultShape {
  std::vector<Column> columns;
  std::vector<FetchKind> kinds;
};
ResultShape describe(SQLHSTMT stmt, SQLSMALLINT count);

/// Reads column `index` (1-based) of the current row and writes it. Long
/// values are read in 32 KiB chunks; one value may not exceed kMaxValueBytes.
/// nullopt on success.
std::optional<JobError> write_column(SQLHSTMT stmt, SQLUSMALLINT index, FetchKind kind,
                                     RowWriter& writer, std::string& scratch);

inline constexpr std::size_t kMaxValueBytes = 64U << 20;

/// Appends UTF-16 code units as UTF-8 (unpaired surrogates become U+FFFD).
/// `pending` carries a high surrogate that ended the previous chunk.
void append_utf8(std::string& out, const SQLWCHAR* units, std::size_t count, char32_t& pending);

}  // namespace outpost::connectors::odbc
