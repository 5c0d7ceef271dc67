// PostgreSQL connector: query jobs — value mapping, read-only, errors, caps.
#include <gtest/gtest.h>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
using nlohmann::json;

JobResult query(PostgresConnector& connector, CollectingSink& sink, const std::string& sql,
                json config = reader_config(), json extra = json::object(),
                const OperatorPolicy& policy = default_operator_policy()) {
  json params = {{"sql", sql}};
  params.update(extra);
  return run(connector, make_job(JobType::kQuery, std::move(config), params), sink, policy);
}

TEST(PostgresQuery, MapsEveryTypeAsTheProtocolSays) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELECT * FROM app.all_types ORDER BY id");
  ASSERT_TRUE(r.ok()) << error_text(r);
  ASSERT_EQ(sink.rows().size(), 3u);
  auto col = [&](const char* name) {
    const int i = sink.column_index(name);
    EXPECT_GE(i, 0) << name;
    return static_cast<std::size_t>(i);
  };
  const json& a = sink.rows()[0];
  EXPECT_EQ(a[col("id")], 1);
  EXPECT_EQ(a[col("c_int2")], -32768);
  EXPECT_EQ(a[col("c_int4")], 2147483647);
  EXPECT_EQ(a[col("c_int8")], 9007199254740991);  // 2^53 - 1 stays a number
  EXPECT_EQ(a[col("c_big")], "9223372036854775807");
  EXPECT_EQ(a[col("c_numeric")], "12345678901234.56789");
  EXPECT_EQ(a[col("c_float4")], 1.5);
  EXPECT_EQ(a[col("c_float8")], 0.1);
  EXPECT_EQ(a[col("c_bool")], true);
  EXPECT_EQ(a[col("c_text")], "h\xC3\xA9llo \"quoted\"\nline");
  EXPECT_EQ(a[col("c_varchar")], "varchar");
  EXPECT_EQ(a[col("c_char")], "ab   ");
  EXPECT_EQ(a[col("c_bytea")], "AP8Q");  // base64 of 00 ff 10
  EXPECT_EQ(a[col("c_date")], "2024-02-29");
  EXPECT_EQ(a[col("c_time")], "13:14:15.5");
  EXPECT_EQ(a[col("c_timetz")], "13:14:15+02:00");
  EXPECT_EQ(a[col("c_ts")], "2024-02-29T13:14:15.123456");
  EXPECT_EQ(a[col("c_tstz")], "2024-02-29T18:44:15.5+05:30");  // database TimeZone Asia/Kolkata
  EXPECT_EQ(a[col("c_interval")], "1 year 2 mons 3 days 04:05:06");
  EXPECT_EQ(a[col("c_uuid")], "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(a[col("c_json")], json::parse(R"({"a": [1, 2], "b": null})"));
  EXPECT_EQ(a[col("c_jsonb")], json::parse(R"({"k": "v", "n": 1.5})"));
  EXPECT_EQ(a[col("c_int_array")], "{1,2,3}");
  EXPECT_EQ(a[col("c_text_array")], "{x,\"y z\"}");
  EXPECT_EQ(a[col("c_mood")], "happy");

  const json& b = sink.rows()[1];
  EXPECT_EQ(b[col("c_int8")], "-9007199254740993");
  EXPECT_EQ(b[col("c_numeric")], "NaN");
  EXPECT_EQ(b[col("c_float4")], "NaN");
  EXPECT_EQ(b[col("c_float8")], "Infinity");
  EXPECT_EQ(b[col("c_bool")], false);
  EXPECT_EQ(b[col("c_text")], "");
  EXPECT_TRUE(b[col("c_varchar")].is_null());
  EXPECT_EQ(b[col("c_bytea")], "");
  EXPECT_EQ(b[col("c_date")], "-0043-03-15");  // 44 BC, astronomical year numbering
  EXPECT_EQ(b[col("c_ts")], "infinity");
  EXPECT_EQ(b[col("c_interval")], "-1 days");
  EXPECT_EQ(b[col("c_jsonb")], json::array());
  EXPECT_EQ(b[col("c_int_array")], "{}");

  const json& c = sink.rows()[2];
  EXPECT_EQ(c[col("c_float4")], "-Infinity");
  EXPECT_EQ(c[col("c_float8")], "-Infinity");
  for (const char* name : {"c_int2", "c_numeric", "c_bool", "c_bytea", "c_date", "c_tstz", "c_uuid",
                           "c_json", "c_int_array", "c_mood"}) {
    EXPECT_TRUE(c[col(name)].is_null()) << name;
  }
}

TEST(PostgresQuery, NamesColumnTypesLikeTheServer) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELECT * FROM app.all_types WHERE false");
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_TRUE(sink.rows().empty());
  EXPECT_EQ(sink.set_columns_calls(), 1);
  std::vector<std::string> types;
  for (const auto& c : sink.columns()) types.push_back(c.type);
  const std::vector<std::string> expected{
      "int4",   "int2",   "int4",      "int8",        "int8",     "numeric", "float4",
      "float8", "bool",   "text",      "varchar",     "bpchar",   "bytea",   "date",
      "time",   "timetz", "timestamp", "timestamptz", "interval", "uuid",    "json",
      "jsonb",  "int4[]", "text[]",    "app.mood"};
  EXPECT_EQ(types, expected);
  EXPECT_EQ(sink.columns()[0].name, "id");
}

TEST(PostgresQuery, WriteStatementsAreReadOnlyViolations) {
  PostgresConnector connector;
  for (const char* sql : {"INSERT INTO app.all_types (id, c_text) VALUES (99, 'x')",
                          "UPDATE app.all_types SET c_text = 'x'", "DELETE FROM app.all_types",
                          "CREATE TABLE app.new_table (id int)", "TRUNCATE app.all_types"}) {
    CollectingSink sink;
    // The writer role could write: with privileged logins allowed (so the
    // privilege gate lets it in), the READ ONLY transaction still refuses.
    const auto r = query(connector, sink, sql, config_for("writer", kWriterPassword),
                         json::object(), privileged_policy());
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << sql << ": " << error_text(r);
    EXPECT_NE(r.error->message.find("read-only transaction"), std::string::npos);
  }
  EXPECT_EQ(server().query_column("SELECT count(*) FROM app.all_types", kDatabase)[0], "3");
}

TEST(PostgresQuery, SeveralStatementsCannotEscapeTheTransaction) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELECT 1; COMMIT; DELETE FROM app.all_types",
                       config_for("writer", kWriterPassword), json::object(), privileged_policy());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError) << error_text(r);
  EXPECT_EQ(server().query_column("SELECT count(*) FROM app.all_types", kDatabase)[0], "3");
}

TEST(PostgresQuery, SyntaxErrorIsQueryErrorWithTheServerMessage) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELEC 1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError);
  EXPECT_NE(r.error->message.find("syntax error at or near \"SELEC\""), std::string::npos)
      << r.error->message;
  EXPECT_NE(r.error->message.find("42601"), std::string::npos);
  // The session survives a failed statement and serves the next job.
  CollectingSink again;
  ASSERT_TRUE(query(connector, again, "SELECT 2 AS n").ok());
  EXPECT_EQ(again.rows()[0][0], 2);
}

TEST(PostgresQuery, MissingPrivilegeIsPermissionDenied) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELECT * FROM private.secrets");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << error_text(r);
}

// Malformed params never reach a connector (parse_job_params, sdk_test);
// SQL with $n placeholders is well-formed params the connector must refuse.
TEST(PostgresQuery, StatementWithPlaceholdersIsInvalidJob) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r =
      run(connector, make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT $1::int"}}), sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob) << error_text(r);
}

TEST(PostgresQuery, MaxRowsAndTheSinkCapTruncate) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = query(connector, sink, "SELECT i FROM generate_series(1, 1000) i", reader_config(),
                       {{"max_rows", 5}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(sink.rows().size(), 5u);
  EXPECT_EQ(r.result["truncated"], true);

  CollectingSink exact;
  const auto e = query(connector, exact, "SELECT i FROM generate_series(1, 5) i", reader_config(),
                       {{"max_rows", 5}});
  ASSERT_TRUE(e.ok()) << error_text(e);
  EXPECT_EQ(exact.rows().size(), 5u);
  EXPECT_FALSE(e.result.contains("truncated"));

  CollectingSink capped(CollectingSink::Options{true, 7, nullptr, {}});
  const auto c = query(connector, capped, "SELECT i FROM generate_series(1, 100000) i");
  ASSERT_TRUE(c.ok()) << error_text(c);
  EXPECT_EQ(capped.rows().size(), 7u);
  EXPECT_TRUE(capped.truncated());
}

TEST(PostgresQuery, ServerNoticesDoNotReachStderr) {
  PostgresConnector connector;
  CollectingSink sink;
  testing::internal::CaptureStderr();
  const auto r = query(connector, sink, "DO $$ BEGIN RAISE WARNING 'noisy warning'; END $$");
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_TRUE(sink.columns().empty());
  EXPECT_EQ(err.find("noisy warning"), std::string::npos) << err;
}

TEST(PostgresQuery, SessionsAreTaggedWithJobAndAttempt) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = run(connector,
                     make_job(JobType::kQuery, reader_config(),
                              {{"sql", "SELECT current_setting('application_name')"}}, "job_42", 2),
                     sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(sink.rows().at(0)[0], "outpost job_42#2");
}

}  // namespace
}  // namespace outpost::test::pg
