// PostgreSQL connector: the parser of COPY's text format (pg_copy_text.cpp).
// Each row is checked against the JSON that write_value() gives the same
// values one by one, which is what the row-by-row path writes. No server.
#include "postgres/pg_copy_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outpost::connectors::postgres {
namespace {

std::string unescape(std::string_view field) {
  std::string out = "stale";
  copy_text_unescape(field, out);
  return out;
}

struct Parsed {
  std::string json;
  CopyRowParse parse;
};

Parsed parse_row(const std::vector<ValueKind>& kinds, std::string_view line) {
  Parsed p;
  std::string scratch;
  RowWriter row(p.json);
  row.open();
  p.parse = write_copy_row(row, kinds, line, scratch);
  row.close();
  return p;
}

// The row as the row-by-row path writes it: each value (nullptr = NULL)
// through write_value with its kind.
std::string expected_row(const std::vector<ValueKind>& kinds,
                         const std::vector<const char*>& values) {
  std::string out;
  RowWriter row(out);
  row.open();
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] == nullptr) {
      row.null_value();
    } else {
      write_value(row, kinds[i], values[i]);
    }
  }
  row.close();
  return out;
}

TEST(PostgresCopyText, DecodesEveryEscape) {
  EXPECT_EQ(unescape("plain"), "plain");
  EXPECT_EQ(unescape(""), "");
  EXPECT_EQ(unescape(R"(a\tb\nc\rd\\e)"), "a\tb\nc\rd\\e");
  EXPECT_EQ(unescape(R"(\b\f\v)"), "\b\f\v");
  EXPECT_EQ(unescape(R"(\101\60x\7)"), "A0x\x07");    // octal, 1 to 3 digits
  EXPECT_EQ(unescape(R"(\x41\x4g\xz)"), "A\x04gxz");  // hex, 1 or 2 digits; \x alone is x
  EXPECT_EQ(unescape(R"(\.\N\q)"), ".Nq");            // any other character stands for itself
  EXPECT_EQ(unescape("tail\\"), "tail\\");            // a lone trailing backslash stays
  EXPECT_EQ(unescape("h\xC3\xA9llo \\\\ \xE2\x82\xAC"), "h\xC3\xA9llo \\ \xE2\x82\xAC");
}

TEST(PostgresCopyText, RowsMatchTheRowByRowJson) {
  const std::vector<ValueKind> kinds{ValueKind::kInteger,  ValueKind::kText, ValueKind::kNumeric,
                                     ValueKind::kDateTime, ValueKind::kBool, ValueKind::kFloat,
                                     ValueKind::kBytea,    ValueKind::kJson};
  const auto p = parse_row(kinds,
                           "42\tsay \\\"hi\\\"\\tthere\\nnext\t12.50\t2026-01-01 00:00:01+00\tt\t"
                           "-Infinity\t\\\\x00ff10\t{\"a\": \"b\\\\tc\"}\n");
  EXPECT_TRUE(p.parse.complete);
  EXPECT_EQ(p.json,
            expected_row(kinds, {"42", "say \"hi\"\tthere\nnext", "12.50", "2026-01-01 00:00:01+00",
                                 "t", "-Infinity", "\\x00ff10", "{\"a\": \"b\\tc\"}"}));
  EXPECT_TRUE(p.json.starts_with(
      R"([42,"say \"hi\"\tthere\nnext","12.50","2026-01-01T00:00:01+00:00",true,"-Infinity",)"
      R"("AP8Q",)"))
      << p.json;
}

TEST(PostgresCopyText, NullIsOnlyTheBareMarker) {
  const std::vector<ValueKind> kinds(4, ValueKind::kText);
  // \N is NULL; "\\N" (an escaped backslash, then N) is the text \N; an
  // empty field is the empty string.
  const auto p = parse_row(kinds, "\\N\t\\\\N\t\t\\N");
  EXPECT_TRUE(p.parse.complete);
  EXPECT_EQ(p.json, R"([null,"\\N","",null])");
  EXPECT_EQ(p.parse.text_bytes, 3u);  // the NULLs hold no text
}

TEST(PostgresCopyText, UnicodeAndControlCharactersStayExact) {
  const std::vector<ValueKind> kinds{ValueKind::kText, ValueKind::kText};
  const auto p = parse_row(kinds, "\xC3\xA9 \xF0\x9F\x98\x80 \\x01\\r\t\xE2\x82\xAC\x7f");
  EXPECT_TRUE(p.parse.complete);
  EXPECT_EQ(p.json, expected_row(kinds, {"\xC3\xA9 \xF0\x9F\x98\x80 \x01\r", "\xE2\x82\xAC\x7f"}));
}

TEST(PostgresCopyText, AWrongFieldCountIsReported) {
  const std::vector<ValueKind> kinds{ValueKind::kInteger, ValueKind::kInteger};
  EXPECT_FALSE(parse_row(kinds, "1").parse.complete);
  EXPECT_FALSE(parse_row(kinds, "1\t2\t3").parse.complete);
  EXPECT_TRUE(parse_row(kinds, "1\t2\n").parse.complete);
  // One column: an empty line is one empty value.
  const auto one = parse_row({ValueKind::kText}, "\n");
  EXPECT_TRUE(one.parse.complete);
  EXPECT_EQ(one.json, R"([""])");
}

TEST(PostgresCopyText, AnEscapedFieldOverTheRowLimitIsRefused) {
  const std::vector<ValueKind> kinds{ValueKind::kText};
  std::string json;
  std::string scratch;
  RowWriter row(json);
  row.open(16);
  const auto parse = write_copy_row(row, kinds, std::string(64, 'a') + "\\t", scratch);
  EXPECT_TRUE(parse.complete);
  EXPECT_TRUE(row.over_limit());
  EXPECT_TRUE(scratch.empty());  // refused before decoding
}

}  // namespace
}  // namespace outpost::connectors::postgres
