// The agent's runtime in process against the hub's core on 127.0.0.1:0:
// claim -> lease -> result -> shutdown, and a throw injected into each of
// the agent's spawned activities (job run, lease keeper, claim loop,
// heartbeat loop, part upload). Everything runs in this process, so the
// tsan stage sees the worker pool, canceller and compressor threads.

#include "runtime/agent.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "integration/hub_fixture.hpp"
#include "outpost/connector.hpp"
#include "sqlite/sqlite_connector.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

/// Counts to knob.n: instant for a small n, until cancelled for a huge one
/// (SQLite evaluates the subquery once; sqlite3_interrupt stops it).
constexpr const char* kCountSql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < (SELECT n FROM "
    "knob)) SELECT count(*) AS n FROM c";
constexpr const char* kManyRowsSql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) "
    "SELECT x, 'row number ' || x AS label FROM c";

/// A throw for a fault point: the first `times` calls throw, later ones pass.
struct Trap {
  std::atomic<int> left;
  explicit Trap(int times = 1) : left(times) {}
  void spring(const char* where) {
    if (left.fetch_sub(1) > 0) throw std::runtime_error(std::string("injected fault in ") + where);
  }
  [[nodiscard]] bool sprung() const { return left.load() <= 0; }
};

class AgentRuntime : public HubTest {
 protected:
  static constexpr auto kLeaseTtl = 2000ms;

  void SetUp() override {
    start_hub([](hub::HubOptions& o) {
      o.store.lease_ttl = kLeaseTtl;
      o.store.heartbeat_interval = 200ms;
      o.store.poll_wait = 1s;
      o.store.max_part_bytes = 4096;
    });
    make_db(dir_.path() / "data.db", 1000);
    source_ = sqlite_source("data.db");
  }

  void TearDown() override {
    stop_agent();
    HubTest::TearDown();
  }

  static void make_db(const std::filesystem::path& path, long long knob) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "CREATE TABLE knob(n INTEGER); INSERT INTO knob VALUES (" + std::to_string(knob) + ");";
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK);
  }

  std::string sqlite_source(const std::string& file) {
    auto r = admin().post("/api/v1/admin/sources",
                          Json{{"name", file},
                               {"type", "sqlite"},
                               {"config", {{"path", (dir_.path() / file).string()}}}}
                              .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json(r).value("id", "");
  }

  /// A source whose count runs until it is cancelled.
  std::string endless_source() {
    make_db(dir_.path() / "endless.db", 100'000'000'000LL);
    return sqlite_source("endless.db");
  }

  std::string submit(const std::string& source, const std::string& sql = kCountSql) {
    return create_job(source, "query", Json{{"sql", sql}});
  }

  /// Waits until the job is final (or in `status`); returns its view.
  Json wait_status(const std::string& id, const std::set<std::string>& statuses,
                   std::chrono::milliseconds timeout = 30s) {
    Json last;
    const bool done = eventually(
        [&] {
          last = get_job(id);
          return statuses.count(last.value("status", "")) != 0;
        },
        timeout);
    EXPECT_TRUE(done) << "job " << id << " never reached the expected status: " << last.dump();
    return last;
  }
  Json wait_final(const std::string& id) {
    return wait_status(id, {"succeeded", "failed", "cancelled"});
  }

  void start_agent(runtime::FaultPoints faults = {},
                   const std::function<void(config::AgentConfig&)>& tweak = {}) {
    config::AgentConfig c;
    c.url = "http://127.0.0.1:" + std::to_string(port()) + "/api";
    c.token = create_token();
    c.health_addr = "127.0.0.1:0";
    c.max_concurrency = 1;
    c.max_concurrency_set = true;
    c.sqlite_dirs = {dir_.path().string()};
    c.backoff = config::BackoffStrategy::kFallback;
    c.backoff_cap = 1s;
    c.health_interval = 1s;
    c.shutdown_grace = 10s;
    if (tweak) tweak(c);
    connectors::sqlite::register_connector(registry_);
    agent_ = std::make_unique<runtime::Agent>(c, registry_, agent_io_, std::move(faults));
    agent_->start();
    std::promise<int> exited;
    exit_ = exited.get_future();
    agent_thread_ = std::thread([this, done = std::move(exited)]() mutable {
      agent_io_.run();
      done.set_value(agent_->finish());
    });
  }

  /// The agent's exit status once its io_context returned; nullopt if it is
  /// still running after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (!exit_.valid()) return exit_code_;
    if (exit_.wait_for(timeout) != std::future_status::ready) return std::nullopt;
    if (agent_thread_.joinable()) agent_thread_.join();
    exit_code_ = exit_.get();
    return exit_code_;
  }

  /// Like SIGTERM.
  void stop() {
    boost::asio::post(agent_io_, [this] { agent_->stop("SIGTERM"); });
  }

  void stop_agent() {
    if (!agent_thread_.joinable()) return;
    stop();
    if (!wait_exit(30s)) {
      ADD_FAILURE() << "the agent did not stop within 30 s";
      agent_io_.stop();
      agent_thread_.join();
    }
  }

  /// A second job on the one slot succeeds: the first one let go of it.
  void expect_slot_free() {
    const auto next = wait_final(submit(source_));
    EXPECT_EQ(next.value("status", ""), "succeeded") << next.dump();
  }

  TempDir dir_;
  std::string source_;
  ConnectorRegistry registry_;
  boost::asio::io_context agent_io_{1};
  std::unique_ptr<runtime::Agent> agent_;
  std::thread agent_thread_;
  std::future<int> exit_;
  std::optional<int> exit_code_;
  // Members, not test locals: the agent may call its hooks until TearDown.
  Trap trap_;
  std::atomic<int> calls_{0};
};

TEST_F(AgentRuntime, ClaimLeaseResultAndCleanShutdown) {
  start_agent();
  const auto view = wait_final(submit(source_));
  ASSERT_EQ(view.value("status", ""), "succeeded") << view.dump();
  EXPECT_EQ(view.value("attempt", 0), 1);
  ASSERT_EQ(view["rows"].size(), 1u) << view.dump();
  EXPECT_EQ(view["rows"][0][0], 1000);

  // Rows beyond one part (4 KiB here) arrive as parts and are reassembled.
  const auto big = wait_final(submit(source_, kManyRowsSql));
  ASSERT_EQ(big.value("status", ""), "succeeded") << big.dump().substr(0, 2000);
  EXPECT_EQ(big["rows"].size(), 2000u);

  stop();
  EXPECT_EQ(wait_exit(30s), std::optional<int>(0));
}

TEST_F(AgentRuntime, LeaseIsRenewedWhileALongJobRunsAndCancelFreesTheSlot) {
  start_agent();
  const auto id = submit(endless_source());
  ASSERT_EQ(wait_status(id, {"running"}).value("status", ""), "running");
  // Three lease TTLs: without renewals the hub would hand the job out again
  // (attempt 2) or fail it. This samples a window on purpose.
  std::this_thread::sleep_for(3 * kLeaseTtl);
  const auto during = get_job(id);
  EXPECT_EQ(during.value("status", ""), "running") << during.dump();
  EXPECT_EQ(during.value("attempt", 0), 1) << during.dump();

  EXPECT_EQ(admin().post("/api/v1/admin/jobs/" + id + "/cancel", "").status, 202);
  EXPECT_EQ(wait_final(id).value("status", ""), "cancelled");
  expect_slot_free();
}

TEST_F(AgentRuntime, ShutdownReleasesWhatOutlivesTheGrace) {
  start_agent({}, [](config::AgentConfig& c) { c.shutdown_grace = 300ms; });
  const auto id = submit(endless_source());
  ASSERT_EQ(wait_status(id, {"running"}).value("status", ""), "running");
  stop();
  EXPECT_EQ(wait_exit(30s), std::optional<int>(0));
  // Released: claimable again at once, not failed.
  const auto view = wait_status(id, {"scheduled"});
  EXPECT_EQ(view.value("status", ""), "scheduled") << view.dump();
}

TEST_F(AgentRuntime, ThrowInJobRunFailsTheJobAsInternal) {
  runtime::FaultPoints faults;
  faults.job_run = [this](std::string_view) { trap_.spring("job run"); };
  start_agent(std::move(faults));
  const auto view = wait_final(submit(source_));
  EXPECT_TRUE(trap_.sprung());
  EXPECT_EQ(view.value("status", ""), "failed") << view.dump();
  EXPECT_EQ(view["error"].value("code", ""), "internal") << view.dump();
  expect_slot_free();
}

TEST_F(AgentRuntime, ThrowInLeaseKeeperFailsTheJobInsteadOfRunningUnleased) {
  runtime::FaultPoints faults;
  faults.lease_keeper = [this](std::string_view) { trap_.spring("lease keeper"); };
  start_agent(std::move(faults));
  const auto view = wait_final(submit(endless_source()));
  EXPECT_TRUE(trap_.sprung());
  EXPECT_EQ(view.value("status", ""), "failed") << view.dump();
  EXPECT_EQ(view["error"].value("code", ""), "internal") << view.dump();
  EXPECT_EQ(view.value("attempt", 0), 1) << view.dump();
  expect_slot_free();
}

TEST_F(AgentRuntime, ThrowInPartUploadFailsTheJob) {
  runtime::FaultPoints faults;
  faults.part_upload = [this](std::string_view) { trap_.spring("part upload"); };
  start_agent(std::move(faults));
  const auto view = wait_final(submit(source_, kManyRowsSql));
  EXPECT_TRUE(trap_.sprung());
  EXPECT_EQ(view.value("status", ""), "failed") << view.dump().substr(0, 2000);
  EXPECT_EQ(view["error"].value("code", ""), "internal") << view.dump().substr(0, 2000);
  expect_slot_free();
}

TEST_F(AgentRuntime, ThrowInClaimLoopEndsTheAgent) {
  runtime::FaultPoints faults;
  // The first claim goes through (the agent is running); the second throws.
  faults.claim_loop = [this]() {
    if (calls_.fetch_add(1) >= 1) trap_.spring("claim loop");
  };
  start_agent(std::move(faults));
  EXPECT_EQ(wait_exit(30s), std::optional<int>(1));
  EXPECT_TRUE(trap_.sprung());
}

TEST_F(AgentRuntime, ThrowInHeartbeatLoopEndsTheAgentWithItsJob) {
  runtime::FaultPoints faults;
  faults.heartbeat_loop = [this]() { trap_.spring("heartbeat loop"); };
  start_agent(std::move(faults));
  const auto id = submit(endless_source());
  EXPECT_EQ(wait_exit(30s), std::optional<int>(1));
  EXPECT_TRUE(trap_.sprung());
  // The agent is gone, so its lease lapses: the job is not held for ever
  // (the hub re-queues it, or fails it once the attempts are used up).
  const auto view = wait_status(id, {"scheduled", "failed"});
  EXPECT_NE(view.value("status", ""), "running") << view.dump();
}

}  // namespace
}  // namespace outpost::test

namespace outpost::test {
namespace {

// Retries (hub-v2.md §4) with the real agent: a job timeout is a failure the
// agent marks retryable, so the hub runs the job again after its backoff
// until max_attempts; a bad statement is not retried.
TEST_F(AgentRuntime, ARetryableTimeoutRunsAgainUntilMaxAttempts) {
  start_agent();
  auto r = admin().post("/api/v1/admin/jobs", Json{{"source_id", endless_source()},
                                                   {"type", "query"},
                                                   {"params", {{"sql", kCountSql}}},
                                                   {"timeout_ms", 300},
                                                   {"max_attempts", 3},
                                                   {"retry_backoff_ms", 100}}
                                                  .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const auto view = wait_final(json(r).value("id", ""));
  ASSERT_EQ(view.value("status", ""), "failed") << view.dump();
  EXPECT_EQ(view.value("attempt", 0), 3);
  EXPECT_EQ(view["error"].value("retryable", false), true) << view.dump();
  ASSERT_EQ(view["attempts"].size(), 3u) << view.dump();
  for (const auto& a : view["attempts"]) {
    EXPECT_EQ(a.value("status", ""), "failed") << view.dump();
    EXPECT_EQ(a["error"].value("retryable", false), true) << view.dump();
  }

  const auto bad = wait_final(submit(source_, "SELEC nothing"));
  ASSERT_EQ(bad.value("status", ""), "failed") << bad.dump();
  EXPECT_EQ(bad["error"].value("retryable", true), false) << bad.dump();
  EXPECT_EQ(bad["attempts"].size(), 1u) << bad.dump();
  expect_slot_free();
}

}  // namespace
}  // namespace outpost::test

namespace outpost::test {
namespace {

// The monitors of jobs-v1.1 through the hub: the agent advertises them, the
// hub stores their results as any job's, and a bad one fails by name.
TEST_F(AgentRuntime, MonitorJobsRunThroughTheHub) {
  start_agent();
  const auto volume =
      wait_final(create_job(source_, "volume", Json{{"table", "knob"}, {"exact", true}}));
  ASSERT_EQ(volume.value("status", ""), "succeeded") << volume.dump();
  EXPECT_EQ(volume["result"]["row_count"], 1) << volume.dump();
  EXPECT_EQ(volume["result"]["exact"], true) << volume.dump();

  const auto fresh = wait_final(create_job(source_, "freshness", Json{{"table", "knob"}}));
  ASSERT_EQ(fresh.value("status", ""), "failed") << fresh.dump();
  EXPECT_EQ(fresh["error"].value("code", ""), "unsupported") << fresh.dump();

  const auto bad = wait_final(create_job(source_, "volume", Json{{"schema", "main"}}));
  ASSERT_EQ(bad.value("status", ""), "failed") << bad.dump();
  EXPECT_EQ(bad["error"].value("code", ""), "invalid_job") << bad.dump();
  EXPECT_NE(bad["error"].value("message", "").find("params.table"), std::string::npos);

  // jobs-v1.1 profile and query_log: stored and shown as any job type.
  const auto profile = wait_final(create_job(source_, "profile", Json{{"table", "knob"}}));
  ASSERT_EQ(profile.value("status", ""), "succeeded") << profile.dump();
  EXPECT_EQ(profile.value("type", ""), "profile") << profile.dump();
  EXPECT_EQ(profile["result"]["row_count"], 1) << profile.dump();
  EXPECT_EQ(profile["result"]["columns"][0]["name"], "n") << profile.dump();
  const auto log = wait_final(create_job(source_, "query_log", Json{{"limit", 10}}));
  ASSERT_EQ(log.value("status", ""), "failed") << log.dump();
  EXPECT_EQ(log.value("type", ""), "query_log") << log.dump();
  EXPECT_EQ(log["error"].value("code", ""), "unsupported") << log.dump();
  expect_slot_free();
}

}  // namespace
}  // namespace outpost::test
