// PostgreSQL connector: what cancelling does on the server (the statement
// really stops, via the cancel hook's PQcancel, and the session is not
// pooled). That a cancel or deadline ends a job with the right code is in
// the conformance suite (integration/conformance/).
#include <gtest/gtest.h>

#include <thread>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

bool sleep_is_running() {
  return server().query_column(
             "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
             "AND query LIKE '%SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()")[0] == "1";
}

// Runs pg_sleep(30) and cancels it with `reason` once the server shows it running.
void expect_stopped_on_the_server(CancelReason reason, ErrorCode expected) {
  PostgresConnector connector;
  CollectingSink sink;
  AllowingNetworkGuard guard;
  CancelToken cancel;
  const auto job = make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT pg_sleep(30)"}});
  bool seen_running = false;
  std::thread canceller([&] {
    seen_running = eventually(sleep_is_running, 20s);
    cancel.cancel(reason);
  });
  const auto r = run(connector, job, sink, guard, cancel);
  canceller.join();
  ASSERT_TRUE(seen_running) << "pg_sleep never showed up in pg_stat_activity";
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, expected) << error_text(r);
  // The server really stopped the statement (it was not just abandoned).
  EXPECT_TRUE(eventually([] { return !sleep_is_running(); }, 20s));
  EXPECT_EQ(connector.pool().idle_count(), 0u) << "a cancelled session is never pooled";
}

TEST(PostgresCancel, CancelStopsTheStatementOnTheServer) {
  expect_stopped_on_the_server(CancelReason::kRequested, ErrorCode::kCancelled);
}

TEST(PostgresCancel, StatementTimeoutComesFromTheJobTimeout) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto job = make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT pg_sleep(30)"}},
                            "job_t", 1, 1000ms);
  const auto start = Clock::now();
  // No runtime here to cancel at the deadline: the server's statement_timeout must.
  const auto r = run(connector, job, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kTimeout) << error_text(r);
  EXPECT_NE(r.error->message.find("statement timeout"), std::string::npos) << r.error->message;
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(PostgresCancel, CancelDuringARowStreamStopsTheStream) {
  PostgresConnector connector;
  AllowingNetworkGuard guard;
  CancelToken cancel;
  std::uint64_t rows = 0;
  CollectingSink sink(CollectingSink::Options{false, std::nullopt, &cancel, [&](std::string_view) {
                                                if (++rows == 1000)
                                                  cancel.cancel(CancelReason::kRequested);
                                              }});
  const auto r =
      run(connector,
          make_job(JobType::kQuery, reader_config(),
                   {{"sql", "SELECT i, repeat('x', 100) FROM generate_series(1, 5000000) i"}}),
          sink, guard, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kCancelled) << error_text(r);
  EXPECT_EQ(sink.count(), 1000u);
}

}  // namespace
}  // namespace outpost::test::pg
