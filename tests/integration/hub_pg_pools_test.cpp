// Pools across outpost-hub processes on one PostgreSQL store: a Test
// connection held open on one hub is answered when the agent's result
// arrives through the other, and a token of another pool never sees the job.
#include <future>

#include "hub_pg_support.hpp"

namespace outpost::test::pgstore {
namespace {

HttpResponse admin_call(HttpTestClient& admin, const std::string& method, const std::string& target,
                        const Json& body) {
  return admin.request(method, "/api/v1/admin" + target, body.is_null() ? "" : body.dump(),
                       {{"Content-Type", "application/json"}}, 90s);
}

TEST(HubPgPoolsTest, ATestHeldOnOneHubIsAnsweredByAResultTakenOnTheOther) {
  StoreEnv env;
  HubProcess a(env), b(env);
  ASSERT_TRUE(a.wait_started()) << a.output();
  ASSERT_TRUE(b.wait_started()) << b.output();
  auto admin_a = a.admin(), admin_b = b.admin();
  auto pool = admin_call(*admin_a, "POST", "/pools", {{"name", "vpc-1"}});
  ASSERT_EQ(pool.status, 201) << pool.body;
  const std::string pool_id = parse(pool).value("id", "");
  // Pools are in the store: the other hub sees the new one at once.
  auto listed = parse(admin_call(*admin_b, "GET", "/pools", nullptr));
  ASSERT_EQ(listed.size(), 2u) << listed.dump();
  EXPECT_EQ(listed[1].value("id", ""), pool_id);

  auto tok = admin_call(*admin_a, "POST", "/tokens", {{"name", "vpc-agent"}, {"pool_id", pool_id}});
  ASSERT_EQ(tok.status, 201) << tok.body;
  const std::string token = parse(tok).value("token", "");
  const std::string other_token = create_token(*admin_a);  // pool_default
  auto src = admin_call(*admin_b, "POST", "/sources",
                        {{"name", "orders"},
                         {"type", "postgres"},
                         {"pool_id", pool_id},
                         {"config", {{"host", "10.0.0.7"}, {"password", "literal-pw-71"}}}});
  ASSERT_EQ(src.status, 201) << src.body;
  const std::string source_id = parse(src).value("id", "");

  auto agent = b.client(token);
  ASSERT_EQ(claim(*agent, "inst-vpc", 1, 0).status, 200);  // online in its pool
  auto test = std::async(std::launch::async, [&] {
    auto admin = a.admin();
    return admin_call(*admin, "POST", "/sources/" + source_id + "/test", {{"wait_ms", 60000}});
  });
  // The job waits in vpc-1: a default-pool agent gets nothing.
  auto other = b.client(other_token);
  Json jobs;
  ASSERT_TRUE(eventually(
      [&] { return env.count("SELECT count(*) FROM jobs WHERE type = 'test_connection'") == 1; },
      30s));
  EXPECT_TRUE(parse(claim(*other, "inst-default", 4, 0)).value("jobs", Json::array()).empty());
  jobs = parse(claim(*agent, "inst-vpc", 1, 10000)).value("jobs", Json::array());
  ASSERT_EQ(jobs.size(), 1u) << jobs.dump();
  EXPECT_EQ(jobs[0].value("type", ""), "test_connection");
  EXPECT_EQ(jobs[0]["source"]["config"].value("password", ""), "literal-pw-71");
  auto res = post_result(*agent, jobs[0]["id"], jobs[0]["lease"]["token"]);
  ASSERT_EQ(res.status, 200) << res.body;

  auto answer = test.get();
  ASSERT_EQ(answer.status, 200) << answer.body;
  const Json job = parse(answer);
  EXPECT_EQ(job.value("status", ""), "succeeded");
  EXPECT_EQ(job.value("pool_id", ""), pool_id);
  EXPECT_EQ(answer.body.find("literal-pw-71"), std::string::npos);
  EXPECT_EQ(a.output().find("literal-pw-71"), std::string::npos);
  EXPECT_EQ(b.output().find("literal-pw-71"), std::string::npos);
}

}  // namespace
}  // namespace outpost::test::pgstore
