#include "sqlite/sqlite_values.hpp"

#include <string_view>

namespace outpost::connectors::sqlite {

std::string text(sqlite3_stmt* stmt, int col) {
  const auto* p = sqlite3_column_text(stmt, col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)))
                      : std::string();
}

const char* storage_class(int type) noexcept {
  switch (type) {
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "REAL";
    case SQLITE_TEXT: return "TEXT";
    case SQLITE_BLOB: return "BLOB";
    default: return "";
  }
}

// The value of `col`, its size checked against what the row may still take
// before SQLite converts it or materialises it (a zeroblob() is only a
// length until sqlite3_column_blob): too large, it is never fetched.
void write_value(RowWriter& row, sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: row.integer(sqlite3_column_int64(stmt, col)); break;
    case SQLITE_FLOAT: row.number(sqlite3_column_double(stmt, col)); break;
    case SQLITE_TEXT: {
      // A TEXT value's UTF-8 byte count needs no conversion to learn.
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, col));
      if (!row.fits(n + 2)) {
        row.value_too_large();
        break;
      }
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      row.string(std::string_view(p != nullptr ? p : "", n));
      break;
    }
    case SQLITE_BLOB: {
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, col));
      if (!row.fits((n + 2) / 3 * 4 + 2)) {
        row.value_too_large();
        break;
      }
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      row.binary(std::string_view(p != nullptr ? p : "", n));
      break;
    }
    default: row.null_value(); break;
  }
}

}  // namespace outpost::connectors::sqlite
