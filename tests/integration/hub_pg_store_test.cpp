// The PostgreSQL JobStore in process against a throwaway cluster: URL and
// password handling, migrations, exclusive claims across two stores,
// NOTIFY wake-ups, leases across a reopen, outages, a 5,000,000-row result.
#include <gtest/gtest.h>

#include <condition_variable>
#include <cstring>
#include <future>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "hub_pg_support.hpp"
#include "store/postgres/postgres_store.hpp"

namespace outpost::test::pgstore {
namespace {

using hub::JobStore;
using hub::StoreConfig;
using hub::SystemTime;

SystemTime now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

StoreConfig config(const StoreEnv& env) {
  StoreConfig c;
  c.url = env.url();
  c.password = env.password();
  c.connections = 4;
  return c;
}

std::uint64_t vm_kib(const char* key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(key)) return std::stoull(line.substr(std::strlen(key)));
  }
  return 0;
}

hub::NewJob query_job() {
  hub::NewJob j;
  j.type = "query";
  j.source = Json{{"ref", "warehouse"}};
  j.params = Json{{"sql", "SELECT 1"}};
  return j;
}

TEST(HubPgStoreTest, RefusesAPasswordInTheUrlWithoutRepeatingIt) {
  for (const char* url : {"postgres://hub:S3cretPW@127.0.0.1:5432/hub",
                          "postgresql://hub@127.0.0.1:5432/hub?password=S3cretPW"}) {
    StoreConfig c;
    c.url = url;
    try {
      (void)hub::postgres::open_postgres_store(c);
      FAIL() << "accepted " << url;
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()).find("S3cretPW"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("--store-password-file"), std::string::npos);
    }
  }
}

TEST(HubPgStoreTest, UnreachableOrWrongPasswordIsStoreUnavailableWithoutThePassword) {
  StoreEnv env;
  StoreConfig wrong = config(env);
  wrong.password = "Wrong-Password-123";
  StoreConfig closed;
  closed.url = "postgres://hub@127.0.0.1:" + std::to_string(free_port()) + "/hub";
  closed.password = "Wrong-Password-123";
  for (const auto& c : {wrong, closed}) {
    try {
      (void)hub::postgres::open_postgres_store(c);
      FAIL() << "opened " << c.url;
    } catch (const hub::StoreUnavailable& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find("Wrong-Password-123"), std::string::npos) << what;
      EXPECT_NE(what.find("127.0.0.1"), std::string::npos) << what;
    }
  }
}

TEST(HubPgStoreTest, ConcurrentMigrationsApplyEachVersionOnce) {
  StoreEnv env;
  std::vector<std::future<void>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(std::async(std::launch::async,
                              [&] { hub::postgres::migrate_postgres_store(config(env)); }));
  }
  for (auto& r : runs) EXPECT_NO_THROW(r.get());
  EXPECT_EQ(env.count("SELECT count(*) FROM schema_migrations"),
            env.count("SELECT max(version) FROM schema_migrations"));
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs"), 0);
  auto store = hub::postgres::open_postgres_store(config(env));  // finds nothing to do
  store->ping();
}

TEST(HubPgStoreTest, TwoStoresHandOutEachJobExactlyOnce) {
  StoreEnv env;
  auto a = hub::postgres::open_postgres_store(config(env));
  auto b = hub::postgres::open_postgres_store(config(env));
  constexpr int kJobs = 1000;
  for (int i = 0; i < kJobs; ++i) (i % 2 == 0 ? a : b)->create_job(query_job(), now_ms());
  std::mutex mu;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      JobStore& store = t % 2 == 0 ? *a : *b;
      hub::ClaimRequest req;
      req.instance_id = "inst-" + std::to_string(t);
      req.max_jobs = 3;
      for (;;) {
        req.now = now_ms();
        auto jobs = store.claim(req);
        if (jobs.empty()) return;
        std::lock_guard lock(mu);
        for (const auto& j : jobs) claimed.insert(j.id);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<std::size_t>(kJobs));
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs WHERE status = 'running' AND attempt = 1"), kJobs);
}

TEST(HubPgStoreTest, AJobCreatedThroughOneStoreWakesAnother) {
  StoreEnv env;
  auto a = hub::postgres::open_postgres_store(config(env));
  auto b = hub::postgres::open_postgres_store(config(env));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::chrono::steady_clock::time_point>> heard;
  b->on_jobs_available([&](const std::string& pool) {
    std::lock_guard lock(mu);
    heard.emplace_back(pool, std::chrono::steady_clock::now());
    cv.notify_all();
  });
  auto wait_for = [&](const std::string& pool, std::size_t from) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] {
      for (std::size_t i = from; i < heard.size(); ++i) {
        if (heard[i].first == pool) return true;
      }
      return false;
    });
  };
  ASSERT_TRUE(wait_for("", 0)) << "the listener never connected";  // fired on (re)connect
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    std::size_t from;
    {
      std::lock_guard lock(mu);
      from = heard.size();
    }
    const auto t0 = std::chrono::steady_clock::now();
    a->create_job(query_job(), now_ms());
    ASSERT_TRUE(wait_for("pool_default", from));
    std::lock_guard lock(mu);
    for (std::size_t k = from; k < heard.size(); ++k) {
      if (heard[k].first == "pool_default") {
        ms.push_back(std::chrono::duration<double, std::milli>(heard[k].second - t0).count());
        break;
      }
    }
  }
  std::cout << "[ figures  ] NOTIFY wake-up across stores (create → callback): p50 "
            << percentile(ms, 50) << " ms, p99 " << percentile(ms, 99) << " ms, max "
            << percentile(ms, 100) << " ms\n";
}

TEST(HubPgStoreTest, LeasesKeepTheirExpiryAcrossAReopen) {
  StoreEnv env;
  const auto t0 = now_ms();
  hub::JobRecord claimed;
  {
    auto a = hub::postgres::open_postgres_store(config(env));
    a->create_job(query_job(), t0);
    hub::ClaimRequest req;
    req.instance_id = "inst-1";
    req.lease_ttl = 30s;
    req.now = t0;
    auto jobs = a->claim(req);
    ASSERT_EQ(jobs.size(), 1u);
    claimed = jobs[0];
  }
  auto b = hub::postgres::open_postgres_store(config(env));
  auto job = b->get_job(claimed.id);
  ASSERT_TRUE(job && job->lease);
  EXPECT_EQ(job->lease->token, claimed.lease->token);
  EXPECT_EQ(job->lease->expires_at, t0 + 30s);
  EXPECT_EQ(b->next_lease_expiry(), t0 + 30s);
  EXPECT_TRUE(b->expire_leases(t0 + 29s, 3, 100).empty());
  auto expired = b->expire_leases(t0 + 30s, 3, 100);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].new_status, hub::JobStatus::kScheduled);
  EXPECT_EQ(expired[0].instance_id, "inst-1");
  EXPECT_EQ(b->get_job(claimed.id)->attempts.at(0).status, "expired");
}

TEST(HubPgStoreTest, AnInstanceSeenAgainWithinASecondIsNotRewritten) {
  // Every claim records its agent instance: one that changes nothing but
  // last_seen, less than a second after the stored one, writes no row version.
  StoreEnv env;
  auto store = hub::postgres::open_postgres_store(config(env));
  const auto t0 = now_ms();
  hub::InstanceUpdate u;
  u.instance_id = "inst-1";
  u.token_id = "tok_1";
  u.pool_id = std::string(hub::kDefaultPool);
  u.capacity = 4;
  store->upsert_instance(u, t0);
  const auto version_of_row = [&] {
    return env.query("SELECT xmin::text FROM agent_instances WHERE instance_id = 'inst-1'");
  };
  const auto stored = version_of_row();
  hub::InstanceUpdate claim_touch;
  claim_touch.instance_id = "inst-1";
  claim_touch.token_id = "tok_1";
  claim_touch.pool_id = std::string(hub::kDefaultPool);
  auto seen = store->upsert_instance(claim_touch, t0 + 900ms);
  EXPECT_EQ(seen.last_seen, t0);
  EXPECT_EQ(seen.capacity, 4);
  EXPECT_EQ(version_of_row(), stored);

  seen = store->upsert_instance(claim_touch, t0 + 1500ms);  // a second later: written
  EXPECT_EQ(seen.last_seen, t0 + 1500ms);
  EXPECT_NE(version_of_row(), stored);

  claim_touch.reported_running = 2;  // a heartbeat's figures are always written
  seen = store->upsert_instance(claim_touch, t0 + 1600ms);
  EXPECT_EQ(seen.last_seen, t0 + 1600ms);
  EXPECT_EQ(seen.reported_running, 2);
  claim_touch.reported_running.reset();
  claim_touch.token_id = "tok_2";  // another token: written at once
  seen = store->upsert_instance(claim_touch, t0 + 1700ms);
  EXPECT_EQ(seen.token_id, "tok_2");
  EXPECT_EQ(seen.last_seen, t0 + 1700ms);
}

TEST(HubPgStoreTest, AnOutageIsStoreUnavailableAndTheStoreRecoversByItself) {
  StoreEnv env;
  auto store = hub::postgres::open_postgres_store(config(env));
  std::atomic<int> reconnects{0};
  store->on_jobs_available([&](const std::string& pool) {
    if (pool.empty()) ++reconnects;
  });
  store->create_job(query_job(), now_ms());
  StoreEnv::stop_server();
  EXPECT_THROW(store->ping(), hub::StoreUnavailable);
  EXPECT_THROW(store->create_job(query_job(), now_ms()), hub::StoreUnavailable);
  EXPECT_THROW((void)store->get_job("job_1"), hub::StoreUnavailable);
  const int before = reconnects.load();
  StoreEnv::start_server();
  EXPECT_TRUE(eventually(
      [&] {
        try {
          store->ping();
          return true;
        } catch (const hub::StoreUnavailable&) {
          return false;
        }
      },
      30s));
  EXPECT_EQ(store->create_job(query_job(), now_ms()).status, hub::JobStatus::kScheduled);
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs"), 2);
  // The LISTEN connection came back too and said so ("" = re-try everything).
  EXPECT_TRUE(eventually([&] { return reconnects.load() > before; }, 30s));
}

TEST(HubPgStoreTest, FiveMillionRowsAreWrittenAndReadBackInBoundedMemory) {
  StoreEnv env;
  auto store = hub::postgres::open_postgres_store(config(env));
  const auto job = store->create_job(query_job(), now_ms());
  hub::ClaimRequest req;
  req.instance_id = "inst-1";
  req.now = now_ms();
  auto leased = store->claim(req);
  ASSERT_EQ(leased.size(), 1u);
  const std::string lease = leased[0].lease->token;
  constexpr std::uint64_t kParts = 500, kRowsPerPart = 10'000;
  const auto hwm_before = vm_kib("VmHWM:");
  for (std::uint64_t p = 0; p < kParts; ++p) {
    std::string part;
    for (std::uint64_t r = 0; r < kRowsPerPart; ++r) {
      part += "[" + std::to_string(p * kRowsPerPart + r) + ",\"abcdefghijklmnopqrstuvwx\"]\n";
    }
    ASSERT_EQ(store->put_part(job.id, lease, p, std::move(part)).kind,
              hub::PartOutcome::Kind::kAccepted);
  }
  hub::FinishRequest fin;
  fin.job_id = job.id;
  fin.lease_token = lease;
  fin.parts = kParts;
  fin.finished_at = fin.now = now_ms();
  ASSERT_EQ(store->finish(fin).kind, hub::FinishOutcome::Kind::kAccepted);

  std::uint64_t lines = 0, bytes = 0;
  bool in_order = true;
  const auto t0 = std::chrono::steady_clock::now();
  auto n = store->read_rows(job.id, 0, kParts * kRowsPerPart, [&](std::string_view line) {
    if (lines % 999'983 == 0) {
      in_order = in_order && line.starts_with("[" + std::to_string(lines) + ",");
    }
    ++lines;
    bytes += line.size() + 1;
    return true;
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, kParts * kRowsPerPart);
  EXPECT_EQ(lines, kParts * kRowsPerPart);
  EXPECT_TRUE(in_order);
  const auto growth_mib = static_cast<double>(vm_kib("VmHWM:") - hwm_before) / 1024.0;
  std::cout << "[ figures  ] 5,000,000 rows (" << bytes / (1024 * 1024) << " MiB) read back in "
            << secs << " s; peak RSS growth over write + read " << growth_mib << " MiB\n";
  EXPECT_LT(growth_mib, 64.0);  // the result itself is ~170 MiB

  // An offset in the middle of a part, across a part boundary.
  std::vector<std::string> got;
  store->read_rows(job.id, 2'509'998, 4, [&](std::string_view line) {
    got.emplace_back(line);
    return true;
  });
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(got[0].starts_with("[2509998,"));
  EXPECT_TRUE(got[3].starts_with("[2510001,"));
}

}  // namespace
}  // namespace outpost::test::pgstore
