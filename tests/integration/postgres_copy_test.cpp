// PostgreSQL connector: query jobs read through `COPY (<query>) TO STDOUT`
// (pg_query_copy.cpp) write exactly what the row-by-row path writes. A
// comment in the SQL keeps a query on the row-by-row path, so both are
// compared on the same data.
#include <gtest/gtest.h>

#include <thread>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
using nlohmann::json;
using namespace std::chrono_literals;

struct Output {
  JobResult result;
  std::vector<Column> columns;
  std::vector<json> rows;
};

Output query(const std::string& sql, json extra = json::object()) {
  PostgresConnector connector;
  CollectingSink sink;
  json params = {{"sql", sql}};
  params.update(extra);
  Output out{run(connector, make_job(JobType::kQuery, reader_config(), params), sink), {}, {}};
  out.columns = sink.columns();
  out.rows = sink.rows();
  return out;
}

// The same query on both paths: same columns (names and types), same rows.
void expect_paths_agree(const std::string& sql) {
  const auto copied = query(sql);
  const auto row_by_row = query("/* row by row */ " + sql);
  ASSERT_TRUE(copied.result.ok()) << error_text(copied.result);
  ASSERT_TRUE(row_by_row.result.ok()) << error_text(row_by_row.result);
  ASSERT_EQ(copied.columns.size(), row_by_row.columns.size());
  for (std::size_t i = 0; i < copied.columns.size(); ++i) {
    EXPECT_EQ(copied.columns[i].name, row_by_row.columns[i].name);
    EXPECT_EQ(copied.columns[i].type, row_by_row.columns[i].type) << copied.columns[i].name;
  }
  ASSERT_EQ(copied.rows.size(), row_by_row.rows.size());
  for (std::size_t i = 0; i < copied.rows.size(); ++i) {
    EXPECT_EQ(copied.rows[i].dump(), row_by_row.rows[i].dump()) << "row " << i;
  }
  EXPECT_EQ(copied.result.result.dump(), row_by_row.result.result.dump());
}

TEST(PostgresCopy, EveryTypeIsWrittenAsRowByRow) {
  expect_paths_agree("SELECT * FROM app.all_types ORDER BY id");
}

TEST(PostgresCopy, EscapesNullsAndUnicodeAreWrittenAsRowByRow) {
  expect_paths_agree(
      "SELECT * FROM (VALUES "
      "(E'tab\\there', E'line\\nbreak\\r\\nwindows', E'back\\\\slash \\\\N \\\\t', '\\N', ''),"
      "(E'\\u00e9 \\U0001F600 \\u20ac', E'ctl \\x01\\x08\\x0b\\x0c\\x1f\\x7f', NULL, 'x', NULL),"
      "(repeat(E'\\t', 100), repeat('\\', 7), E'\"quoted\" ''single''', NULL, E'{\\t}')"
      ") v(a, b, c, d, e)");
  expect_paths_agree(
      "SELECT ARRAY[E'a\\tb', NULL, 'c\"d'] AS arr, ROW(1, E'x\\ny') AS rec, "
      "'{\"k\": \"v\\\\tw\"}'::jsonb AS doc, E'\\\\x5c09'::bytea AS raw, "
      "interval '1 day 00:00:01.5' AS iv, 1e300::float8 AS big, -0.0::float8 AS negzero");
}

TEST(PostgresCopy, ManyRowsAndEmptyResultsAreWrittenAsRowByRow) {
  expect_paths_agree(
      "SELECT g, md5(g::text), (g * 1.37)::numeric(14,2), "
      "timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second' "
      "FROM generate_series(1, 5000) g");
  expect_paths_agree("SELECT 1 AS one WHERE false");
  expect_paths_agree("VALUES (1, 'a'), (2, NULL)");
  expect_paths_agree("TABLE app.v_types");
  expect_paths_agree("WITH t AS (SELECT 2 AS n) SELECT n * 2 AS m FROM t");
}

TEST(PostgresCopy, ErrorsAreTheRowByRowErrors) {
  for (const std::string sql :
       {"SELECT * FROM app.no_such_table", "SELECT 1/0", "SELECT * FROM private.secrets",
        "SELECT 1 INTO TEMP t", "SELECT * FROM app.all_types FOR UPDATE",
        "SELECT 1 FROM generate_series(1, 10) g WHERE 1/(g - 5) > 0"}) {
    const auto copied = query(sql);
    const auto row_by_row = query("/* row by row */ " + sql);
    ASSERT_FALSE(copied.result.ok()) << sql;
    ASSERT_FALSE(row_by_row.result.ok()) << sql;
    EXPECT_EQ(copied.result.error->code, row_by_row.result.error->code) << sql;
    EXPECT_EQ(copied.result.error->message, row_by_row.result.error->message) << sql;
  }
}

TEST(PostgresCopy, MaxRowsTruncatesTheCopy) {
  const auto r = query("SELECT g FROM generate_series(1, 100000) g", {{"max_rows", 3}});
  ASSERT_TRUE(r.result.ok()) << error_text(r.result);
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.result.result["truncated"], true);
}

// The server runs the query as a COPY (what pg_stat_activity shows), and a
// cancel stops it there.
TEST(PostgresCopy, TheQueryRunsAsCopyAndCancelStopsIt) {
  PostgresConnector connector;
  CollectingSink sink;
  AllowingNetworkGuard guard;
  CancelToken cancel;
  const auto job =
      make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT pg_sleep(30) AS slept"}});
  const auto copy_running = [] {
    return server().query_column(
               "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = "
               "E'COPY (\\nSELECT pg_sleep(30) AS slept\\n) TO STDOUT'")[0] == "1";
  };
  bool seen = false;
  std::thread canceller([&] {
    seen = eventually(copy_running, 20s);
    cancel.cancel(CancelReason::kRequested);
  });
  const auto r = run(connector, job, sink, guard, cancel);
  canceller.join();
  ASSERT_TRUE(seen) << "the COPY never showed up in pg_stat_activity";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kCancelled) << error_text(r);
  EXPECT_TRUE(eventually([&] { return !copy_running(); }, 20s));
}

}  // namespace
}  // namespace outpost::test::pg
