// Pools, routing, the source lifecycle and the synchronous Test connection
// in the hub's rules (HubService) on the memory store with a manual clock:
// no sleeping, no network; posted work runs when the test polls io_.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "service.hpp"
#include "store/memory_store.hpp"

namespace outpost::hub {
namespace {

using namespace std::chrono_literals;
using K = Answer::Kind;

constexpr const char* kPassword = "hunter2-literal";

class PoolsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions o;
    o.lease_ttl = 10s;
    service_ = std::make_shared<HubService>(io_.get_executor(), io_.get_executor(), store_, o,
                                            clock_, nullptr);
    service_->start();
    io_.poll();
  }
  void TearDown() override {
    service_->shutdown();
    io_.poll();
  }

  std::string make_pool(const std::string& name) {
    auto a = service_->create_pool(Json{{"name", name}});
    EXPECT_EQ(a.kind, K::kCreated) << a.body.dump();
    return a.body["id"].get<std::string>();
  }
  TokenRecord make_token(const std::string& pool) {
    Json body{{"name", "agent-" + pool}};
    if (!pool.empty()) body["pool_id"] = pool;
    auto a = service_->create_token(body);
    EXPECT_EQ(a.kind, K::kCreated) << a.body.dump();
    return *service_->authenticate_agent(a.body["token"].get<std::string>());
  }
  std::string make_source(const std::string& pool) {
    auto a = service_->create_source(
        Json{{"name", "wh"},
             {"type", "postgres"},
             {"pool_id", pool},
             {"config",
              {{"host", "db"}, {"user", "u"}, {"password", kPassword}, {"sslmode", "require"}}}});
    EXPECT_EQ(a.kind, K::kCreated) << a.body.dump();
    return a.body["id"].get<std::string>();
  }
  Json claim_now(const TokenRecord& token, const std::string& instance) {
    std::optional<Answer> out;
    ClaimReply reply;
    reply.send = [&out](Answer a) { out = std::move(a); };
    service_->claim(token, ClaimParams{instance, 50, 0}, std::move(reply));
    EXPECT_TRUE(out);
    return out ? out->body["jobs"] : Json::array();
  }
  static std::int64_t count_of(const Json& pools, const std::string& id, const char* field) {
    for (const auto& p : pools) {
      if (p["id"] == id) return p[field].get<std::int64_t>();
    }
    ADD_FAILURE() << "no pool " << id << " in " << pools.dump();
    return -1;
  }
  /// The Test connection's answer, once io_ has run what it posted.
  std::optional<Answer> test(const std::string& source_id, Json body) {
    std::optional<Answer> out;
    service_->test_source(source_id, body, [&out](Answer a) { out = std::move(a); });
    io_.poll();
    return out;
  }

  boost::asio::io_context io_;
  std::shared_ptr<ManualClock> clock_ =
      std::make_shared<ManualClock>(SystemTime(std::chrono::milliseconds(1'800'000'000'000)));
  std::shared_ptr<MemoryStore> store_ = std::make_shared<MemoryStore>();
  std::shared_ptr<HubService> service_;
};

TEST_F(PoolsServiceTest, PoolsAreListedWithAgentsOnlineAndQueueDepth) {
  auto list = service_->list_pools();
  ASSERT_EQ(list.kind, K::kOk);
  ASSERT_EQ(list.body.size(), 1u);
  EXPECT_EQ(list.body[0]["id"], "pool_default");
  EXPECT_EQ(list.body[0]["name"], "default");
  const auto eu = make_pool("eu-vpc");
  EXPECT_EQ(service_->create_pool(Json{{"name", "eu-vpc"}}).kind, K::kConflict);
  EXPECT_THROW(service_->create_pool(Json{{"name", ""}}), BadRequest);
  EXPECT_THROW(service_->create_pool(Json::object()), BadRequest);
  const auto token = make_token(eu);
  service_->connect(token, ConnectRequest{"i-eu", "1.0", "host", 4, Json::array()});
  service_->create_job(Json{{"type", "query"}, {"source", {{"ref", "a"}}}, {"pool_id", eu}});
  service_->create_job(Json{{"type", "query"}, {"source", {{"ref", "a"}}}, {"pool_id", eu}});
  service_->create_job(Json{{"type", "query"}, {"source", {{"ref", "a"}}}});
  list = service_->list_pools();
  ASSERT_EQ(list.body.size(), 2u);
  EXPECT_EQ(count_of(list.body, eu, "agents_online"), 1);
  EXPECT_EQ(count_of(list.body, eu, "queue_depth"), 2);
  EXPECT_EQ(count_of(list.body, "pool_default", "agents_online"), 0);
  EXPECT_EQ(count_of(list.body, "pool_default", "queue_depth"), 1);
  // An agent stops heartbeating: after three intervals it is offline.
  clock_->advance(31s);
  EXPECT_EQ(count_of(service_->list_pools().body, eu, "agents_online"), 0);
}

TEST_F(PoolsServiceTest, AnUnknownPoolIsA400NamingPoolId) {
  for (auto call :
       {+[](HubService& s) {
          s.create_token(Json{{"name", "a"}, {"pool_id", "pool_x"}});
        },
        +[](HubService& s) {
          s.create_source(Json{{"name", "a"},
                               {"type", "postgres"},
                               {"config", Json::object()},
                               {"pool_id", "pool_x"}});
        },
        +[](HubService& s) {
          s.create_job(Json{{"type", "query"}, {"source", {{"ref", "a"}}}, {"pool_id", "pool_x"}});
        }}) {
    try {
      call(*service_);
      ADD_FAILURE() << "accepted an unknown pool";
    } catch (const BadRequest& e) {
      EXPECT_NE(e.message.find("pool_id"), std::string::npos) << e.message;
    }
  }
}

TEST_F(PoolsServiceTest, TokensAreListedWithTheirPoolAndNeverTheirSecret) {
  const auto eu = make_pool("eu-vpc");
  auto created = service_->create_token(Json{{"name", "eu-agent"}, {"pool_id", eu}});
  const std::string secret = created.body["token"];
  make_token("");
  auto list = service_->list_tokens();
  ASSERT_EQ(list.body.size(), 2u);
  EXPECT_EQ(list.body[0]["name"], "eu-agent");
  EXPECT_EQ(list.body[0]["pool_id"], eu);
  EXPECT_EQ(list.body[1]["pool_id"], "pool_default");
  for (const auto& t : list.body) {
    for (const char* f : {"id", "name", "pool_id", "created_at", "last_used_at"}) {
      EXPECT_TRUE(t.contains(f)) << f;
    }
  }
  EXPECT_EQ(list.body.dump().find(secret), std::string::npos);
  EXPECT_EQ(list.body.dump().find(secret.substr(4, 16)), std::string::npos);
}

TEST_F(PoolsServiceTest, ClaimsFollowTheTokensPoolAndConnectNamesIt) {
  const auto eu = make_pool("eu-vpc");
  const auto eu_token = make_token(eu);
  const auto default_token = make_token("");
  auto hello = service_->connect(eu_token, ConnectRequest{"i-eu", "1.0", "h", 4, Json::array()});
  EXPECT_EQ(hello.body["pool"], "eu-vpc");
  EXPECT_EQ(service_->connect(default_token, ConnectRequest{"i-d", "1.0", "h", 4, Json::array()})
                .body["pool"],
            "default");
  const auto src = make_source(eu);
  std::set<std::string> eu_jobs, default_jobs;
  for (int i = 0; i < 10; ++i) {
    eu_jobs.insert(service_->create_job(Json{{"type", "query"}, {"source_id", src}}).body["id"]);
    default_jobs.insert(
        service_->create_job(Json{{"type", "query"}, {"source", {{"ref", "x"}}}}).body["id"]);
  }
  for (const auto& job : claim_now(default_token, "i-d")) {
    EXPECT_TRUE(default_jobs.count(job["id"])) << job.dump();
  }
  EXPECT_TRUE(claim_now(default_token, "i-d").empty());
  auto jobs = claim_now(eu_token, "i-eu");
  ASSERT_EQ(jobs.size(), 10u);
  for (const auto& job : jobs) {
    EXPECT_TRUE(eu_jobs.count(job["id"])) << job.dump();
    EXPECT_EQ(service_->get_job(job["id"]).body["pool_id"], eu);
  }
}

TEST_F(PoolsServiceTest, PatchKeepsMaskedValuesAndValidatesEveryField) {
  const auto src = make_source("pool_default");
  const auto eu = make_pool("eu-vpc");
  auto shown = service_->get_source(src).body;
  EXPECT_EQ(shown["config"]["password"], "********");
  Json config = shown["config"];
  config["host"] = "db2";
  auto patched =
      service_->update_source(src, Json{{"name", "dwh"}, {"config", config}, {"pool_id", eu}});
  ASSERT_EQ(patched.kind, K::kOk) << patched.body.dump();
  EXPECT_EQ(patched.body["name"], "dwh");
  EXPECT_EQ(patched.body["pool_id"], eu);
  EXPECT_EQ(patched.body["config"]["host"], "db2");
  EXPECT_EQ(patched.body["config"]["password"], "********");
  auto stored = store_->get_source(src);
  EXPECT_EQ(stored->config["password"], kPassword);  // kept, not "********"
  EXPECT_EQ(stored->config["host"], "db2");
  // A new literal replaces it; a removed key goes.
  service_->update_source(src, Json{{"config", {{"host", "db3"}, {"password", "n3w-pass"}}}});
  EXPECT_EQ(store_->get_source(src)->config, (Json{{"host", "db3"}, {"password", "n3w-pass"}}));

  auto bad = [&](Json body, const std::string& field) {
    try {
      service_->update_source(src, body);
      ADD_FAILURE() << "accepted " << body.dump();
    } catch (const BadRequest& e) {
      EXPECT_NE(e.message.find(field), std::string::npos) << e.message;
    }
  };
  bad(Json{{"type", "mysql"}}, "type");
  bad(Json{{"name", ""}}, "name");
  bad(Json{{"name", 7}}, "name");
  bad(Json{{"config", "x"}}, "config");
  bad(Json{{"pool_id", "pool_x"}}, "pool_id");
  bad(Json{{"config", {{"token", "********"}}}}, "config.token");  // nothing stored to keep
  bad(Json{{"config", {{"password", "x********"}}}}, "config.password");
  EXPECT_EQ(store_->get_source(src)->config["password"], "n3w-pass");
  EXPECT_EQ(service_->update_source("src_nope", Json{{"name", "a"}}).kind, K::kNotFound);
}

TEST_F(PoolsServiceTest, DeleteAnswers204AndCancelsTheQueuedJobs) {
  const auto src = make_source("pool_default");
  const auto job = service_->create_job(Json{{"type", "query"}, {"source_id", src}}).body["id"];
  EXPECT_EQ(service_->delete_source(src).kind, K::kNoContent);
  EXPECT_EQ(service_->get_source(src).kind, K::kNotFound);
  EXPECT_EQ(service_->get_job(job).body["status"], "cancelled");
  EXPECT_EQ(service_->delete_source(src).kind, K::kNotFound);
  EXPECT_EQ(service_->create_job(Json{{"type", "query"}, {"source_id", src}}).kind, K::kNotFound);
}

TEST_F(PoolsServiceTest, TestWithNoAgentOnlineFailsAtOnceWithNoAgent) {
  const auto eu = make_pool("eu-vpc");
  const auto src = make_source(eu);
  // An agent of another pool does not count.
  service_->connect(make_token(""), ConnectRequest{"i-d", "1.0", "h", 4, Json::array()});
  auto out = test(src, Json{{"wait_ms", 60000}});
  ASSERT_TRUE(out);
  ASSERT_EQ(out->kind, K::kOk);
  EXPECT_EQ(out->body["status"], "failed");
  EXPECT_EQ(out->body["type"], "test_connection");
  EXPECT_EQ(out->body["error"]["code"], "no_agent");
  EXPECT_EQ(out->body["pool_id"], eu);
  EXPECT_EQ(count_of(service_->list_pools().body, eu, "queue_depth"), 0);
}

TEST_F(PoolsServiceTest, TestAnswersWithTheFinishedJobWhenItsResultArrives) {
  const auto eu = make_pool("eu-vpc");
  const auto src = make_source(eu);
  const auto token = make_token(eu);
  service_->connect(token, ConnectRequest{"i-eu", "1.0", "h", 4, Json::array()});
  std::optional<Answer> out;
  service_->test_source(src, Json{{"wait_ms", 120000}}, [&out](Answer a) { out = std::move(a); });
  io_.poll();
  EXPECT_FALSE(out);  // waiting for the agent
  auto jobs = claim_now(token, "i-eu");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0]["type"], "test_connection");
  EXPECT_EQ(jobs[0]["source"]["config"]["password"], kPassword);  // the agent gets the real one
  Json body{{"lease_token", jobs[0]["lease"]["token"]},
            {"status", "succeeded"},
            {"result", {{"ok", true}, {"server_version", "16.4"}}}};
  ASSERT_EQ(service_->result(jobs[0]["id"], parse_result(body.dump())).kind, K::kOk);
  io_.poll();
  ASSERT_TRUE(out);
  ASSERT_EQ(out->kind, K::kOk);
  EXPECT_EQ(out->body["status"], "succeeded");
  EXPECT_EQ(out->body["result"]["ok"], true);
  EXPECT_EQ(out->body.dump().find(kPassword), std::string::npos);
}

TEST_F(PoolsServiceTest, TestAnswers202WhenTheWaitEndsAndRejectsABadWait) {
  const auto src = make_source("pool_default");
  service_->connect(make_token(""), ConnectRequest{"i-d", "1.0", "h", 4, Json::array()});
  auto out = test(src, Json{{"wait_ms", 0}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->kind, K::kAccepted);
  const std::string id = out->body["id"];
  EXPECT_EQ(service_->get_job(id).body["status"], "scheduled");
  EXPECT_THROW(test(src, Json{{"wait_ms", 120001}}), BadRequest);
  EXPECT_THROW(test(src, Json{{"wait_ms", -1}}), BadRequest);
  EXPECT_THROW(test(src, Json{{"wait_ms", "5s"}}), BadRequest);
  auto missing = test("src_nope", Json::object());
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->kind, K::kNotFound);
  // A test still waiting when the hub stops answers 202 with its job.
  std::optional<Answer> waiting;
  service_->test_source(src, Json::object(), [&waiting](Answer a) { waiting = std::move(a); });
  io_.poll();
  EXPECT_FALSE(waiting);
  service_->shutdown();
  ASSERT_TRUE(waiting);
  EXPECT_EQ(waiting->kind, K::kAccepted);
}

TEST_F(PoolsServiceTest, NoAdminAnswerShowsALiteralSecret) {
  const auto src = make_source("pool_default");
  service_->create_source(Json{{"name", "dsn"},
                               {"type", "postgres"},
                               {"config",
                                {{"dsn", std::string("postgres://u:") + kPassword + "@h/db"},
                                 {"api_key", kPassword},
                                 {"password_ref", "${env:PGPASSWORD}"}}}});
  const auto job = service_->create_job(Json{{"type", "query"}, {"source_id", src}}).body["id"];
  std::vector<Answer> answers{service_->list_sources(),
                              service_->get_source(src),
                              service_->update_source(src, Json{{"name", "renamed"}}),
                              service_->get_job(job),
                              service_->list_jobs(""),
                              service_->list_pools(),
                              service_->list_tokens()};
  for (const auto& a : answers) {
    const std::string text = a.json_text ? *a.json_text : a.body.dump();
    EXPECT_EQ(text.find(kPassword), std::string::npos) << text;
  }
  // Secret references are shown as written.
  EXPECT_NE(service_->list_sources().body.dump().find("${env:PGPASSWORD}"), std::string::npos);
}

}  // namespace
}  // namespace outpost::hub
