#include "postgres/pg_values.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/text_format.hpp"

namespace outpost::connectors::postgres {
namespace {

struct Entry {
  Oid oid;
  BuiltinType type;
};

// OIDs from pg_type.dat; they are fixed across PostgreSQL versions.
constexpr std::array<Entry, 52> kBuiltins{{
    {16, {"bool", ValueKind::kBool}},
    {17, {"bytea", ValueKind::kBytea}},
    {18, {"char", ValueKind::kText}},
    {19, {"name", ValueKind::kText}},
    {20, {"int8", ValueKind::kInteger}},
    {21, {"int2", ValueKind::kInteger}},
    {23, {"int4", ValueKind::kInteger}},
    {24, {"regproc", ValueKind::kText}},
    {25, {"text", ValueKind::kText}},
    {26, {"oid", ValueKind::kInteger}},
    {28, {"xid", ValueKind::kInteger}},
    {114, {"json", ValueKind::kJson}},
    {142, {"xml", ValueKind::kText}},
    {650, {"cidr", ValueKind::kText}},
    {700, {"float4", ValueKind::kFloat}},
    {701, {"float8", ValueKind::kFloat}},
    {705, {"unknown", ValueKind::kText}},
    {790, {"money", ValueKind::kText}},
    {829, {"macaddr", ValueKind::kText}},
    {869, {"inet", ValueKind::kText}},
    {1000, {"bool[]", ValueKind::kText}},
    {1001, {"bytea[]", ValueKind::kText}},
    {1005, {"int2[]", ValueKind::kText}},
    {1007, {"int4[]", ValueKind::kText}},
    {1009, {"text[]", ValueKind::kText}},
    {1014, {"bpchar[]", ValueKind::kText}},
    {1015, {"varchar[]", ValueKind::kText}},
    {1016, {"int8[]", ValueKind::kText}},
    {1021, {"float4[]", ValueKind::kText}},
    {1022, {"float8[]", ValueKind::kText}},
    {1042, {"bpchar", ValueKind::kText}},
    {1043, {"varchar", ValueKind::kText}},
    {1082, {"date", ValueKind::kDateTime}},
    {1083, {"time", ValueKind::kDateTime}},
    {1114, {"timestamp", ValueKind::kDateTime}},
    {1115, {"timestamp[]", ValueKind::kText}},
    {1182, {"date[]", ValueKind::kText}},
    {1184, {"timestamptz", ValueKind::kDateTime}},
    {1185, {"timestamptz[]", ValueKind::kText}},
    {1186, {"interval", ValueKind::kText}},
    {1231, {"numeric[]", ValueKind::kText}},
    {1266, {"timetz", ValueKind::kDateTime}},
    {1560, {"bit", ValueKind::kText}},
    {1562, {"varbit", ValueKind::kText}},
    {1700, {"numeric", ValueKind::kNumeric}},
    {2205, {"regclass", ValueKind::kText}},
    {2206, {"regtype", ValueKind::kText}},
    {2950, {"uuid", ValueKind::kText}},
    {2951, {"uuid[]", ValueKind::kText}},
    {3802, {"jsonb", ValueKind::kJson}},
    {199, {"json[]", ValueKind::kText}},
    {3807, {"jsonb[]", ValueKind::kText}},
}};

}  // namespace

std::optional<BuiltinType> builtin_type(Oid oid) noexcept {
  for (const auto& e : kBuiltins) {
    if (e.oid == oid) return e.type;
  }
  return std::nullopt;
}

std::size_t min_json_bytes(ValueKind kind, std::size_t text_bytes) noexcept {
  // bytea arrives as "\\x" + 2 hex digits per byte and leaves as base64
  // (4 characters per 3 bytes): about 2/3 of its text. Every other kind
  // takes at least its text.
  if (kind == ValueKind::kBytea) return text_bytes / 3;
  return text_bytes;
}

void write_value(RowWriter& row, ValueKind kind, std::string_view text) {
  // Refuse before converting: hex decoding, JSON re-formatting or date
  // rewriting would each copy a value that can never be sent. string()
  // writes the refusal (null + over_limit) without copying either.
  if (!row.fits(min_json_bytes(kind, text.size()))) return row.string(text);
  switch (kind) {
    case ValueKind::kBool:
      if (text == "t" || text == "f") return row.boolean(text == "t");
      break;
    case ValueKind::kInteger: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc{} && end == text.data() + text.size()) return row.integer(v);
      std::uint64_t u = 0;  // xid and oid are unsigned
      auto [uend, uec] = std::from_chars(text.data(), text.data() + text.size(), u);
      if (uec == std::errc{} && uend == text.data() + text.size()) return row.unsigned_integer(u);
      break;
    }
    case ValueKind::kFloat: {
      if (text == "NaN") return row.number(std::numeric_limits<double>::quiet_NaN());
      if (text == "Infinity") return row.number(std::numeric_limits<double>::infinity());
      if (text == "-Infinity") return row.number(-std::numeric_limits<double>::infinity());
      double v = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc{} && end == text.data() + text.size()) return row.number(v);
      break;
    }
    case ValueKind::kNumeric: return row.decimal(text);
    case ValueKind::kBytea: {
      std::string bytes;
      if (text.size() >= 2 && text[0] == '\\' && text[1] == 'x' &&
          common::hex_decode(text.substr(2), bytes)) {
        return row.binary(bytes);
      }
      break;
    }
    case ValueKind::kDateTime: return row.string(common::sql_datetime_to_iso8601(text));
    case ValueKind::kJson: return row.raw_json(common::json_single_line(text));
    case ValueKind::kText: break;
  }
  row.string(text);
}

}  // namespace outpost::connectors::postgres
