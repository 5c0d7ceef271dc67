// Schedules and retry fields over HTTP on an in-process hub (hub-v2.md §4):
// status codes, errors naming the field, the list's next_run_at and
// last_job_id, DELETE.
#include "integration/hub_fixture.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;

TEST_F(HubTest, SchedulesAreCreatedListedFiredAndDeletedOverHttp) {
  start_hub();
  const auto source = create_source();
  auto r = admin().post(
      "/api/v1/admin/schedules",
      Json{{"source_id", source}, {"type", "test_connection"}, {"every_ms", 1000}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  const std::string id = json(r).value("id", "");
  auto cron = admin().post("/api/v1/admin/schedules", Json{{"source_id", source},
                                                           {"type", "metadata"},
                                                           {"cron", "0 3 * * *"},
                                                           {"timezone", "Europe/Paris"}}
                                                          .dump());
  ASSERT_EQ(cron.status, 201) << cron.body;
  // The every_ms schedule fires by itself (the hub's scheduler timer).
  Json listed;
  ASSERT_TRUE(eventually(
      [&] {
        listed = json(admin().get("/api/v1/admin/schedules"));
        return listed.is_array() && listed.size() == 2 && !listed[0]["last_job_id"].is_null();
      },
      20s))
      << listed.dump();
  EXPECT_EQ(listed[0]["id"], id);
  EXPECT_FALSE(listed[0]["next_run_at"].is_null());
  EXPECT_EQ(listed[1]["cron"], "0 3 * * *");
  EXPECT_TRUE(listed[1]["last_job_id"].is_null());
  const auto job =
      json(admin().get("/api/v1/admin/jobs/" + listed[0]["last_job_id"].get<std::string>()));
  EXPECT_EQ(job["type"], "test_connection");
  EXPECT_EQ(job["source_id"], source);
  EXPECT_EQ(admin().request("DELETE", "/api/v1/admin/schedules/" + id).status, 204);
  EXPECT_EQ(admin().request("DELETE", "/api/v1/admin/schedules/" + id).status, 404);
  EXPECT_EQ(json(admin().get("/api/v1/admin/schedules")).size(), 1u);
  EXPECT_EQ(admin().request("PUT", "/api/v1/admin/schedules").status, 405);
}

TEST_F(HubTest, BadSchedulesAndRetryFieldsGet400NamingTheField) {
  start_hub();
  const auto source = create_source();
  const std::pair<Json, std::string> cases[] = {
      {{{"source_id", "src_404"}, {"type", "metadata"}, {"every_ms", 5000}}, "source_id"},
      {{{"source_id", source}, {"type", "metadata"}, {"every_ms", 10}}, "every_ms"},
      {{{"source_id", source}, {"type", "metadata"}, {"cron", "61 * * * *"}}, "cron"},
      {{{"source_id", source},
        {"type", "metadata"},
        {"cron", "0 3 * * *"},
        {"timezone", "Moon/Base"}},
       "timezone"},
      {{{"source_id", source}, {"type", "metadata"}}, "every_ms"},
      {{{"source_id", source}, {"every_ms", 5000}}, "type"},
  };
  for (const auto& [body, field] : cases) {
    auto r = admin().post("/api/v1/admin/schedules", body.dump());
    EXPECT_EQ(r.status, 400) << body.dump() << " → " << r.body;
    EXPECT_NE(json(r)["error"].value("message", "").find(field), std::string::npos) << r.body;
  }
  for (const auto& [extra, field] : std::vector<std::pair<Json, std::string>>{
           {{{"max_attempts", 0}}, "max_attempts"},
           {{{"retry_backoff_ms", -5}}, "retry_backoff_ms"}}) {
    Json body{{"source_id", source}, {"type", "query"}, {"params", {{"sql", "SELECT 1"}}}};
    body.update(extra);
    auto r = admin().post("/api/v1/admin/jobs", body.dump());
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(json(r)["error"].value("message", "").find(field), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace outpost::test
