#pragma once

// Private to the SQLite connector: how a column value becomes a JSON value
// (protocol v1 §7.3), by its storage class.

#include <sqlite3.h>

#include <string>

#include "outpost/row_writer.hpp"

namespace outpost::connectors::sqlite {

/// A column's text (empty for NULL).
std::string text(sqlite3_stmt* stmt, int col);

/// The storage class's name ("INTEGER", "REAL", "TEXT", "BLOB"; "" for NULL).
const char* storage_class(int type) noexcept;

/// Writes the value of `col`: INTEGER as a number, REAL as a number, TEXT as
/// a string, BLOB as base64, NULL as null. Its size is checked against what
/// the row may still take before SQLite converts or materialises it.
void write_value(RowWriter& row, sqlite3_stmt* stmt, int col);

}  // namespace outpost::connectors::sqlite
