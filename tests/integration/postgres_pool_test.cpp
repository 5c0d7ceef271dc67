// PostgreSQL connector: the idle connection pool (reuse, health check,
// isolation between jobs, idle timeout).
#include <gtest/gtest.h>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
namespace common = connectors::common;

std::string backend_pid(PostgresConnector& connector, const nlohmann::json& config,
                        const std::string& sql = "SELECT pg_backend_pid()") {
  CollectingSink sink;
  // Privileged logins allowed: the writer role is one.
  const auto r =
      run(connector, make_job(JobType::kQuery, config, {{"sql", sql}}), sink, privileged_policy());
  EXPECT_TRUE(r.ok()) << error_text(r);
  return sink.rows().empty() ? "" : sink.rows()[0][0].dump();
}

TEST(PostgresPool, ReusesAnIdleConnectionPerConfig) {
  PostgresConnector connector;
  const auto first = backend_pid(connector, reader_config());
  EXPECT_EQ(connector.pool().idle_count(), 1u);
  EXPECT_EQ(backend_pid(connector, reader_config()), first);
  // Another config (other credentials) never gets that session.
  const auto other = backend_pid(connector, config_for("writer", kWriterPassword));
  EXPECT_NE(other, first);
  EXPECT_EQ(connector.pool().idle_count(), 2u);
  // The idle session shows the base application_name, not a stale job tag.
  EXPECT_EQ(server().query_column("SELECT application_name FROM pg_stat_activity WHERE pid = " +
                                  first)[0],
            "outpost-agent");
}

TEST(PostgresPool, HealthCheckOnCheckoutDiscardsADeadConnection) {
  PostgresConnector connector;
  const auto first = backend_pid(connector, reader_config());
  server().exec("SELECT pg_terminate_backend(" + first + ")");
  ASSERT_TRUE(eventually(
      [&] {
        return server().query_column("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                     first)[0] == "0";
      },
      std::chrono::seconds(10)));
  const auto second = backend_pid(connector, reader_config());
  EXPECT_NE(second, first);
  EXPECT_EQ(connector.pool().discarded_unhealthy(), 1u);
}

TEST(PostgresPool, SessionStateDoesNotLeakIntoTheNextJob) {
  PostgresConnector connector;
  CollectingSink sink;
  ASSERT_TRUE(run(connector,
                  make_job(JobType::kQuery, reader_config(),
                           {{"sql",
                             "SELECT set_config('search_path', 'other', false), "
                             "pg_advisory_lock(42)"}}),
                  sink)
                  .ok());
  CollectingSink next;
  const auto r = run(connector,
                     make_job(JobType::kQuery, reader_config(),
                              {{"sql",
                                "SELECT current_setting('search_path'), "
                                "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')"}}),
                     next);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(next.rows()[0][0], "\"$user\", public");
  EXPECT_EQ(next.rows()[0][1], 0);
}

// A query job on the COPY path gets the light reset (the rollback of its
// read-only transaction, then what outlives one). A function can leave both
// things a rollback keeps: a session advisory lock and a statement prepared
// through SPI. The next job on the same session must see neither.
TEST(PostgresPool, TheResetAfterACopyQueryClearsWhatOutlivesItsRollback) {
  server().exec(
      "CREATE OR REPLACE FUNCTION pool_leave_state() RETURNS int LANGUAGE plpgsql AS $$ "
      "BEGIN EXECUTE 'PREPARE pool_leftover AS SELECT 1'; "
      "PERFORM set_config('search_path', 'other', false); PERFORM pg_advisory_lock(77); "
      "RETURN pg_backend_pid(); END $$",
      kDatabase);
  PostgresConnector connector;
  const auto first = backend_pid(connector, reader_config(), "SELECT pool_leave_state()");
  CollectingSink next;
  const auto r = run(connector,
                     make_job(JobType::kQuery, reader_config(),
                              {{"sql",
                                "SELECT pg_backend_pid(), "
                                "(SELECT count(*) FROM pg_prepared_statements), "
                                "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                "AND pid = pg_backend_pid()), current_setting('search_path')"}}),
                     next);
  ASSERT_TRUE(r.ok()) << error_text(r);
  ASSERT_EQ(next.rows().size(), 1u);
  EXPECT_EQ(next.rows()[0][0].dump(), first);  // the same, pooled session
  EXPECT_EQ(next.rows()[0][1], 0);
  EXPECT_EQ(next.rows()[0][2], 0);
  EXPECT_EQ(next.rows()[0][3], "\"$user\", public");
}

TEST(PostgresPool, TruncatedOrFailedStreamsAreNotPooled) {
  PostgresConnector connector;
  CollectingSink sink;
  ASSERT_TRUE(
      run(connector,
          make_job(JobType::kQuery, reader_config(),
                   {{"sql", "SELECT i FROM generate_series(1, 100000) i"}, {"max_rows", 3}}),
          sink)
          .ok());
  EXPECT_EQ(connector.pool().idle_count(), 0u);
  CollectingSink ok_sink;
  ASSERT_TRUE(
      run(connector, make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT 1"}}), ok_sink)
          .ok());
  EXPECT_EQ(connector.pool().idle_count(), 1u);
}

TEST(PostgresPool, IdleConnectionsCloseAfterTheIdleTimeout) {
  auto now = std::chrono::steady_clock::now();
  common::PoolOptions options;
  options.idle_timeout = std::chrono::seconds(30);
  options.now = [&now] { return now; };
  options.background_reaper = false;
  PostgresConnector connector(options);
  const auto pid = backend_pid(connector, reader_config());
  ASSERT_EQ(connector.pool().idle_count(), 1u);
  now += std::chrono::seconds(29);
  connector.pool().prune();
  EXPECT_EQ(connector.pool().idle_count(), 1u);
  now += std::chrono::seconds(2);
  connector.pool().prune();
  EXPECT_EQ(connector.pool().idle_count(), 0u);
  EXPECT_TRUE(eventually(
      [&] {
        return server().query_column("SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                                     pid)[0] == "0";
      },
      std::chrono::seconds(10)));
}

TEST(PostgresPool, PoolIsBoundedPerKeyAndInTotal) {
  common::PoolOptions options;
  options.max_idle_per_key = 2;
  options.max_idle_total = 3;
  options.background_reaper = false;
  common::ConnectionPool<int> pool(options);
  for (int i = 0; i < 4; ++i) pool.checkin("a", std::make_unique<int>(i));
  EXPECT_EQ(pool.idle_count("a"), 2u);
  pool.checkin("b", std::make_unique<int>(10));
  pool.checkin("b", std::make_unique<int>(11));
  EXPECT_EQ(pool.idle_count(), 3u);
  // Most recently returned first; the oldest "a" was evicted.
  auto b = pool.checkout("b", [](int&) { return true; });
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, 11);
  auto unhealthy = pool.checkout("a", [](int&) { return false; });
  EXPECT_FALSE(unhealthy);
  EXPECT_EQ(pool.idle_count("a"), 0u);
  EXPECT_EQ(pool.discarded_unhealthy(), 1u);
}

}  // namespace
}  // namespace outpost::test::pg
