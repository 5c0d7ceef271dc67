// outpost-hub processes on one PostgreSQL store (hub-v2.md §1): claims split
// over two hubs, a long poll on one hub woken by a job created on the other,
// kill -9 of a hub, the store stopped and restarted, hubs starting together,
// a token revoked on one hub refused by the other.
#include <csignal>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "hub_pg_support.hpp"

namespace outpost::test::pgstore {
namespace {

// An agent's loop over a list of hubs: claims, posts parts and results, and
// moves to the next hub when one stops answering or answers 503 (the way
// agents behind a load balancer retry).
class Worker {
 public:
  Worker(std::vector<std::uint16_t> ports, std::string token, std::string instance)
      : ports_(std::move(ports)), token_(std::move(token)), instance_(std::move(instance)) {}

  // Runs until `done()`, or gives up after five minutes so that a job that
  // never finishes fails the test's checks instead of hanging it; `parts`
  // result parts of one row each per job.
  void run(const std::function<bool()>& done, std::uint64_t parts,
           std::map<std::string, int>& accepted, std::mutex& mu, std::atomic<int>& unavailable) {
    const auto give_up = std::chrono::steady_clock::now() + 300s;
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      auto r = call([&](HttpTestClient& c) { return claim(c, instance_, 2, 200); }, unavailable);
      for (const auto& job : parse(r).value("jobs", Json::array())) {
        const std::string id = job["id"];
        const std::string lease = job["lease"]["token"];
        for (std::uint64_t p = 0; p < parts; ++p) {
          call(
              [&](HttpTestClient& c) {
                return put_part(c, id, lease, p, "[" + std::to_string(p) + "]\n");
              },
              unavailable);
        }
        auto res =
            call([&](HttpTestClient& c) { return post_result(c, id, lease, parts); }, unavailable);
        const auto body = parse(res);
        std::lock_guard lock(mu);
        // A job is done for the worker once a result call answers 200; only a
        // first acceptance counts (a duplicate is the idempotent replay of a
        // result whose answer was lost, e.g. when its hub was killed).
        if (res.status == 200) accepted[id] += body.value("duplicate", false) ? 0 : 1;
      }
    }
  }

 private:
  template <typename Fn>
  HttpResponse call(Fn&& fn, std::atomic<int>& unavailable) {
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    for (;;) {
      try {
        if (!client_) {
          client_ = std::make_unique<HttpTestClient>("127.0.0.1", ports_[current_]);
          client_->set_header("Authorization", "Bearer " + token_);
        }
        auto r = fn(*client_);
        if (r.status != 503) return r;
        ++unavailable;
      } catch (const std::exception&) {
        client_.reset();
        current_ = (current_ + 1) % ports_.size();  // that hub is gone: the next one
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("no hub answered");
      std::this_thread::sleep_for(50ms);  // back off as an agent does
    }
  }

  std::vector<std::uint16_t> ports_;
  std::size_t current_ = 0;
  std::string token_, instance_;
  std::unique_ptr<HttpTestClient> client_;
};

TEST(HubPgClusterTest, EightClaimersOnTwoHubsGetEachOfAThousandJobsOnce) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin_a = a.admin(), admin_b = b.admin();
  const auto token = create_token(*admin_a);
  constexpr int kJobs = 1000;
  for (int i = 0; i < kJobs; ++i) create_job(i % 2 == 0 ? *admin_a : *admin_b);

  std::mutex mu;
  std::map<std::string, int> accepted;
  std::atomic<int> unavailable{0};
  auto done = [&] {
    std::lock_guard lock(mu);
    return accepted.size() >= static_cast<std::size_t>(kJobs);
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      Worker w({t % 2 == 0 ? a.port() : b.port()}, token, "inst-" + std::to_string(t));
      w.run(done, 0, accepted, mu, unavailable);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(accepted.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, n] : accepted) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs WHERE status = 'succeeded' AND attempt = 1"),
            kJobs);
  EXPECT_EQ(env.count("SELECT count(*) FROM job_attempts"), kJobs);  // each handed out once
  // Both hubs did part of the work.
  EXPECT_GT(env.count("SELECT count(DISTINCT agent_instance) FROM jobs"), 1);
}

TEST(HubPgClusterTest, ALongPollOnOneHubIsWokenByAJobCreatedOnTheOther) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin_a = a.admin(), admin_b = b.admin();
  const auto token = create_token(*admin_a);
  std::vector<double> latencies;
  for (int i = 0; i < 20; ++i) {
    const std::string instance = "poller-" + std::to_string(i);
    std::promise<std::pair<HttpResponse, std::chrono::steady_clock::time_point>> answered;
    std::thread poller([&] {
      auto agent = b.client(token);
      auto r = claim(*agent, instance, 1, 20'000);
      answered.set_value({r, std::chrono::steady_clock::now()});
    });
    // The claim reached hub B once B recorded the instance (before it waits).
    const bool arrived = eventually(
        [&] {
          return admin_b->get("/api/v1/admin/agents").body.find(instance) != std::string::npos;
        },
        10s);
    const auto t0 = std::chrono::steady_clock::now();
    const auto job_id = arrived ? create_job(*admin_a) : std::string();
    auto fut = answered.get_future();
    const auto [response, t1] = fut.get();
    poller.join();
    ASSERT_TRUE(arrived);
    ASSERT_EQ(response.status, 200) << response.body;
    const auto jobs = parse(response).value("jobs", Json::array());
    ASSERT_EQ(jobs.size(), 1u) << "the poll ended without the job: " << response.body;
    EXPECT_EQ(jobs[0]["id"], job_id);
    const double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    EXPECT_LT(ms, 5000.0);  // far below the 20 s wait: it was woken, not timed out
    latencies.push_back(ms);
  }
  std::cout << "[ figures  ] long poll on hub B woken by a job created on hub A: p50 "
            << percentile(latencies, 50) << " ms, p99 " << percentile(latencies, 99) << " ms, max "
            << percentile(latencies, 100) << " ms (20 runs)\n";
}

TEST(HubPgClusterTest, ATokenRevokedOnOneHubIsRefusedByTheOtherAtOnce) {
  // Every hub checks the token in the store on every call: a revocation on
  // one hub holds on all of them from its 204 on.
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin_a = a.admin();
  auto r = admin_a->post("/api/v1/admin/tokens", Json{{"name", "revoked-agent"}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = parse(r).value("id", "");
  const auto token = parse(r).value("token", "");
  auto agent_a = a.client(token), agent_b = b.client(token);
  for (int i = 0; i < 3; ++i) {  // both hubs have served the token
    ASSERT_EQ(claim(*agent_a, "inst-a", 1, 0).status, 200);
    ASSERT_EQ(claim(*agent_b, "inst-b", 1, 0).status, 200);
  }
  ASSERT_EQ(admin_a->request("DELETE", "/api/v1/admin/tokens/" + id).status, 204);
  EXPECT_EQ(claim(*agent_b, "inst-b", 1, 0).status, 401);
  EXPECT_EQ(claim(*agent_a, "inst-a", 1, 0).status, 401);
}

TEST(HubPgClusterTest, KillNineOfAHubLosesNothingAndAcceptsNoResultTwice) {
  StoreEnv env;
  // Short leases so that A's expire soon after the kill; attempts to spare so
  // that a lease lapsing on a loaded machine does not end a job `agent_lost`.
  const std::vector<std::string> flags{"--lease-ttl", "3s", "--max-attempts", "20"};
  auto a = std::make_unique<HubProcess>(env, flags);
  HubProcess b(env, flags);
  ASSERT_TRUE(a->wait_started()) << a->output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin_b = b.admin();
  const auto token = create_token(*admin_b);
  constexpr int kJobs = 200;
  for (int i = 0; i < kJobs; ++i) create_job(*admin_b);

  std::mutex mu;
  std::map<std::string, int> accepted;
  std::atomic<int> unavailable{0};
  auto finished = [&] {
    std::lock_guard lock(mu);
    return accepted.size();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      // Start on hub A; when it dies, go on through hub B.
      Worker w({a->port(), b.port()}, token, "inst-" + std::to_string(t));
      w.run([&] { return finished() >= kJobs; }, 2, accepted, mu, unavailable);
    });
  }
  ASSERT_TRUE(eventually([&] { return finished() >= 40; }, 60s));
  a->process().signal(SIGKILL);
  ASSERT_TRUE(a->process().wait(10s).has_value());
  for (auto& t : threads) t.join();  // the rest through B (leases lost with A expire in 3 s)

  a = std::make_unique<HubProcess>(env, flags);
  ASSERT_TRUE(a->wait_started()) << a->output();
  EXPECT_EQ(finished(), static_cast<std::size_t>(kJobs));
  // 0 for a result the killed hub committed but could not answer (the retry
  // through B was a duplicate): never more than one acceptance.
  for (const auto& [id, n] : accepted) EXPECT_LE(n, 1) << id << " accepted " << n << " times";
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs WHERE status = 'succeeded' AND part_count = 2"),
            kJobs);
  EXPECT_EQ(env.count("SELECT count(*) FROM job_parts"), 2 * kJobs);
  // The restarted hub serves what the killed one accepted.
  auto view = a->admin()->get("/api/v1/admin/jobs/job_1");
  ASSERT_EQ(view.status, 200) << view.body;
  EXPECT_EQ(parse(view)["status"], "succeeded");
}

TEST(HubPgClusterTest, StoreStoppedAndRestartedGives503ThenEveryJobFinishes) {
  StoreEnv env;
  HubProcess hub(env);
  ASSERT_TRUE(hub.wait_started()) << hub.output();
  auto admin = hub.admin();
  const auto token = create_token(*admin);
  constexpr int kJobs = 100;
  for (int i = 0; i < kJobs; ++i) create_job(*admin);
  std::mutex mu;
  std::map<std::string, int> accepted;
  std::atomic<int> unavailable{0};
  auto finished = [&] {
    std::lock_guard lock(mu);
    return accepted.size();
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      Worker w({hub.port()}, token, "inst-" + std::to_string(t));
      w.run([&] { return finished() >= kJobs; }, 1, accepted, mu, unavailable);
    });
  }
  ASSERT_TRUE(eventually([&] { return finished() >= 20; }, 60s));
  StoreEnv::stop_server();
  auto probe = hub.client();
  EXPECT_TRUE(eventually([&] { return probe->get("/readyz").status == 503; }, 10s));
  EXPECT_EQ(probe->get("/healthz").status, 200);  // alive, only not ready
  auto down = admin->get("/api/v1/admin/jobs/job_1");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(parse(down)["error"]["code"], "store_unavailable") << down.body;
  EXPECT_EQ(down.body.find(env.password()), std::string::npos);
  StoreEnv::start_server();
  EXPECT_TRUE(eventually([&] { return probe->get("/readyz").status == 200; }, 30s));
  for (auto& t : threads) t.join();
  EXPECT_GT(unavailable.load(), 0);  // the agents did see the outage
  EXPECT_EQ(finished(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, n] : accepted) EXPECT_EQ(n, 1) << id;
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs WHERE status = 'succeeded'"), kJobs);
  EXPECT_EQ(hub.output().find(env.password()), std::string::npos);
}

TEST(HubPgClusterTest, TwoHubsStartingTogetherOnAnEmptyDatabaseMigrateOnce) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  const int migrated = (a.output().find("\"store schema migrated\"") != std::string::npos) +
                       (b.output().find("\"store schema migrated\"") != std::string::npos);
  EXPECT_EQ(migrated, 1) << a.output() << b.output();
  EXPECT_EQ(env.count("SELECT count(*) FROM schema_migrations"),
            env.count("SELECT max(version) FROM schema_migrations"));
  // `outpost-hub migrate` finds nothing to do and exits 0.
  Process::Options mo;
  mo.args = {hub_binary(),       "migrate", "--store", env.url(), "--store-password-file",
             env.password_file()};
  Process m(std::move(mo));
  const auto status = m.wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 0) << m.stdout_text() << m.stderr_text();
  EXPECT_NE(m.stdout_text().find("up to date"), std::string::npos) << m.stdout_text();
  for (const auto& out : {a.output(), b.output(), m.stdout_text() + m.stderr_text()}) {
    EXPECT_EQ(out.find(env.password()), std::string::npos);
  }
}

TEST(HubPgClusterTest, AnUnreachableStoreAtStartExitsOneWithOneClearLine) {
  StoreEnv env;
  const auto url = "postgres://nobody@127.0.0.1:" + std::to_string(free_port()) + "/none";
  Process::Options o;
  o.args = {hub_binary(),        "--listen", "127.0.0.1:0", "--admin-token",
            kAdminToken,         "--store",  url,           "--store-password-file",
            env.password_file(), "--retain", "168h"};
  Process hub(std::move(o));
  const auto status = hub.wait(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 1) << hub.stdout_text() << hub.stderr_text();
  EXPECT_NE(hub.stderr_text().find("store unavailable"), std::string::npos) << hub.stderr_text();
  EXPECT_EQ((hub.stdout_text() + hub.stderr_text()).find(env.password()), std::string::npos);
}

}  // namespace
}  // namespace outpost::test::pgstore
