// Schedules and retries of outpost-hub processes on one PostgreSQL store
// (hub-v2.md §4): two hubs fire each due time of a schedule exactly once; a
// due time missed while every hub was down makes one job on return; a
// retryable failure posted through the agent protocol runs again.
#include <csignal>
#include <set>

#include "hub_pg_support.hpp"

namespace outpost::test::pgstore {
namespace {

std::string create_source(HttpTestClient& admin) {
  auto r = admin.post(
      "/api/v1/admin/sources",
      Json{{"name", "wh"}, {"type", "postgres"}, {"config", {{"host", "db.internal"}}}}.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return parse(r).value("id", "");
}

std::string create_schedule(HttpTestClient& admin, const Json& body) {
  auto r = admin.post("/api/v1/admin/schedules", body.dump());
  EXPECT_EQ(r.status, 201) << r.body;
  return parse(r).value("id", "");
}

Json find_schedule(HttpTestClient& admin, const std::string& id) {
  for (const auto& s : parse(admin.get("/api/v1/admin/schedules"))) {
    if (s.value("id", "") == id) return s;
  }
  return nullptr;
}

/// The "due" of every "schedule fired" line in a hub's log.
std::vector<std::string> fired_due_times(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"schedule fired\"") == std::string::npos) continue;
    auto j = Json::parse(line, nullptr, false);
    if (j.is_object()) out.push_back(j.value("due", ""));
  }
  return out;
}

TEST(HubPgSchedulesTest, TwoHubsOnOneStoreMakeOneJobPerDueTime) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin = a.admin();
  const auto source = create_source(*admin);
  const auto id =
      create_schedule(*admin, {{"source_id", source}, {"type", "metadata"}, {"every_ms", 1000}});
  // Both hubs run their scheduler on the store; wait for six due times.
  ASSERT_TRUE(eventually(
      [&] {
        return env.count("SELECT count(*) FROM jobs WHERE source_id = '" + source + "'") >= 6;
      },
      60s));
  ASSERT_EQ(b.admin()->request("DELETE", "/api/v1/admin/schedules/" + id).status, 204);
  // A pass under way when the schedule went away has committed its job
  // before it logs it: wait for the logs to catch up with the store.
  const auto jobs = [&] {
    return env.count("SELECT count(*) FROM jobs WHERE source_id = '" + source + "'");
  };
  std::vector<std::string> all, from_b;
  eventually(
      [&] {
        all = fired_due_times(a.process().stdout_text());
        from_b = fired_due_times(b.process().stdout_text());
        all.insert(all.end(), from_b.begin(), from_b.end());
        return static_cast<std::int64_t>(all.size()) >= jobs();
      },
      10s);
  const std::set<std::string> distinct(all.begin(), all.end());
  EXPECT_EQ(distinct.size(), all.size()) << "a due time fired twice";
  EXPECT_EQ(static_cast<std::int64_t>(all.size()), jobs());
  std::cout << "[ figures  ] one schedule, every_ms 1000, two hubs: " << all.size()
            << " jobs, hub A fired " << all.size() - from_b.size() << ", hub B " << from_b.size()
            << "\n";
}

TEST(HubPgSchedulesTest, ADueTimeMissedWhileEveryHubWasDownMakesOneJob) {
  StoreEnv env;
  std::string source, id;
  {
    HubProcess a(env);
    ASSERT_TRUE(a.wait_started()) << a.output();
    auto admin = a.admin();
    source = create_source(*admin);
    id = create_schedule(*admin,
                         {{"source_id", source}, {"type", "metadata"}, {"every_ms", 3'600'000}});
    a.process().signal(SIGKILL);
    a.process().wait(10s);
  }
  // Five hourly due times pass while no hub runs.
  ASSERT_EQ(env.query("UPDATE schedules SET next_run_at = now() - interval '5 hours 30 minutes' "
                      "RETURNING id"),
            std::vector<std::string>{id});
  HubProcess b(env);
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin = b.admin();
  ASSERT_TRUE(eventually([&] { return !find_schedule(*admin, id)["last_job_id"].is_null(); }, 30s))
      << find_schedule(*admin, id).dump() << "\n"
      << b.output();
  const auto s = find_schedule(*admin, id);
  EXPECT_EQ(env.count("SELECT count(*) FROM jobs WHERE source_id = '" + source + "'"), 1);
  EXPECT_EQ(env.count("SELECT count(*) FROM schedules WHERE next_run_at > now() AND "
                      "next_run_at <= now() + interval '1 hour'"),
            1)
      << s.dump();
  EXPECT_EQ(fired_due_times(b.process().stdout_text()).size(), 1u);
}

TEST(HubPgSchedulesTest, ARetryableFailureRunsAgainUntilMaxAttempts) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin = a.admin();
  const auto token = create_token(*admin);
  auto r = admin->post("/api/v1/admin/jobs", Json{{"source", {{"ref", "warehouse"}}},
                                                  {"type", "query"},
                                                  {"params", {{"sql", "SELECT 1"}}},
                                                  {"max_attempts", 3},
                                                  {"retry_backoff_ms", 200}}
                                                 .dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = parse(r).value("id", "");
  std::vector<std::string> leases;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    // Claims alternate between the hubs: the retry is in the shared store.
    auto agent = (attempt % 2 == 1 ? a : b).client(token);
    Json jobs;
    ASSERT_TRUE(eventually(
        [&] {
          jobs = parse(claim(*agent, "i-" + std::to_string(attempt), 1, 5000))
                     .value("jobs", Json::array());
          return !jobs.empty();
        },
        30s));
    ASSERT_EQ(jobs[0]["id"], id);
    EXPECT_EQ(jobs[0]["attempt"], attempt);
    leases.push_back(jobs[0]["lease"]["token"]);
    Json failed{{"lease_token", leases.back()},
                {"status", "failed"},
                {"error", {{"code", "timeout"}, {"message", "slow"}, {"retryable", true}}}};
    auto res = agent->post("/api/v1/agent/jobs/" + id + "/result", failed.dump());
    ASSERT_EQ(res.status, 200) << res.body;
  }
  // Fencing: the first attempt's lease is stale.
  EXPECT_EQ(post_result(*a.client(token), id, leases[0]).status, 409);
  const auto job = parse(admin->get("/api/v1/admin/jobs/" + id));
  EXPECT_EQ(job["status"], "failed");
  ASSERT_EQ(job["attempts"].size(), 3u) << job.dump();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(job["attempts"][i]["attempt"], i + 1);
    EXPECT_EQ(job["attempts"][i]["status"], "failed");
    EXPECT_EQ(job["attempts"][i]["agent_instance"], "i-" + std::to_string(i + 1));
    EXPECT_EQ(job["attempts"][i]["error"]["code"], "timeout");
    EXPECT_FALSE(job["attempts"][i]["finished_at"].is_null());
  }
  // No fourth attempt.
  EXPECT_TRUE(parse(claim(*b.client(token), "i-4", 1, 1500)).value("jobs", Json::array()).empty());
}

}  // namespace
}  // namespace outpost::test::pgstore
