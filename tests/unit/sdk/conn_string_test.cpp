#include "outpost/conn_string.hpp"

#include <gtest/gtest.h>

namespace outpost {
namespace {

std::vector<std::pair<std::string, std::string>> pairs(std::string_view text) {
  const auto parsed = parse_odbc_connection_string(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error;
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& a : parsed.attributes) out.emplace_back(a.key, a.value);
  return out;
}

std::string error_of(std::string_view text) {
  const auto parsed = parse_odbc_connection_string(text);
  EXPECT_FALSE(parsed.ok()) << text;
  EXPECT_TRUE(parsed.attributes.empty());
  return parsed.error;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(OdbcConnString, PlainPairsAndEmptyAttributes) {
  EXPECT_EQ(pairs("Driver=X;Server=db;Port=5432"),
            (Pairs{{"Driver", "X"}, {"Server", "db"}, {"Port", "5432"}}));
  EXPECT_EQ(pairs(";;Driver=X;;"), (Pairs{{"Driver", "X"}}));
  EXPECT_EQ(pairs(""), Pairs{});
  EXPECT_EQ(pairs(" ; ; "), Pairs{});
}

TEST(OdbcConnString, BlanksAroundKeysAndBareValuesAreRemoved) {
  EXPECT_EQ(pairs("  Driver =  PostgreSQL Unicode  ; UID\t=\tu "),
            (Pairs{{"Driver", "PostgreSQL Unicode"}, {"UID", "u"}}));
}

TEST(OdbcConnString, EmptyValuesAreKept) {
  EXPECT_EQ(pairs("PWD=;UID="), (Pairs{{"PWD", ""}, {"UID", ""}}));
  EXPECT_EQ(pairs("PWD={}"), (Pairs{{"PWD", ""}}));
}

TEST(OdbcConnString, BracedValuesHoldSeparatorsAndEscapedBraces) {
  EXPECT_EQ(pairs("Pwd={a;b=c}}d{e};Server=x"), (Pairs{{"Pwd", "a;b=c}d{e"}, {"Server", "x"}}));
  EXPECT_EQ(pairs("Pwd = { spaced } ;"), (Pairs{{"Pwd", " spaced "}}));
  EXPECT_EQ(pairs("A={}}}}}"), (Pairs{{"A", "}}"}}));
  const auto parsed = parse_odbc_connection_string("pqopt={host=h port=1}");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.attributes[0].braced);
}

TEST(OdbcConnString, DuplicateKeysAreKeptAndReported) {
  const auto parsed = parse_odbc_connection_string("UID=a;Server=s;uid=b");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.attributes.size(), 3U);
  EXPECT_EQ(duplicate_odbc_key(parsed.attributes), "uid");
  EXPECT_FALSE(duplicate_odbc_key(parse_odbc_connection_string("a=1;b=2").attributes));
}

TEST(OdbcConnString, MalformedInputIsAClearErrorWithoutValues) {
  EXPECT_NE(error_of("Driver=X;secretword").find("has no '='"), std::string::npos);
  EXPECT_NE(error_of("Pwd={s3cr3t").find("never closed"), std::string::npos);
  EXPECT_NE(error_of("Pwd={s3cr3t}x;").find("after the closing brace"), std::string::npos);
  EXPECT_NE(error_of("Pwd=ab{c}").find("holds a brace"), std::string::npos);
  EXPECT_NE(error_of("=v").find("empty key"), std::string::npos);
  EXPECT_NE(error_of("{Pwd}=v").find("reserves"), std::string::npos);
  EXPECT_NE(error_of(std::string_view("A=b\0c", 5)).find("NUL"), std::string::npos);
  EXPECT_NE(error_of(std::string(kMaxOdbcConnectionString + 1, 'a')).find("longer"),
            std::string::npos);
  for (const auto* text : {"Pwd={s3cr3t", "Pwd={s3cr3t}x;", "Pwd=s3cr3t{"}) {
    EXPECT_EQ(error_of(text).find("s3cr3t"), std::string::npos) << text;
  }
}

TEST(OdbcConnString, FormatRoundTrips) {
  const std::vector<OdbcAttribute> in{{"Driver", "PostgreSQL Unicode", false},
                                      {"PWD", "a;b}c", false},
                                      {"UID", "", false},
                                      {"X", " lead", false},
                                      {"Y", "a+b", true}};
  const auto text = format_odbc_connection_string(in);
  EXPECT_EQ(text, "Driver=PostgreSQL Unicode;PWD={a;b}}c};UID=;X={ lead};Y={a+b};");
  const auto back = parse_odbc_connection_string(text);
  ASSERT_TRUE(back.ok()) << back.error;
  ASSERT_EQ(back.attributes.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(back.attributes[i].key, in[i].key);
    EXPECT_EQ(back.attributes[i].value, in[i].value);
  }
}

TEST(OdbcConnString, KeysCompareCaseInsensitively) {
  EXPECT_EQ(odbc_key("ConnSettings"), "connsettings");
}

}  // namespace
}  // namespace outpost
