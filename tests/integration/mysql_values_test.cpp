// Pure checks of the MySQL connector's config parsing and value mapping (no
// server needed; they live beside the server tests they complement).
#include <mysql.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mysql/mysql_config.hpp"
#include "mysql/mysql_connection.hpp"
#include "mysql/mysql_values.hpp"

namespace outpost::connectors::mysql {
namespace {

std::string written(ValueKind kind, std::string_view text) {
  std::string out;
  RowWriter writer(out);
  writer.open();
  write_value(writer, kind, text);
  writer.close();
  return out;
}

TEST(MysqlValues, PrettyJsonIsCompactedWithoutChangingStrings) {
  EXPECT_EQ(written(ValueKind::kJson, "{\n  \"a\": [1, 2],\n  \"b\": \"x y\\n\\\" }\"\n}"),
            "[{\"a\":[1,2],\"b\":\"x y\\n\\\" }\"}]");
}

TEST(MysqlValues, ValuePastTheRowBudgetIsRefusedBeforeConversion) {
  // Issue 14, class 8: a value that cannot fit is never escaped, parsed or
  // base64-encoded; the row is marked over its limit (the sink drops it).
  for (const auto kind : {ValueKind::kJson, ValueKind::kBinary, ValueKind::kText}) {
    std::string out;
    RowWriter writer(out);
    writer.open(64);
    write_value(writer, kind, std::string(1000, '7'));
    writer.close();
    EXPECT_TRUE(writer.over_limit());
    EXPECT_LT(out.size(), 64U) << out;
  }
}

TEST(MysqlValues, FloatsIncludingSpecialValues) {
  EXPECT_EQ(written(ValueKind::kFloat, "1.5"), "[1.5]");
  EXPECT_EQ(written(ValueKind::kFloat, "-2.25e-300"), "[-2.25e-300]");
  EXPECT_EQ(written(ValueKind::kFloat, "inf"), "[\"Infinity\"]");
  EXPECT_EQ(written(ValueKind::kFloat, "-inf"), "[\"-Infinity\"]");
  EXPECT_EQ(written(ValueKind::kFloat, "nan"), "[\"NaN\"]");
}

TEST(MysqlValues, IntegersAndDecimals) {
  EXPECT_EQ(written(ValueKind::kInteger, "-9007199254740991"), "[-9007199254740991]");
  EXPECT_EQ(written(ValueKind::kInteger, "9223372036854775807"), "[\"9223372036854775807\"]");
  EXPECT_EQ(written(ValueKind::kUnsigned, "4294967295"), "[4294967295]");
  EXPECT_EQ(written(ValueKind::kUnsignedBig, "1"), "[\"1\"]");
  EXPECT_EQ(written(ValueKind::kDecimal, "-0.000001"), "[\"-0.000001\"]");
}

TEST(MysqlValues, TemporalValues) {
  EXPECT_EQ(written(ValueKind::kDateTime, "2024-01-02 03:04:05"), "[\"2024-01-02T03:04:05\"]");
  EXPECT_EQ(written(ValueKind::kTimestamp, "2024-01-02 03:04:05.5"),
            "[\"2024-01-02T03:04:05.5Z\"]");
  EXPECT_EQ(written(ValueKind::kDateTime, "0000-00-00 00:00:00"), "[\"0000-00-00 00:00:00\"]");
  EXPECT_EQ(written(ValueKind::kTime, "-838:59:59"), "[\"-838:59:59\"]");
}

TEST(MysqlValues, BitsJsonAndBinary) {
  EXPECT_EQ(written(ValueKind::kBit, std::string_view("\x02\x01", 2)), "[513]");
  EXPECT_EQ(written(ValueKind::kJson, "{\n  \"a\": 1\n}"), "[{\"a\":1}]");
  EXPECT_EQ(written(ValueKind::kJson, "[1, 2]"), "[[1, 2]]");
  EXPECT_EQ(written(ValueKind::kJson, "not json"), "[\"not json\"]");
  EXPECT_EQ(written(ValueKind::kBinary, std::string_view("\x00\xff", 2)), "[\"AP8=\"]");
}

TEST(MysqlValues, KindsAndTypeNames) {
  FieldInfo big{MYSQL_TYPE_LONGLONG, UNSIGNED_FLAG, 63, {}};
  EXPECT_EQ(value_kind(big), ValueKind::kUnsignedBig);
  EXPECT_EQ(type_name(big), "BIGINT UNSIGNED");
  FieldInfo blob{MYSQL_TYPE_BLOB, BINARY_FLAG, 63, {}};
  EXPECT_EQ(value_kind(blob), ValueKind::kBinary);
  EXPECT_EQ(type_name(blob), "BLOB");
  FieldInfo text{MYSQL_TYPE_BLOB, 0, 45, {}};
  EXPECT_EQ(value_kind(text), ValueKind::kText);
  EXPECT_EQ(type_name(text), "TEXT");
  FieldInfo json{MYSQL_TYPE_BLOB, 0, 45, "json"};
  EXPECT_EQ(value_kind(json), ValueKind::kJson);
  EXPECT_EQ(type_name(json), "JSON");
  FieldInfo en{MYSQL_TYPE_STRING, ENUM_FLAG, 63, {}};
  EXPECT_EQ(value_kind(en), ValueKind::kText);
  EXPECT_EQ(type_name(en), "ENUM");
}

TEST(MysqlConfigParse, DefaultsAndStrictness) {
  auto ok = parse_config({{"host", "db"}, {"user", "u"}});
  ASSERT_TRUE(ok.config) << ok.error;
  EXPECT_EQ(ok.config->port, 3306);
  EXPECT_EQ(ok.config->ssl_mode, SslMode::kPreferred);
  EXPECT_EQ(ok.config->connect_timeout, std::chrono::seconds(10));
  auto port_text = parse_config({{"host", "db"}, {"user", "u"}, {"port", "3307"}});
  ASSERT_TRUE(port_text.config);
  EXPECT_EQ(port_text.config->port, 3307);
  EXPECT_FALSE(parse_config({{"host", "db"}, {"user", "u"}, {"port", 70000}}).config);
  EXPECT_FALSE(parse_config({{"host", "/var/run/mysqld.sock"}, {"user", "u"}}).config);
  EXPECT_FALSE(parse_config({{"host", "db"}, {"user", "u"}, {"ssl_mode", "verify_ca"}}).config);
  auto secret =
      parse_config({{"host", "db"}, {"user", "u"}, {"password", 5}, {"pasword", "s3cr3t"}});
  ASSERT_FALSE(secret.config);
  EXPECT_EQ(secret.error.find("s3cr3t"), std::string::npos);
  EXPECT_FALSE(parse_config(nlohmann::json::array()).config);
}

TEST(MysqlErrors, Classification) {
  EXPECT_EQ(classify_error(1045, "Access denied").code, ErrorCode::kAuthFailed);
  EXPECT_EQ(classify_error(1142, "SELECT command denied").code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(classify_error(1792, "READ ONLY").code, ErrorCode::kReadOnlyViolation);
  EXPECT_EQ(classify_error(3024, "max_execution_time exceeded").code, ErrorCode::kTimeout);
  EXPECT_EQ(classify_error(2003, "Can't connect").code, ErrorCode::kUnreachable);
  EXPECT_TRUE(classify_error(2003, "Can't connect").retryable);
  EXPECT_EQ(classify_error(2026, "SSL connection error").code, ErrorCode::kTlsError);
  EXPECT_EQ(classify_error(1064, "syntax").code, ErrorCode::kQueryError);
}

}  // namespace
}  // namespace outpost::connectors::mysql
