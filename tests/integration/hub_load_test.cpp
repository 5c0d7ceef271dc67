// The 10,000-job claim/result loop: several agent instances drain the queue
// through the real protocol; every job must succeed exactly once.
#include <atomic>
#include <iostream>
#include <mutex>
#include <set>
#include <thread>

#include "integration/hub_fixture.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

TEST_F(HubTest, TenThousandJobsEachSucceedExactlyOnce) {
  constexpr int kJobs = 10'000;
  constexpr int kAgents = 4;
  start_hub([](hub::HubOptions& o) { o.store.lease_ttl = 60s; });
  const auto src = create_source();
  const auto token = create_token("load");

  std::mutex mu;
  std::multiset<std::string> claimed;
  std::atomic<int> done{0};
  std::atomic<bool> failed{false};
  const auto give_up = std::chrono::steady_clock::now() + 5min;
  auto agent_loop = [&](int n) {
    HttpTestClient agent("127.0.0.1", port());
    agent.set_header("Authorization", "Bearer " + token);
    const std::string instance = "load-" + std::to_string(n);
    while (done.load() < kJobs && !failed.load()) {
      if (std::chrono::steady_clock::now() > give_up) {
        failed = true;
        ADD_FAILURE() << "the loop did not finish within 5 minutes; done: " << done.load();
        return;
      }
      auto r = claim_raw(agent, instance, 16, 200);
      if (r.status != 200) {
        failed = true;
        ADD_FAILURE() << "claim: " << r.status << " " << r.body;
        return;
      }
      const Json answer = Json::parse(r.body);
      for (const auto& job : answer["jobs"]) {
        {
          std::lock_guard lock(mu);
          claimed.insert(job["id"].get<std::string>());
        }
        auto res = post_result(agent, job["id"], job["lease"]["token"]);
        if (res.status != 200) {
          failed = true;
          ADD_FAILURE() << "result: " << res.status << " " << res.body;
          return;
        }
        ++done;
      }
    }
  };

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> agents;
  for (int i = 0; i < kAgents; ++i) agents.emplace_back(agent_loop, i);
  // Schedule while the agents are already polling, as in production.
  std::vector<std::string> ids;
  ids.reserve(kJobs);
  for (int i = 0; i < kJobs; ++i) ids.push_back(create_job(src));
  for (auto& t : agents) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (failed.load()) {
    auto s = hub_->stats();
    ADD_FAILURE() << "scheduled " << s.scheduled << " running " << s.running << " succeeded "
                  << s.succeeded << " waiters " << s.waiters << "\n"
                  << admin().get("/api/v1/admin/jobs?status=running").body.substr(0, 2000)
                  << admin().get("/api/v1/admin/jobs?status=scheduled").body.substr(0, 2000);
    return;
  }
  EXPECT_EQ(done.load(), kJobs);
  EXPECT_EQ(claimed.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<std::size_t>(kJobs))
      << "a job was handed out twice while its lease was live";
  auto stats = hub_->stats();
  EXPECT_EQ(stats.succeeded, static_cast<std::size_t>(kJobs));
  EXPECT_EQ(stats.scheduled + stats.running + stats.failed, 0u);
  EXPECT_EQ(get_job(ids.back())["attempt"], 1);
  std::cout << "[ hub load ] " << kJobs << " jobs (schedule + claim + result) in " << seconds
            << " s = " << static_cast<int>(kJobs / seconds) << " jobs/s with " << kAgents
            << " agents\n";
  RecordProperty("jobs_per_second", static_cast<int>(kJobs / seconds));
}

}  // namespace
}  // namespace outpost::test
