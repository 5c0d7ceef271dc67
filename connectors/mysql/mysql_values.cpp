#include "mysql/mysql_values.hpp"

#include <mysql.h>

#include <charconv>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace outpost::connectors::mysql {
namespace {

constexpr unsigned int kBinaryCharset = 63;

bool is_string_type(int type) {
  switch (type) {
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB: return true;
    default: return false;
  }
}

bool is_integer_type(int type) {
  return type == MYSQL_TYPE_TINY || type == MYSQL_TYPE_SHORT || type == MYSQL_TYPE_INT24 ||
         type == MYSQL_TYPE_LONG || type == MYSQL_TYPE_LONGLONG;
}

// "2024-05-06 07:08:09.5" → "2024-05-06T07:08:09.5" (+ "Z" for TIMESTAMP).
// Zero dates ("0000-00-00 …", allowed by lax sql_modes) are not ISO 8601 and
// go out unchanged.
void write_datetime(RowWriter& writer, std::string_view text, bool utc) {
  if (text.size() < 19 || text[10] != ' ' || text.starts_with("0000-00-00")) {
    writer.string(text);
    return;
  }
  std::string iso(text);
  iso[10] = 'T';
  if (utc) iso.push_back('Z');
  writer.string(iso);
}

// A valid JSON document without the whitespace between tokens: one copy, no
// DOM (a parsed document takes several times its text).
std::string compact_json(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < text.size()) {
        out.push_back(text[++i]);
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
      out.push_back(c);
    } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace

ValueKind value_kind(const FieldInfo& field) {
  if (field.format == "json" || field.type == MYSQL_TYPE_JSON) return ValueKind::kJson;
  if (is_integer_type(field.type)) {
    if ((field.flags & UNSIGNED_FLAG) == 0) return ValueKind::kInteger;
    return field.type == MYSQL_TYPE_LONGLONG ? ValueKind::kUnsignedBig : ValueKind::kUnsigned;
  }
  switch (field.type) {
    case MYSQL_TYPE_NULL: return ValueKind::kNull;
    case MYSQL_TYPE_YEAR: return ValueKind::kInteger;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: return ValueKind::kDecimal;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE: return ValueKind::kFloat;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE: return ValueKind::kDate;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2: return ValueKind::kDateTime;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2: return ValueKind::kTimestamp;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2: return ValueKind::kTime;
    case MYSQL_TYPE_BIT: return ValueKind::kBit;
    case MYSQL_TYPE_GEOMETRY: return ValueKind::kBinary;
    default: break;
  }
  if (is_string_type(field.type) && field.charsetnr == kBinaryCharset &&
      (field.flags & (ENUM_FLAG | SET_FLAG)) == 0) {
    return ValueKind::kBinary;
  }
  return ValueKind::kText;
}

std::string type_name(const FieldInfo& field) {
  const bool binary = field.charsetnr == kBinaryCharset;
  std::string name;
  switch (field.type) {
    case MYSQL_TYPE_TINY: name = "TINYINT"; break;
    case MYSQL_TYPE_SHORT: name = "SMALLINT"; break;
    case MYSQL_TYPE_INT24: name = "MEDIUMINT"; break;
    case MYSQL_TYPE_LONG: name = "INT"; break;
    case MYSQL_TYPE_LONGLONG: name = "BIGINT"; break;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: name = "DECIMAL"; break;
    case MYSQL_TYPE_FLOAT: name = "FLOAT"; break;
    case MYSQL_TYPE_DOUBLE: name = "DOUBLE"; break;
    case MYSQL_TYPE_NULL: name = "NULL"; break;
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIMESTAMP2: name = "TIMESTAMP"; break;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_NEWDATE: name = "DATE"; break;
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_TIME2: name = "TIME"; break;
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_DATETIME2: name = "DATETIME"; break;
    case MYSQL_TYPE_YEAR: name = "YEAR"; break;
    case MYSQL_TYPE_BIT: name = "BIT"; break;
    case MYSQL_TYPE_JSON: name = "JSON"; break;
    case MYSQL_TYPE_ENUM: name = "ENUM"; break;
    case MYSQL_TYPE_SET: name = "SET"; break;
    case MYSQL_TYPE_GEOMETRY: name = "GEOMETRY"; break;
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING: name = binary ? "VARBINARY" : "VARCHAR"; break;
    case MYSQL_TYPE_STRING:
      if ((field.flags & ENUM_FLAG) != 0) {
        name = "ENUM";
      } else if ((field.flags & SET_FLAG) != 0) {
        name = "SET";
      } else {
        name = binary ? "BINARY" : "CHAR";
      }
      break;
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB: name = binary ? "BLOB" : "TEXT"; break;
    default: name = "UNKNOWN(" + std::to_string(field.type) + ")"; break;
  }
  if (field.format == "json") name = "JSON";
  if (is_integer_type(field.type) && (field.flags & UNSIGNED_FLAG) != 0) name += " UNSIGNED";
  return name;
}

namespace {

// The number the text holds exactly, or nothing (then it goes out as text).
template <typename T>
std::optional<T> parsed(std::string_view text) {
  T value{};
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(text.data(), last, value);
  if (ec != std::errc{} || end != last) return std::nullopt;
  return value;
}

void write_json(RowWriter& writer, std::string_view text) {
  // The column may hold text that is not JSON (MariaDB's JSON is LONGTEXT
  // with an optional CHECK); only a valid document goes out raw.
  if (!nlohmann::json::accept(text)) {
    writer.string(text);
  } else if (text.find_first_of("\r\n") != std::string_view::npos) {
    // A pretty-printed document would break the one-row-per-line parts.
    writer.raw_json(compact_json(text));
  } else {
    writer.raw_json(text);
  }
}

}  // namespace

void write_value(RowWriter& writer, ValueKind kind, std::string_view text) {
  if (!writer.fits(text.size())) {
    // Past the row's byte budget: refused before any conversion (a value's
    // JSON text is about as long as its bytes, or longer); the writer records
    // it and the sink drops the row.
    writer.string(text);
    return;
  }
  switch (kind) {
    case ValueKind::kNull: writer.null_value(); return;
    case ValueKind::kInteger:
      if (auto v = parsed<std::int64_t>(text)) return writer.integer(*v);
      return writer.string(text);
    case ValueKind::kUnsigned:
      if (auto v = parsed<std::uint64_t>(text)) return writer.unsigned_integer(*v);
      return writer.string(text);
    case ValueKind::kUnsignedBig:
    case ValueKind::kDecimal: writer.decimal(text); return;
    case ValueKind::kFloat:
      if (auto v = parsed<double>(text)) return writer.number(*v);
      return writer.string(text);
    case ValueKind::kDate:
    case ValueKind::kTime:
    case ValueKind::kText: writer.string(text); return;
    case ValueKind::kDateTime: write_datetime(writer, text, false); return;
    case ValueKind::kTimestamp: write_datetime(writer, text, true); return;
    case ValueKind::kBit: {
      // The text protocol sends BIT(n) as ceil(n/8) raw big-endian bytes.
      std::uint64_t value = 0;
      for (const char c : text) value = (value << 8) | static_cast<unsigned char>(c);
      writer.unsigned_integer(value);
      return;
    }
    case ValueKind::kJson: write_json(writer, text); return;
    case ValueKind::kBinary: writer.binary(text); return;
  }
}

}  // namespace outpost::connectors::mysql
