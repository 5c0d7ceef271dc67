// Masking of literal secrets in source configs as the console and the admin
// API show them (hub-v2 §3).
#include "secret_mask.hpp"

#include <gtest/gtest.h>

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
  const Json config{{"path", "/data/shop.db"}, {"busy_timeout_ms", 5000}, {"flag", true},
                    {"nothing", nullptr}};
  EXPECT_EQ(mask_secrets(config), config);
}

}  // namespace
}  // namespace outpost::hub
