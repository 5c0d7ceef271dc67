// Masking of literal secrets in source configs as the console and the admin
// API show them (hub-v2 §3).
#include "secret_mask.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "service.hpp"
#include "store/memory_store.hpp"

namespace outpost::hub {
namespace {

TEST(MaskSecrets, MasksSecretKeysAndKeepsReferences) {
  const Json config{{"host", "db.internal"},
                    {"port", 5432},
                    {"user", "reader"},
                    {"password", "hunter2"},
                    {"api_key", 12345},
                    {"client_secret", "s3cr3t"},
                    {"access_token", "${env:TOKEN}"},
                    {"sslkey", "/etc/outpost/client.key"},
                    {"sslpassword", "${file:/run/secrets/pw}"},
                    {"empty_password", ""}};
  const Json m = mask_secrets(config);
  EXPECT_EQ(m["host"], "db.internal");
  EXPECT_EQ(m["port"], 5432);
  EXPECT_EQ(m["user"], "reader");
  EXPECT_EQ(m["password"], "********");
  EXPECT_EQ(m["api_key"], "********");
  EXPECT_EQ(m["client_secret"], "********");
  EXPECT_EQ(m["access_token"], "${env:TOKEN}");
  EXPECT_EQ(m["sslkey"], "/etc/outpost/client.key");
  EXPECT_EQ(m["sslpassword"], "${file:/run/secrets/pw}");
  EXPECT_EQ(m["empty_password"], "");
  EXPECT_EQ(m.dump().find("hunter2"), std::string::npos);
}

TEST(MaskSecrets, MasksCredentialsInsideConnectionStrings) {
  const Json config{
      {"dsn", "postgresql://reader:hunter2@db.internal:5432/shop?sslmode=require"},
      {"uri", "postgres://reader:${env:PW}@db/shop"},
      {"conninfo", "host=db user=reader password='p w;x' dbname=shop"},
      {"connection_string", "Driver={PostgreSQL Unicode};Server=db;Uid=r;Pwd={a;b};Database=dw"},
      {"odbc", "Driver={SQLite3};Database=/data/x.db"}};
  const Json m = mask_secrets(config);
  EXPECT_EQ(m["dsn"], "postgresql://reader:********@db.internal:5432/shop?sslmode=require");
  EXPECT_EQ(m["uri"], "postgres://reader:${env:PW}@db/shop");
  EXPECT_EQ(m["conninfo"], "host=db user=reader password=******** dbname=shop");
  EXPECT_EQ(m["connection_string"],
            "Driver={PostgreSQL Unicode};Server=db;Uid=r;Pwd=********;Database=dw");
  EXPECT_EQ(m["odbc"], "Driver={SQLite3};Database=/data/x.db");
  const auto text = m.dump();
  for (const char* secret : {"hunter2", "p w;x", "a;b"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret;
  }
}

TEST(MaskSecrets, SearchesNestedObjectsAndArrays) {
  const Json config{{"attributes", {{"PWD", "x"}, {"SSLmode", "require"}}},
                    {"hosts", Json::array({{{"name", "a"}, {"token", "t1"}}})},
                    {"api_token", Json::array({"p1", "${env:P2}"})}};
  const Json m = mask_secrets(config);
  EXPECT_EQ(m["attributes"]["PWD"], "********");
  EXPECT_EQ(m["attributes"]["SSLmode"], "require");
  EXPECT_EQ(m["hosts"][0]["token"], "********");
  EXPECT_EQ(m["hosts"][0]["name"], "a");
  EXPECT_EQ(m["api_token"][0], "********");
  EXPECT_EQ(m["api_token"][1], "${env:P2}");
}

TEST(MaskSecrets, LeavesConfigsWithoutSecretsAlone) {
  const Json config{
      {"path", "/data/shop.db"}, {"busy_timeout_ms", 5000}, {"flag", true}, {"nothing", nullptr}};
  EXPECT_EQ(mask_secrets(config), config);
}

}  // namespace
}  // namespace outpost::hub

namespace outpost::hub {
namespace {

// GET /v1/admin/sources and /sources/{id} through the rules layer: the
// config is masked in both, the job still gets the stored value.
TEST(SourceViews, ListAndGetMaskTheConfigButJobsKeepIt) {
  boost::asio::io_context io;
  auto store = std::make_shared<MemoryStore>();
  auto service =
      std::make_shared<HubService>(io.get_executor(), io.get_executor(), store, StoreOptions{},
                                   std::make_shared<ManualClock>(), nullptr);
  service->start();
  const Json config{{"host", "db"}, {"password", "hunter2"}, {"sslpassword", "${env:SSLPW}"}};
  // A source's pool must exist (an unknown pool_id is a 400).
  const auto pool_eu = service->create_pool(Json{{"name", "eu"}}).body["id"].get<std::string>();
  auto created = service->create_source(
      Json{{"name", "wh"}, {"type", "postgres"}, {"config", config}, {"pool_id", pool_eu}});
  ASSERT_EQ(created.kind, Answer::Kind::kCreated);
  const auto id = created.body["id"].get<std::string>();

  const auto one = service->get_source(id);
  ASSERT_EQ(one.kind, Answer::Kind::kOk);
  EXPECT_EQ(one.body["id"], id);
  EXPECT_EQ(one.body["name"], "wh");
  EXPECT_EQ(one.body["type"], "postgres");
  EXPECT_EQ(one.body["pool_id"], pool_eu);
  EXPECT_EQ(one.body["config"]["password"], "********");
  EXPECT_EQ(one.body["config"]["sslpassword"], "${env:SSLPW}");
  EXPECT_EQ(one.body["config"]["host"], "db");
  const auto all = service->list_sources();
  ASSERT_EQ(all.body.size(), 1u);
  EXPECT_EQ(all.body[0], one.body);
  EXPECT_EQ(all.body.dump().find("hunter2"), std::string::npos);

  const auto missing = service->get_source("src_nope");
  EXPECT_EQ(missing.kind, Answer::Kind::kNotFound);
  EXPECT_EQ(missing.body["error"]["code"], "source_not_found");

  // The agent resolves what the operator stored, not the mask.
  auto job = service->create_job(Json{{"source_id", id}, {"type", "test_connection"}});
  ASSERT_EQ(job.kind, Answer::Kind::kCreated);
  auto rec = store->get_job(job.body["id"].get<std::string>());
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->source["config"]["password"], "hunter2");
  service->shutdown();
  io.poll();
}

}  // namespace
}  // namespace outpost::hub
