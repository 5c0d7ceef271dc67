// MySQL/MariaDB query jobs against a real MariaDB: value mapping for every
// type, read-only refusal, cancellation and timeout, streaming 1,000,000 rows.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "integration/mysql_fixture.hpp"

namespace outpost::test {
namespace {

using Clock = std::chrono::steady_clock;

class MysqlQueryTest : public MysqlConnectorTest {
 protected:
  // Waits until the server shows `needle` running (the statement reached it).
  bool wait_running(const std::string& needle) {
    return eventually(
        [&] {
          return server_->scalar(
                     "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
                     "COMMAND = 'Query' AND INFO = '" +
                     needle + "'") != "0";
        },
        10s);
  }
  bool gone(const std::string& needle) {
    return eventually(
        [&] {
          return server_->scalar(
                     "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE "
                     "INFO = '" +
                     needle + "'") == "0";
        },
        5s);
  }
};

TEST_F(MysqlQueryTest, MapsEveryColumnType) {
  CollectingRows sink;
  auto r = query("SELECT * FROM types ORDER BY id", sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.size(), 2U);
  const auto& row = sink.rows[0];
  auto col = [&](const std::string& name) {
    for (std::size_t i = 0; i < sink.columns.size(); ++i) {
      if (sink.columns[i].name == name) return row[i];
    }
    ADD_FAILURE() << "no column " << name;
    return nlohmann::json();
  };
  auto type = [&](const std::string& name) {
    for (const auto& c : sink.columns) {
      if (c.name == name) return c.type;
    }
    return std::string("?");
  };
  EXPECT_EQ(col("ti"), -128);
  EXPECT_EQ(col("si"), 32767);
  EXPECT_EQ(col("mi"), -8388608);
  EXPECT_EQ(col("i"), 2147483647);
  EXPECT_EQ(col("bi"), "9007199254740993");  // beyond 2^53: a string
  EXPECT_EQ(col("ubi"), "18446744073709551615");
  EXPECT_EQ(type("ubi"), "BIGINT UNSIGNED");
  EXPECT_EQ(col("ui"), 4294967295LL);
  EXPECT_EQ(col("dec_"), "123456789012345678901234.123456");
  EXPECT_EQ(type("dec_"), "DECIMAL");
  EXPECT_EQ(col("f"), 1.5);
  EXPECT_EQ(col("d"), -2.25e-300);
  EXPECT_EQ(col("dt"), "2024-02-29T23:59:58.123456");
  EXPECT_EQ(col("ts"), "2024-03-01T12:00:00.250Z");  // the session runs in UTC
  EXPECT_EQ(col("dte"), "1999-12-31");
  EXPECT_EQ(col("tm"), "-838:59:58.50");
  EXPECT_EQ(col("yr"), 2155);
  EXPECT_EQ(col("vc"), "h\u00e9llo \"w\u00f6rld\"");
  EXPECT_EQ(col("ch"), "abc");
  EXPECT_EQ(col("txt"), "line1\nline2");
  EXPECT_EQ(type("txt"), "TEXT");
  EXPECT_EQ(col("bl"), "AP8Q");  // base64 of 00 FF 10
  EXPECT_EQ(type("bl"), "BLOB");
  EXPECT_EQ(col("vb"), "3q2+7w==");
  EXPECT_EQ(type("vb"), "VARBINARY");
  EXPECT_EQ(col("bn"), "AQIAAA==");  // BINARY(4) pads with zero bytes
  EXPECT_EQ(col("b1"), 1);
  EXPECT_EQ(col("b10"), 513);
  EXPECT_EQ(col("b64"), "18446744073709551615");
  EXPECT_EQ(col("js"), nlohmann::json::parse(R"({"a": [1, 2.5, "x"], "b": null})"));
  EXPECT_EQ(type("js"), "JSON");
  EXPECT_EQ(col("en"), "large");
  EXPECT_EQ(col("st"), "x,z");
  // The all-NULL row.
  for (std::size_t i = 1; i < sink.rows[1].size(); ++i) {
    EXPECT_TRUE(sink.rows[1][i].is_null()) << sink.columns[i].name;
  }
  // Every row's text is one line (NDJSON-safe).
  for (const auto& line : sink.lines) EXPECT_EQ(line.find('\n'), std::string::npos) << line;
}

TEST_F(MysqlQueryTest, MapsExpressionsAndSpecialFloats) {
  CollectingRows sink;
  auto r = query(
      "SELECT 1 AS one, NULL AS nothing, CAST(-0.0 AS DOUBLE) AS negzero, 1e308 * 1 AS big, "
      "JSON_OBJECT('k', JSON_ARRAY(1, 2)) AS js, CAST('2020-01-02' AS DATE) AS d, "
      "TIMESTAMP('2020-01-02 03:04:05') AS ts, X'FF' AS bin, 'ok' AS txt",
      sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.size(), 1U);
  const auto& row = sink.rows[0];
  EXPECT_EQ(row[0], 1);
  EXPECT_TRUE(row[1].is_null());
  EXPECT_EQ(row[2], 0.0);
  EXPECT_EQ(row[3], 1e308);
  EXPECT_EQ(row[5], "2020-01-02");
  EXPECT_EQ(row[6], "2020-01-02T03:04:05");
  EXPECT_EQ(row[7], "/w==");
  EXPECT_EQ(row[8], "ok");
}

TEST_F(MysqlQueryTest, StatementWithoutResultSetSucceedsWithNoColumns) {
  CollectingRows sink;
  auto r = query("DO 1", sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_TRUE(sink.columns_set);
  EXPECT_TRUE(sink.columns.empty());
  EXPECT_TRUE(sink.rows.empty());
}

TEST_F(MysqlQueryTest, SyntaxErrorIsQueryError) {
  CollectingRows sink;
  auto r = query("SELEC nonsense", sink);
  ASSERT_EQ(code(r), "query_error");
  EXPECT_NE(r.error->message.find("1064"), std::string::npos) << r.error->message;
}

TEST_F(MysqlQueryTest, StatementTimeoutStopsSleepBeforeItEnds) {
  // No cancel at all: the server's max_statement_time, set from job.timeout.
  CollectingRows sink;
  auto j = job(JobType::kQuery, config(), {{"sql", "SELECT SLEEP(30)"}});
  j.timeout = 1s;
  const auto started = Clock::now();
  auto r = run_job(connector_, j, sink, guard_);
  const auto took = Clock::now() - started;
  EXPECT_EQ(code(r), "timeout") << (r.error ? r.error->message : "");
  // The server's timeout ended it, not SLEEP(30) running out; the exact
  // latency is the machine's business (a loaded 2-core CI box is slow).
  EXPECT_LT(took, 20s);
  EXPECT_TRUE(gone("SELECT SLEEP(30)"));
}

TEST_F(MysqlQueryTest, PooledSessionIsReusedAndReset) {
  CollectingRows first;
  ASSERT_TRUE(query("SELECT CONNECTION_ID(), @marker := 7", first).ok());
  EXPECT_EQ(connector_.idle_sessions(), 1U);
  CollectingRows second;
  auto r = query("SELECT CONNECTION_ID(), @marker", second);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(first.rows[0][0], second.rows[0][0]) << "session not reused";
  EXPECT_TRUE(second.rows[0][1].is_null()) << "session state leaked between jobs";
}

TEST_F(MysqlQueryTest, StoppingEarlyDoesNotDrainTheResult) {
  // The sink refuses the 11th row (a max_rows cap): the connector must stop
  // at once, not read the remaining rows, and leave the pool usable.
  CollectingRows sink(10);
  const auto started = Clock::now();
  auto r = query("SELECT seq FROM seq_1_to_50000000", sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(sink.rows.size(), 10U);
  EXPECT_TRUE(sink.truncated);
  EXPECT_LT(Clock::now() - started, 5s);
  EXPECT_EQ(connector_.idle_sessions(), 0U) << "an interrupted session must not be pooled";
  CollectingRows next;
  ASSERT_TRUE(query("SELECT 1", next).ok());
}

TEST_F(MysqlQueryTest, StreamsAMillionRowsInBoundedMemory) {
  CountingRows sink;
  auto j = job(JobType::kQuery, config(),
               {{"sql",
                 "SELECT seq AS id, CONCAT('row-', seq) AS label, seq * 0.25 AS amount, "
                 "TIMESTAMP('2024-01-01') + INTERVAL seq SECOND AS at FROM seq_1_to_1000000"}});
  j.timeout = 120s;
  const auto rss_before = self_peak_rss_kib();
  const auto started = Clock::now();
  auto r = run_job(connector_, j, sink, guard_);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(sink.rows, 1'000'000U);
  EXPECT_EQ(sink.id_sum, 500'000'500'000ULL);
  ASSERT_EQ(sink.columns.size(), 4U);
  const auto rss_after = self_peak_rss_kib();
  std::printf(
      "mysql: 1000000 rows, %.1f MB of row JSON in %.2f s = %.0f rows/s; peak RSS %llu KiB "
      "(before %llu KiB)\n",
      static_cast<double>(sink.bytes) / 1e6, seconds, 1e6 / seconds,
      static_cast<unsigned long long>(rss_after), static_cast<unsigned long long>(rss_before));
  // Rows are never held: the peak grows by far less than the 40+ MB of output.
  if (kRssIsMeaningful) {
    EXPECT_LT(rss_after - rss_before, 16U * 1024U);
  }
}

}  // namespace
}  // namespace outpost::test
