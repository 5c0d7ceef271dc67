#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/row_writer.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {

/// Decodes one field of COPY's text format (PostgreSQL 15 documentation,
/// COPY, "Text Format"): \b \f \n \r \t \v, \\, \digits (octal, 1-3),
/// \xhex (1-2), and a backslash before any other character stands for that
/// character. Writes the value into `out` (cleared first).
void copy_text_unescape(std::string_view field, std::string& out);

/// How one COPY text row went: whether it had exactly one field per column,
/// and the bytes of its values' text (what libpq held for it).
struct CopyRowParse {
  bool complete = false;
  std::size_t text_bytes = 0;
};

/// Writes one row of `COPY … TO STDOUT` text output (one CopyData message,
/// its newline included or not) into `row`: fields split at tabs, `\N` as
/// NULL, escapes decoded, each value through write_value() with its
/// column's kind, so the JSON is the same as from the row-by-row path.
/// `scratch` holds a decoded field (reused across rows, no allocation for
/// fields without a backslash).
CopyRowParse write_copy_row(RowWriter& row, const std::vector<ValueKind>& kinds,
                            std::string_view line, std::string& scratch);

}  // namespace outpost::connectors::postgres
