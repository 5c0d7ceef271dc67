// Schedules in the rules (hub-v2.md §4) with a manual clock: validation
// naming the field, every_ms and cron firing, one job after an outage, the
// jobs routed like POST /v1/admin/jobs with a source_id.
#include "service_fixture.hpp"
#include "util.hpp"

namespace outpost::hub::testing {
namespace {

using namespace std::chrono_literals;

class ScheduleTest : public ServiceFixture {
 protected:
  std::string add_schedule(Json extra) {
    Json body{
        {"source_id", source_id_}, {"type", "metadata"}, {"params", {{"schemas", {"public"}}}}};
    body.update(extra);
    auto a = service_->create_schedule(body);
    EXPECT_EQ(a.kind, Answer::Kind::kCreated) << a.body.dump();
    return a.body.value("id", "");
  }

  std::string error_of(Json body) {
    try {
      auto a = service_->create_schedule(body);
      return a.kind == Answer::Kind::kCreated ? "" : a.body.dump();
    } catch (const BadRequest& e) {
      return e.code + ": " + e.message;
    }
  }

  Json schedule(const std::string& id) {
    for (const auto& s : service_->list_schedules().body) {
      if (s["id"] == id) return s;
    }
    return nullptr;
  }

  std::size_t job_count() { return service_->list_jobs("").body["jobs"].size(); }
};

TEST_F(ScheduleTest, EveryMsFiresOncePerDueTime) {
  const auto t0 = clock_->now();
  const auto id = add_schedule({{"every_ms", 60'000}});
  auto s = schedule(id);
  EXPECT_EQ(s["next_run_at"], rfc3339(t0 + 60s));
  EXPECT_TRUE(s["last_job_id"].is_null());
  EXPECT_EQ(s["every_ms"], 60'000);
  EXPECT_TRUE(s["cron"].is_null());
  clock_->advance(59'999ms);
  EXPECT_EQ(service_->run_scheduler(), 0u);
  clock_->advance(1ms);
  EXPECT_EQ(service_->run_scheduler(), 1u);
  EXPECT_EQ(service_->run_scheduler(), 0u);  // the same due time never twice
  s = schedule(id);
  EXPECT_EQ(s["next_run_at"], rfc3339(t0 + 120s));
  const std::string job_id = s["last_job_id"];
  auto j = job(job_id);
  EXPECT_EQ(j["type"], "metadata");
  EXPECT_EQ(j["source_id"], source_id_);
  EXPECT_EQ(j["pool_id"], "pool_default");
  EXPECT_EQ(j["status"], "scheduled");
  // The job carries the source as POST /v1/admin/jobs would: claimable.
  auto leased = claim_now();
  ASSERT_EQ(leased.size(), 1u);
  EXPECT_EQ(leased[0]["source"]["id"], source_id_);
  EXPECT_EQ(leased[0]["params"], (Json{{"schemas", {"public"}}}));
}

TEST_F(ScheduleTest, DueTimesMissedWhileDownMakeOneJob) {
  const auto t0 = clock_->now();
  const auto every = add_schedule({{"every_ms", 60'000}});
  const auto cron = add_schedule({{"cron", "*/5 * * * *"}, {"timezone", "Europe/Paris"}});
  clock_->advance(1h + 30s);  // 60 and 12 due times missed
  EXPECT_EQ(service_->run_scheduler(), 2u);
  EXPECT_EQ(job_count(), 2u);
  EXPECT_EQ(service_->run_scheduler(), 0u);
  // every_ms keeps its phase: the next point of its grid after now.
  EXPECT_EQ(schedule(every)["next_run_at"], rfc3339(t0 + 61min));
  const auto next_cron = parse_rfc3339(schedule(cron)["next_run_at"].get<std::string>());
  ASSERT_TRUE(next_cron);
  EXPECT_GT(*next_cron, clock_->now());
  EXPECT_LE(*next_cron, clock_->now() + 5min);
}

TEST_F(ScheduleTest, CronFollowsTheTimeZone) {
  // 1'800'000'000'000 ms is 2027-01-15T08:00:00Z: 09:00 in Paris (winter).
  const auto id = add_schedule({{"cron", "0 3 * * *"}, {"timezone", "Europe/Paris"}});
  EXPECT_EQ(schedule(id)["next_run_at"], "2027-01-16T02:00:00.000Z");
  EXPECT_EQ(schedule(id)["timezone"], "Europe/Paris");
  const auto utc = add_schedule({{"cron", "0 3 * * *"}});
  EXPECT_EQ(schedule(utc)["next_run_at"], "2027-01-16T03:00:00.000Z");
  EXPECT_EQ(schedule(utc)["timezone"], "UTC");
  clock_->set(*parse_rfc3339("2027-01-16T02:00:00Z"));
  EXPECT_EQ(service_->run_scheduler(), 1u);
  EXPECT_EQ(schedule(id)["next_run_at"], "2027-01-17T02:00:00.000Z");
  EXPECT_FALSE(schedule(id)["last_job_id"].is_null());
  EXPECT_TRUE(schedule(utc)["last_job_id"].is_null());
}

TEST_F(ScheduleTest, BadSchedulesAreRefusedNamingTheField) {
  const Json base{{"source_id", source_id_}, {"type", "metadata"}};
  auto with = [&](Json extra) {
    Json b = base;
    b.update(extra);
    return b;
  };
  EXPECT_NE(error_of(base).find("exactly one of 'every_ms'"), std::string::npos);
  EXPECT_NE(error_of(with({{"every_ms", 1000}, {"cron", "* * * * *"}})).find("exactly one"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"every_ms", 999}})).find("field 'every_ms' must be between 1000"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"cron", "0 25 * * *"}})).find("cron: hour field: 25 is out of range"),
            std::string::npos);
  EXPECT_NE(error_of(with({{"cron", "0 3 * * *"}, {"timezone", "Europe/Atlantis"}}))
                .find("timezone: 'Europe/Atlantis'"),
            std::string::npos);
  EXPECT_NE(
      error_of(with({{"every_ms", 5000}, {"timezone", "Nowhere/Land"}})).find("field 'timezone'"),
      std::string::npos);
  EXPECT_NE(error_of(with({{"cron", "0 0 30 2 *"}})).find("matches no date"), std::string::npos);
  Json unknown = with({{"every_ms", 5000}});
  unknown["source_id"] = "src_404";
  EXPECT_EQ(error_of(unknown), "invalid_field: field 'source_id': no source with id 'src_404'");
  Json no_type = with({{"every_ms", 5000}});
  no_type.erase("type");
  EXPECT_NE(error_of(no_type).find("field 'type'"), std::string::npos);
  EXPECT_EQ(service_->list_schedules().body.size(), 0u);
}

TEST_F(ScheduleTest, DeletedAndCancelledSchedulesFireNoMore) {
  const auto a = add_schedule({{"every_ms", 1000}});
  const auto b = add_schedule({{"every_ms", 1000}});
  EXPECT_EQ(service_->delete_schedule(a).kind, Answer::Kind::kNoContent);
  EXPECT_EQ(service_->delete_schedule(a).kind, Answer::Kind::kNotFound);
  EXPECT_TRUE(schedule(a).is_null());
  // What deleting the source does (DELETE /v1/admin/sources/{id}).
  EXPECT_EQ(store_->cancel_schedules_for_source(source_id_), 1u);
  auto s = schedule(b);
  EXPECT_EQ(s["status"], "cancelled");
  EXPECT_TRUE(s["next_run_at"].is_null());
  clock_->advance(1h);
  EXPECT_EQ(service_->run_scheduler(), 0u);
  EXPECT_EQ(job_count(), 0u);
}

}  // namespace
}  // namespace outpost::hub::testing
