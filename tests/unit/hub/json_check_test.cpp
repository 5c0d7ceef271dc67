#include "json_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

namespace outpost::hub {
namespace {

// Each case is also checked against nlohmann::json::accept, which the hub
// used before: the two must agree (tests/fuzz/json_check_fuzz.cpp does the
// same on generated input).
void expect(const std::string& text, bool valid) {
  EXPECT_EQ(is_json(text), valid) << text;
  EXPECT_EQ(nlohmann::json::accept(text), valid) << "nlohmann disagrees on " << text;
}

TEST(JsonCheck, AcceptsValues) {
  for (const char* text : {"0",
                           "-0",
                           "1.5",
                           "-12.5e+3",
                           "1E-7",
                           "1e-400",
                           "123456789012345678901234567890",
                           "true",
                           "false",
                           "null",
                           "\"\"",
                           "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
                           "\"\\u00e9\\ud83d\\ude00\"",
                           "\"\\u0000\"",
                           "[]",
                           "{}",
                           " [ 1 , [ ] , { } ] ",
                           "{\"a\":{\"b\":[1,2,{\"c\":null}]}}",
                           "[1,\"x\",true,false,null,-2.5e-3]",
                           "\t\r\n[1]\n",
                           "\"h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""}) {
    expect(text, true);
  }
}

TEST(JsonCheck, RejectsMalformed) {
  for (const char* text : {"",
                           " ",
                           "[",
                           "]",
                           "[1,]",
                           "[,1]",
                           "{\"a\"}",
                           "{\"a\":}",
                           "{\"a\":1,}",
                           "{1:2}",
                           "{\"a\" 1}",
                           "01",
                           "-",
                           "1.",
                           ".5",
                           "+1",
                           "1e",
                           "1e+",
                           "0x1",
                           "tru",
                           "nul",
                           "truex",
                           "[1 2]",
                           "1 2",
                           "\"abc",
                           "\"a\\x\"",
                           "\"\\u12\"",
                           "\"\\u12G4\"",
                           "\"tab\there\"",
                           "'a'",
                           "NaN",
                           "[1]]",
                           "{\"a\":1}}",
                           "\"\\ud83d\"",
                           "\"\\ude00\"",
                           "\"\\ud83d\\u0041\"",
                           "/* c */ 1",
                           "1e400",
                           "-5e77777777777777777777",
                           "[1E309]"}) {
    expect(text, false);
  }
}

TEST(JsonCheck, RejectsInvalidUtf8) {
  for (const char* text :
       {"\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xff\"",
        "\"\xc3\"", "\"\xe2\x82\"", "\"\x80\"", "\"\xf8\x88\x80\x80\x80\""}) {
    expect(text, false);
  }
}

TEST(JsonCheck, NestingIsBoundedWithoutRecursion) {
  const std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_TRUE(is_json(ok));
  const std::string deep =
      std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_FALSE(is_json(deep));
  EXPECT_FALSE(is_json(std::string(1'000'000, '[')));
}

// nlohmann's lexer stops at a NUL and would accept the first; the hub must
// not store a line it would splice into a response as a raw NUL.
TEST(JsonCheck, ANulInsideTheTextIsNotTheEnd) {
  EXPECT_FALSE(is_json(std::string("[1]\0", 4)));
  EXPECT_FALSE(is_json(std::string("1\0garbage", 9)));
  expect(std::string("\"a\0b\"", 5), false);
}

}  // namespace
}  // namespace outpost::hub
