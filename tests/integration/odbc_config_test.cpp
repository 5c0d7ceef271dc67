// Pure checks of the ODBC connector's config and text handling (no driver).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "odbc/odbc_config.hpp"
#include "odbc/odbc_values.hpp"

namespace outpost::connectors::odbc {
namespace {

TEST(OdbcConnectionString, SplitAndJoinWithBraces) {
  auto parts = split_connection_string("Driver={PostgreSQL Unicode};Server=db;Pwd={a;b}}c};");
  ASSERT_TRUE(parts);
  ASSERT_EQ(parts->size(), 3U);
  EXPECT_EQ((*parts)[0].value, "PostgreSQL Unicode");
  EXPECT_EQ((*parts)[2].value, "a;b}c");
  EXPECT_EQ(join_connection_string(*parts), "Driver={PostgreSQL Unicode};Server=db;Pwd={a;b}}c};");
  EXPECT_FALSE(split_connection_string("Pwd={unterminated"));
  EXPECT_FALSE(split_connection_string("novalue"));
}

TEST(OdbcConfigParse, HostAndPortAreFoundForTheEgressCheck) {
  auto a = parse_config({{"connection_string", "Driver=X;SERVER=db.internal;Port=5433"}});
  ASSERT_TRUE(a.config) << a.error;
  EXPECT_EQ(a.config->host, "db.internal");
  EXPECT_EQ(a.config->port, 5433);
  auto b = parse_config({{"connection_string", "Driver=X;Server=sql.internal,1444"}});
  ASSERT_TRUE(b.config) << b.error;
  EXPECT_EQ(b.config->host, "sql.internal");
  EXPECT_EQ(b.config->port, 1444);
  EXPECT_EQ(connection_string(*b.config, "10.0.0.5"), "Driver=X;Server=10.0.0.5,1444;");
  auto file = parse_config({{"connection_string", "Driver=SQLite3;Database=/tmp/x.db"}});
  ASSERT_TRUE(file.config);
  EXPECT_TRUE(file.config->host.empty());
}

TEST(OdbcConfigParse, RefusesWhatCouldHurtTheAgent) {
  EXPECT_FALSE(parse_config({{"connection_string", "Driver=/tmp/evil.so"}}).config);
  EXPECT_FALSE(parse_config({{"connection_string", "DSN=x;SAVEFILE=/etc/passwd"}}).config);
  EXPECT_FALSE(parse_config({{"connection_string", "DSN=x"}, {"dsn", "y"}}).config);
  EXPECT_FALSE(
      parse_config({{"connection_string", "Driver=X;ConnSettings={DELETE FROM t}"}}).config);
  EXPECT_FALSE(
      parse_config({{"dsn", "x"}, {"attributes", {{"INITSTMT", "DELETE FROM t"}}}}).config);
  EXPECT_FALSE(parse_config(nlohmann::json::object()).config);
  EXPECT_FALSE(
      parse_config({{"dsn", "x"}, {"attributes", {{"k", nlohmann::json::array()}}}}).config);
  auto leaked = parse_config({{"connection_string", "Pwd=s3cr3t;Port=abc"}});
  ASSERT_FALSE(leaked.config);
  EXPECT_EQ(leaked.error.find("s3cr3t"), std::string::npos);
}

TEST(OdbcConfigParse, DsnFormAndPostgresDefaults) {
  auto d = parse_config({{"dsn", "warehouse"},
                         {"user", "u"},
                         {"password", "p;w"},
                         {"attributes", {{"SSLmode", "require"}}}});
  ASSERT_TRUE(d.config) << d.error;
  EXPECT_EQ(connection_string(*d.config), "DSN=warehouse;UID=u;PWD={p;w};SSLmode=require;");
  auto pg = parse_config({{"connection_string", "Driver={PostgreSQL Unicode};Server=h"}});
  ASSERT_TRUE(pg.config);
  const auto text = connection_string(*pg.config);
  EXPECT_NE(text.find("UseDeclareFetch=1"), std::string::npos) << text;
  EXPECT_NE(text.find("BoolsAsChar=0"), std::string::npos) << text;
}

TEST(OdbcText, Utf16ToUtf8IncludingSplitSurrogates) {
  std::string out;
  char32_t pending = 0;
  const SQLWCHAR first[] = {0x0068, 0x00E9, 0xD83D};  // "hé" + high surrogate of U+1F600
  const SQLWCHAR second[] = {0xDE00, 0xDC00};         // its low half, then a lone low surrogate
  append_utf8(out, first, 3, pending);
  append_utf8(out, second, 2, pending);
  EXPECT_EQ(out, "h\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD");
  EXPECT_EQ(pending, 0U);
}

}  // namespace
}  // namespace outpost::connectors::odbc
