#include "common/text.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/sha256.hpp"

namespace outpost::common {
namespace {

TEST(AsciiLower, OnlyAsciiLettersChange) {
  EXPECT_EQ(ascii_lower("Db.EXAMPLE-1_Z"), "db.example-1_z");
  EXPECT_EQ(ascii_lower("\xC3\x89"), "\xC3\x89");  // É: not ASCII, left alone
  EXPECT_EQ(ascii_lower(""), "");
}

TEST(AsciiIequals, CaseInsensitiveSameLength) {
  EXPECT_TRUE(ascii_iequals("Content-Length", "content-length"));
  EXPECT_FALSE(ascii_iequals("gzip", "gzip "));
  EXPECT_FALSE(ascii_iequals("a", "b"));
  EXPECT_TRUE(ascii_iequals("", ""));
}

TEST(JsonString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(json_string(R"(say "hi" \ bye)"), R"("say \"hi\" \\ bye")");
  EXPECT_EQ(json_string("a\nb\tc\rd\be\ff"), R"("a\nb\tc\rd\be\ff")");
  EXPECT_EQ(json_string(std::string("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");  // DEL needs no escape in JSON
}

TEST(JsonString, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(json_string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(json_string("a\xFF"
                        "b"),
            "\"a" + replacement + "b\"");
  EXPECT_EQ(json_string("\xC0\xAF"), "\"" + replacement + replacement + "\"");  // overlong '/'
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + replacement + replacement + replacement + "\"");
  EXPECT_EQ(json_string("\xE2\x82"), "\"" + replacement + replacement + "\"");  // truncated
  EXPECT_EQ(json_string("\xF4\x90\x80\x80").find("\xF4"), std::string::npos);   // > U+10FFFF
}

TEST(JsonString, IsAlwaysValidJson) {
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes.push_back(static_cast<char>(c));
  const auto parsed = nlohmann::json::parse(json_string(all_bytes));  // throws if invalid
  ASSERT_TRUE(parsed.is_string());
  EXPECT_EQ(parsed.get<std::string>().substr(0, 128), all_bytes.substr(0, 128));  // ASCII intact
  for (const std::string text : {"plain", "q\"\\", "\n\u00e9", "caf\xC3\xA9"}) {
    EXPECT_EQ(nlohmann::json::parse(json_string(text)).get<std::string>(), text);
  }
}

TEST(JsonString, AppendsToWhatIsThere) {
  std::string out = "{\"k\":";
  append_json_string(out, "v");
  EXPECT_EQ(out, "{\"k\":\"v\"");
}

TEST(Sha256Hex, KnownDigests) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace outpost::common
