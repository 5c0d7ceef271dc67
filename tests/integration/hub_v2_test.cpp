// hub-v2.md §2 and §5 over HTTP: health, readiness and metrics without a
// token, job paging, NDJSON rows streamed in chunks, and a store outage
// answered with 503 and recovered from. The outage uses a store that
// forwards to the memory store and can be switched off, which also runs the
// hub's store thread pool (the path a PostgreSQL store takes).
#include <algorithm>
#include <atomic>
#include <sstream>
#include <thread>

#include "integration/hub_fixture.hpp"
#include "store/memory_store.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using hub::JobStore;

/// A JobStore that can be taken down: every call then throws StoreUnavailable.
class SwitchableStore final : public JobStore {
 public:
  std::atomic<bool> down{false};

#define FORWARD(ret, name, params, args) \
  ret name params override {             \
    check();                             \
    return inner_.name args;             \
  }
  FORWARD(hub::TokenRecord, create_token, (const hub::NewToken& t, hub::SystemTime n), (t, n))
  FORWARD(bool, revoke_token, (const std::string& id), (id))
  FORWARD(std::optional<hub::TokenRecord>, find_token_by_hash, (std::string_view h), (h))
  FORWARD(std::vector<hub::TokenRecord>, list_tokens, (), ())
  FORWARD(void, touch_token, (const std::string& id, hub::SystemTime n), (id, n))
  FORWARD(hub::SourceRecord, create_source, (const hub::NewSource& s, hub::SystemTime n), (s, n))
  FORWARD(std::optional<hub::SourceRecord>, get_source, (const std::string& id), (id))
  FORWARD(std::vector<hub::SourceRecord>, list_sources, (), ())
  FORWARD(std::optional<hub::SourceRecord>, update_source,
          (const std::string& id, const hub::SourcePatch& p), (id, p))
  FORWARD(std::optional<std::size_t>, delete_source, (const std::string& id, hub::SystemTime n),
          (id, n))
  FORWARD(std::optional<hub::PoolRecord>, create_pool, (const std::string& nm, hub::SystemTime n),
          (nm, n))
  FORWARD(std::optional<hub::PoolRecord>, get_pool, (const std::string& id), (id))
  FORWARD(std::vector<hub::PoolRecord>, list_pools, (), ())
  FORWARD(hub::JobRecord, create_failed_job,
          (const hub::NewJob& j, const hub::Json& e, hub::SystemTime n), (j, e, n))
  FORWARD(hub::InstanceRecord, upsert_instance, (const hub::InstanceUpdate& u, hub::SystemTime n),
          (u, n))
  FORWARD(std::vector<hub::InstanceRecord>, list_instances, (), ())
  FORWARD(std::size_t, purge_instances_before, (hub::SystemTime c), (c))
  FORWARD(std::uint64_t, agents_online, (const std::string& p, hub::SystemTime s), (p, s))
  FORWARD(hub::JobRecord, create_job, (const hub::NewJob& j, hub::SystemTime n), (j, n))
  FORWARD(std::optional<hub::JobRecord>, get_job, (const std::string& id), (id))
  FORWARD(hub::JobPage, list_jobs,
          (const hub::JobFilter& f, std::size_t l, std::optional<std::uint64_t> b), (f, l, b))
  FORWARD(std::vector<hub::JobRecord>, claim, (const hub::ClaimRequest& r), (r))
  FORWARD(hub::RenewOutcome, renew,
          (const std::string& id, std::string_view t, std::chrono::milliseconds ttl,
           hub::SystemTime n, std::optional<hub::Json> p),
          (id, t, ttl, n, std::move(p)))
  FORWARD(hub::PartOutcome, put_part,
          (const std::string& id, std::string_view t, std::uint64_t s, std::string nd),
          (id, t, s, std::move(nd)))
  FORWARD(hub::FinishOutcome, finish, (const hub::FinishRequest& r), (r))
  FORWARD(hub::ReleaseOutcome, release,
          (const std::string& id, std::string_view t, hub::SystemTime n), (id, t, n))
  FORWARD(hub::CancelOutcome, cancel, (const std::string& id, hub::SystemTime n), (id, n))
  FORWARD(std::vector<hub::ExpiredLease>, expire_leases, (hub::SystemTime n, int m, std::size_t b),
          (n, m, b))
  FORWARD(std::optional<hub::SystemTime>, next_lease_expiry, (), ())
  FORWARD(bool, read_parts, (const std::string& id, const hub::PartSink& s), (id, s))
  FORWARD(std::optional<std::uint64_t>, read_rows,
          (const std::string& id, std::uint64_t o, std::uint64_t l, const hub::LineSink& s),
          (id, o, l, s))
  FORWARD(std::size_t, purge_finished_before, (hub::SystemTime c, std::size_t b), (c, b))
  FORWARD(void, ping, (), ())
  FORWARD(hub::StoreCounts, counts, (hub::SystemTime s), (s))
  FORWARD(std::vector<std::string>, retries_due, (hub::SystemTime a, hub::SystemTime n), (a, n))
  FORWARD(std::optional<hub::SystemTime>, next_retry_at, (hub::SystemTime n), (n))
  FORWARD(hub::ScheduleRecord, create_schedule, (const hub::NewSchedule& s, hub::SystemTime n),
          (s, n))
  FORWARD(std::vector<hub::ScheduleRecord>, list_schedules, (), ())
  FORWARD(bool, delete_schedule, (const std::string& id), (id))
  FORWARD(std::size_t, cancel_schedules_for_source, (const std::string& id), (id))
  FORWARD(std::vector<hub::ScheduleRecord>, due_schedules, (hub::SystemTime n, std::size_t l),
          (n, l))
  FORWARD(std::optional<hub::JobRecord>, fire_schedule,
          (const std::string& id, hub::SystemTime d, hub::SystemTime x, const hub::NewJob& j,
           hub::SystemTime n),
          (id, d, x, j, n))
  FORWARD(std::optional<hub::SystemTime>, next_schedule_at, (), ())
#undef FORWARD
  void on_jobs_available(hub::JobsAvailable cb) override {
    inner_.on_jobs_available(std::move(cb));
  }

 private:
  void check() const {
    if (down) throw hub::StoreUnavailable("connection to the store lost (test)");
  }
  hub::MemoryStore inner_;
};

std::size_t count_lines(const std::string& body) {
  return static_cast<std::size_t>(std::count(body.begin(), body.end(), '\n'));
}

TEST_F(HubTest, HealthReadinessAndMetricsNeedNoToken) {
  start_hub();
  auto c = client();
  EXPECT_EQ(c->get("/healthz").status, 200);
  auto ready = c->get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  create_job(create_source());
  auto m = c->get("/metrics");
  ASSERT_EQ(m.status, 200);
  for (const char* series :
       {"outpost_hub_queue_depth{pool=\"pool_default\"} 1",
        "outpost_hub_jobs{status=\"scheduled\"} 1",
        "outpost_hub_agents_online{pool=\"pool_default\"} 0", "outpost_hub_claims_total",
        "outpost_hub_job_wait_seconds", "outpost_hub_store_errors_total 0",
        "outpost_hub_http_requests_total{code=\"201\",route=\"/api/v1/admin/jobs\"} 1"}) {
    EXPECT_NE(m.body.find(series), std::string::npos) << series << "\n" << m.body;
  }
  EXPECT_EQ(c->request("POST", "/metrics").status, 405);
}

TEST_F(HubTest, AdminJobListPagesNewestFirstWithACursor) {
  start_hub();
  const auto source = create_source();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create_job(source));
  std::vector<std::string> seen;
  std::string target = "/api/v1/admin/jobs?limit=2&source_id=" + source;
  for (int page = 0; page < 5; ++page) {
    auto r = admin().get(target);
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = json(r);
    for (const auto& job : j["jobs"]) {
      EXPECT_FALSE(job.contains("rows"));
      seen.push_back(job["id"]);
    }
    if (j["next_cursor"].is_null()) break;
    target = "/api/v1/admin/jobs?limit=2&source_id=" + source +
             "&cursor=" + j["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(seen, (std::vector<std::string>(ids.rbegin(), ids.rend())));
  EXPECT_EQ(json(admin().get("/api/v1/admin/jobs?status=scheduled"))["jobs"].size(), 5u);
  EXPECT_EQ(json(admin().get("/api/v1/admin/jobs?pool_id=pool_x"))["jobs"].size(), 0u);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs?limit=0").status, 400);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs?limit=1001").status, 400);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs?status=finished").status, 400);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs?cursor=nonsense").status, 400);
}

TEST_F(HubTest, RowsAreStreamedAsNdjsonFromTheStoredParts) {
  start_hub();
  auto agent = client(create_token());
  const auto id = create_job(create_source());
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  const std::string lease = jobs[0]["lease"]["token"];
  // 3 parts of 20,000 rows: more than one 256 KiB window of the stream.
  constexpr int kPerPart = 20'000;
  for (int p = 0; p < 3; ++p) {
    std::ostringstream part;
    for (int i = 0; i < kPerPart; ++i) part << "[" << p * kPerPart + i << ",\"row\"]\n";
    auto r = agent->request("PUT", "/api/v1/agent/jobs/" + id + "/parts/" + std::to_string(p),
                            part.str(), {{"X-Lease-Token", lease}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  ASSERT_EQ(
      post_result(*agent, id, lease, {{"parts", 3}, {"result", {{"row_count", 60000}}}}).status,
      200);
  auto all = admin().get("/api/v1/admin/jobs/" + id + "/rows");
  ASSERT_EQ(all.status, 200);
  EXPECT_EQ(count_lines(all.body), 60'000u);
  auto window = admin().get("/api/v1/admin/jobs/" + id + "/rows?offset=19999&limit=3");
  ASSERT_EQ(window.status, 200);
  EXPECT_EQ(window.body, "[19999,\"row\"]\n[20000,\"row\"]\n[20001,\"row\"]\n");
  bool ndjson = false;
  for (const auto& [name, value] : window.headers) {
    if (name == "Content-Type" && value == "application/x-ndjson") ndjson = true;
  }
  EXPECT_TRUE(ndjson);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs/" + id + "/rows?offset=60000").body, "");
  EXPECT_EQ(admin().get("/api/v1/admin/jobs/job_nope/rows").status, 404);
  EXPECT_EQ(admin().get("/api/v1/admin/jobs/" + id + "/rows?offset=-1").status, 400);
  EXPECT_EQ(agent->get("/api/v1/admin/jobs/" + id + "/rows").status, 403);
}

TEST_F(HubTest, AStoreOutageAnswers503AndTheHubRecovers) {
  auto store = std::make_shared<SwitchableStore>();
  start_hub([&](hub::HubOptions& o) { o.store_instance = store; });
  const std::string token = create_token();
  auto agent = client(token);
  const auto source = create_source();
  store->down = true;
  auto r =
      admin().post("/api/v1/admin/jobs", Json{{"source_id", source}, {"type", "query"}}.dump());
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json(r)["error"]["code"], "store_unavailable");
  EXPECT_EQ(claim_raw(*agent, "i-1", 1, 0).status, 503);
  EXPECT_EQ(client()->get("/readyz").status, 503);
  EXPECT_EQ(client()->get("/healthz").status, 200);  // the process is alive
  store->down = false;
  EXPECT_EQ(client()->get("/readyz").status, 200);
  const auto id = create_job(source);
  auto jobs = claim(*agent, "i-1", 1);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(post_result(*agent, id, jobs[0]["lease"]["token"]).status, 200);
  EXPECT_EQ(get_job(id)["status"], "succeeded");
  auto m = client()->get("/metrics").body;
  EXPECT_EQ(m.find("outpost_hub_store_errors_total 0"), std::string::npos) << m;
}

TEST_F(HubTest, ALongPollOnAThreadPoolStoreIsWokenByANewJob) {
  auto store = std::make_shared<SwitchableStore>();
  start_hub([&](hub::HubOptions& o) { o.store_instance = store; });
  auto agent = client(create_token());
  const auto source = create_source();
  std::thread creator([&] {
    ASSERT_TRUE(eventually([&] { return hub_->stats().waiters == 1; }, std::chrono::seconds(5)));
    create_job(source);
  });
  auto jobs = claim(*agent, "i-1", 1, 30'000);
  creator.join();
  EXPECT_EQ(jobs.size(), 1u);
}

}  // namespace
}  // namespace outpost::test
