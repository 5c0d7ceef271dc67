#include "outpost/row_writer.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace outpost {
namespace {

std::string row(void (*fill)(RowWriter&)) {
  std::string out;
  RowWriter w(out);
  w.open();
  fill(w);
  w.close();
  return out;
}

TEST(RowWriter, MapsScalarsPerProtocol) {
  const auto text = row([](RowWriter& w) {
    w.null_value();
    w.boolean(true);
    w.integer(42);
    w.integer(std::int64_t{1} << 60);
    w.unsigned_integer(18446744073709551615ull);
    w.number(1.5);
    w.decimal("12345678901234567890.5");
  });
  EXPECT_EQ(
      text,
      R"([null,true,42,"1152921504606846976","18446744073709551615",1.5,"12345678901234567890.5"])");
  EXPECT_TRUE(nlohmann::json::accept(text));
}

TEST(RowWriter, KeepsLargestSafeIntegerAsNumber) {
  const auto text = row([](RowWriter& w) {
    w.integer((std::int64_t{1} << 53) - 1);
    w.integer(-((std::int64_t{1} << 53) - 1));
    w.integer(std::int64_t{1} << 53);
  });
  EXPECT_EQ(text, R"([9007199254740991,-9007199254740991,"9007199254740992"])");
}

TEST(RowWriter, NonFiniteFloatsBecomeStrings) {
  const auto text = row([](RowWriter& w) {
    w.number(std::numeric_limits<double>::quiet_NaN());
    w.number(std::numeric_limits<double>::infinity());
    w.number(-std::numeric_limits<double>::infinity());
  });
  EXPECT_EQ(text, R"(["NaN","Infinity","-Infinity"])");
}

TEST(RowWriter, EscapesStringsAndReplacesInvalidUtf8) {
  const auto text = row([](RowWriter& w) {
    w.string("a\"b\\c\nd\te\x01");
    w.string("caf\xC3\xA9 \xE2\x82\xAC");
    w.string("bad\xFF\xC3");
  });
  const auto parsed = nlohmann::json::parse(text);
  EXPECT_EQ(parsed[0], "a\"b\\c\nd\te\x01");
  EXPECT_EQ(parsed[1], "caf\xC3\xA9 \xE2\x82\xAC");
  EXPECT_EQ(parsed[2], "bad\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(RowWriter, Base64EncodesBinary) {
  const auto text = row([](RowWriter& w) {
    w.binary("");
    w.binary("f");
    w.binary("fo");
    w.binary("foo");
    w.binary(std::string_view("\x00\xFF\x10", 3));
  });
  EXPECT_EQ(text, R"(["","Zg==","Zm8=","Zm9v","AP8Q"])");
}

TEST(RowWriter, RawJsonIsEmbeddedAsIs) {
  const auto text = row([](RowWriter& w) { w.raw_json(R"({"a":[1,2]})"); });
  EXPECT_EQ(nlohmann::json::parse(text)[0]["a"][1], 2);
}

}  // namespace
}  // namespace outpost
