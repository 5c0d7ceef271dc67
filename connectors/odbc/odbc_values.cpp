#include "odbc/odbc_values.hpp"

#include <array>
#include <cstdio>

#include "odbc/odbc_handles.hpp"

namespace outpost::connectors::odbc {
namespace {

constexpr std::size_t kChunk = 32 * 1024;

bool ok(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

void put_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

JobError fetch_error(SQLHSTMT stmt) {
  return classify(diagnose(SQL_HANDLE_STMT, stmt), false);
}

JobError too_large(SQLUSMALLINT index) {
  return JobError{ErrorCode::kResultTooLarge,
                  "column " + std::to_string(index) + " holds a value over " +
                      std::to_string(kMaxValueBytes >> 20) + " MiB",
                  false};
}

// Reads a long value piece by piece. `is_null` set for SQL NULL. Stops as
// soon as the value no longer fits the row's byte budget (`writer.fits`):
// `out` then holds a prefix that does not fit either, so the writer refuses
// it (null, over_limit) and at most one chunk past the budget was copied.
std::optional<JobError> read_chunked(SQLHSTMT stmt, SQLUSMALLINT index, bool wide, std::string& out,
                                     bool& is_null, const RowWriter& writer) {
  out.clear();
  is_null = false;
  std::array<char, kChunk> buffer;
  char32_t pending = 0;
  const SQLSMALLINT c_type = wide ? SQL_C_WCHAR : SQL_C_BINARY;
  const std::size_t terminator = wide ? sizeof(SQLWCHAR) : 0;
  for (;;) {
    SQLLEN indicator = 0;
    const auto rc = SQLGetData(stmt, index, c_type, buffer.data(), buffer.size(), &indicator);
    if (rc == SQL_NO_DATA) break;
    if (!ok(rc)) return fetch_error(stmt);
    if (indicator == SQL_NULL_DATA) {
      is_null = true;
      return std::nullopt;
    }
    // A full buffer (more to come) or the final piece of `indicator` bytes.
    const bool more = rc == SQL_SUCCESS_WITH_INFO &&
                      (indicator == SQL_NO_TOTAL ||
                       static_cast<std::size_t>(indicator) > buffer.size() - terminator);
    const std::size_t bytes =
        more ? buffer.size() - terminator : static_cast<std::size_t>(indicator);
    if (wide) {
      append_utf8(out, reinterpret_cast<const SQLWCHAR*>(buffer.data()), bytes / sizeof(SQLWCHAR),
                  pending);
    } else {
      out.append(buffer.data(), bytes);
    }
    if (out.size() > kMaxValueBytes) return too_large(index);
    if (!more) break;
    if (!writer.fits(out.size() + 2)) {
      pending = 0;
      break;
    }
  }
  if (pending != 0) put_utf8(out, 0xFFFD);
  return std::nullopt;
}

}  // namespace

void append_utf8(std::string& out, const SQLWCHAR* units, std::size_t count, char32_t& pending) {
  for (std::size_t i = 0; i < count; ++i) {
    const char32_t u = units[i];
    if (pending != 0) {
      if (u >= 0xDC00 && u <= 0xDFFF) {
        put_utf8(out, 0x10000 + ((pending - 0xD800) << 10) + (u - 0xDC00));
        pending = 0;
        continue;
      }
      put_utf8(out, 0xFFFD);
      pending = 0;
    }
    if (u >= 0xD800 && u <= 0xDBFF) {
      pending = u;
    } else if (u >= 0xDC00 && u <= 0xDFFF) {
      put_utf8(out, 0xFFFD);
    } else {
      put_utf8(out, u);
    }
  }
}

FetchKind fetch_kind(SQLSMALLINT sql_type, bool is_unsigned) {
  switch (sql_type) {
    case SQL_TINYINT:
    case SQL_SMALLINT:
    case SQL_INTEGER:
    case SQL_BIGINT: return is_unsigned ? FetchKind::kUnsigned : FetchKind::kInteger;
    case SQL_REAL:
    case SQL_FLOAT:
    case SQL_DOUBLE: return FetchKind::kDouble;
    case SQL_NUMERIC:
    case SQL_DECIMAL: return FetchKind::kDecimal;
    case SQL_BIT: return FetchKind::kBit;
    case SQL_TYPE_DATE:
    case SQL_DATE: return FetchKind::kDate;
    case SQL_TYPE_TIMESTAMP:
    case SQL_TIMESTAMP: return FetchKind::kTimestamp;
    case SQL_BINARY:
    case SQL_VARBINARY:
    case SQL_LONGVARBINARY: return FetchKind::kBinary;
    default: return FetchKind::kText;
  }
}

ResultShape describe(SQLHSTMT stmt, SQLSMALLINT count) {
  ResultShape shape;
  for (SQLUSMALLINT i = 1; i <= static_cast<SQLUSMALLINT>(count); ++i) {
    SQLCHAR name[512] = {};
    SQLSMALLINT name_length = 0;
    SQLSMALLINT type = 0;
    SQLULEN size = 0;
    SQLSMALLINT digits = 0;
    SQLSMALLINT nullable = 0;
    SQLDescribeCol(stmt, i, name, sizeof name, &name_length, &type, &size, &digits, &nullable);
    SQLCHAR type_name[128] = {};
    SQLSMALLINT type_length = 0;
    SQLColAttribute(stmt, i, SQL_DESC_TYPE_NAME, type_name, sizeof type_name, &type_length,
                    nullptr);
    SQLLEN is_unsigned = SQL_FALSE;
    SQLColAttribute(stmt, i, SQL_DESC_UNSIGNED, nullptr, 0, nullptr, &is_unsigned);
    shape.columns.push_back(
        Column{reinterpret_cast<const char*>(name), reinterpret_cast<const char*>(type_name)});
    shape.kinds.push_back(fetch_kind(type, is_unsigned == SQL_TRUE));
  }
  return shape;
}

std::optional<JobError> write_column(SQLHSTMT stmt, SQLUSMALLINT index, FetchKind kind,
                                     RowWriter& writer, std::string& scratch) {
  SQLLEN indicator = 0;
  auto get = [&](SQLSMALLINT c_type, void* target, SQLLEN size) {
    return SQLGetData(stmt, index, c_type, target, size, &indicator);
  };
  switch (kind) {
    case FetchKind::kInteger: {
      SQLBIGINT v = 0;
      if (!ok(get(SQL_C_SBIGINT, &v, sizeof v))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      writer.integer(v);
      return std::nullopt;
    }
    case FetchKind::kUnsigned: {
      SQLUBIGINT v = 0;
      if (!ok(get(SQL_C_UBIGINT, &v, sizeof v))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      writer.unsigned_integer(v);
      return std::nullopt;
    }
    case FetchKind::kDouble: {
      double v = 0;
      if (!ok(get(SQL_C_DOUBLE, &v, sizeof v))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      writer.number(v);
      return std::nullopt;
    }
    case FetchKind::kBit: {
      unsigned char v = 0;
      if (!ok(get(SQL_C_BIT, &v, sizeof v))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      writer.boolean(v != 0);
      return std::nullopt;
    }
    case FetchKind::kDecimal: {
      char text[128] = {};
      if (!ok(get(SQL_C_CHAR, text, sizeof text))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      writer.decimal(text);
      return std::nullopt;
    }
    case FetchKind::kDate: {
      SQL_DATE_STRUCT d{};
      if (!ok(get(SQL_C_TYPE_DATE, &d, sizeof d))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      char text[32];
      std::snprintf(text, sizeof text, "%04d-%02u-%02u", d.year, d.month, d.day);
      writer.string(text);
      return std::nullopt;
    }
    case FetchKind::kTimestamp: {
      SQL_TIMESTAMP_STRUCT t{};
      if (!ok(get(SQL_C_TYPE_TIMESTAMP, &t, sizeof t))) return fetch_error(stmt);
      if (indicator == SQL_NULL_DATA) break;
      char text[48];
      int n = std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02u:%02u:%02u", t.year, t.month,
                            t.day, t.hour, t.minute, t.second);
      if (t.fraction != 0) {
        // fraction is in nanoseconds; trailing zeros dropped.
        char frac[16];
        std::snprintf(frac, sizeof frac, ".%09u", static_cast<unsigned>(t.fraction));
        std::string f(frac);
        while (f.back() == '0') f.pop_back();
        std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "%s", f.c_str());
      }
      writer.string(text);
      return std::nullopt;
    }
    case FetchKind::kBinary:
    case FetchKind::kText: {
      bool is_null = false;
      if (auto error =
              read_chunked(stmt, index, kind == FetchKind::kText, scratch, is_null, writer)) {
        return error;
      }
      if (is_null) break;
      if (kind == FetchKind::kBinary) {
        writer.binary(scratch);
      } else {
        writer.string(scratch);
      }
      return std::nullopt;
    }
  }
  writer.null_value();
  return std::nullopt;
}

}  // namespace outpost::connectors::odbc
