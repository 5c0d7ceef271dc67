// --require-secret-refs: which configs carry a literal secret, and where.
#include "security/secret_policy.hpp"

#include <gtest/gtest.h>

namespace outpost::security {
namespace {

using nlohmann::json;

TEST(SecretKey, RecognisesSecretNames) {
  for (const char* key :
       {"password",    "Password",    "PASSWD",        "pwd",         "pass",
        "passphrase",  "secret",      "client_secret", "token",       "access_token",
        "api-key",     "api_key",     "apikey",        "key",         "private_key",
        "sslpassword", "db_password", "AccountKey",    "credentials", "authorization"}) {
    EXPECT_TRUE(is_secret_key(key)) << key;
  }
}

TEST(SecretKey, IgnoresOrdinaryAndPathNames) {
  for (const char* key :
       {"host", "port", "user", "username", "database", "sslmode", "sslkey", "ssl_key", "sslcert",
        "sslrootcert", "password_file", "key_path", "passfile", "token_url", "public_key",
        "keyspace", "tokens", "", "bypass"}) {
    EXPECT_FALSE(is_secret_key(key)) << key;
  }
}

TEST(FindLiteralSecret, CleanConfigs) {
  EXPECT_FALSE(find_literal_secret(json::object()));
  EXPECT_FALSE(find_literal_secret({{"host", "db"}, {"port", 5432}, {"user", "observer"}}));
  EXPECT_FALSE(find_literal_secret({{"password", "${env:PGPASS}"}}));
  EXPECT_FALSE(find_literal_secret({{"password", "${file:/run/secrets/pg}"}}));
  EXPECT_FALSE(find_literal_secret({{"password", ""}, {"token", nullptr}, {"use_token", true}}));
  EXPECT_FALSE(find_literal_secret({{"sslkey", "/etc/ssl/client.key"}}));
  EXPECT_FALSE(find_literal_secret({{"options", {{"sslpassword", "${env:P}"}}}}));
}

TEST(FindLiteralSecret, LiteralValuesUnderSecretKeys) {
  EXPECT_EQ(find_literal_secret({{"host", "db"}, {"password", "hunter2"}}), "password");
  EXPECT_EQ(find_literal_secret({{"options", {{"sslpassword", "x"}}}}), "options.sslpassword");
  EXPECT_EQ(find_literal_secret({{"hosts", json::array({json{{"token", "t"}}})}}),
            "hosts[0].token");
  EXPECT_EQ(find_literal_secret({{"password", 123456}}), "password");
  EXPECT_EQ(find_literal_secret({{"api_key", "ab${env:REST}"}}), "api_key");
  EXPECT_EQ(find_literal_secret({{"password", "$${env:LOOKS_LIKE_A_REF}"}}), "password");
  EXPECT_EQ(find_literal_secret({{"keys", json::array()}, {"secret", json::array({"s"})}}),
            "secret[0]");
}

TEST(FindLiteralSecret, PasswordsInUris) {
  EXPECT_EQ(find_literal_secret({{"dsn", "postgres://observer:hunter2@db:5432/dw"}}), "dsn");
  EXPECT_EQ(find_literal_secret({{"url", "mysql://u:p@h/db"}}), "url");
  EXPECT_FALSE(find_literal_secret({{"dsn", "postgres://observer:${env:P}@db/dw"}}));
  EXPECT_FALSE(find_literal_secret({{"dsn", "postgres://observer:${file:/run/s/p}@db/dw"}}));
  EXPECT_FALSE(find_literal_secret({{"dsn", "postgres://observer@db/dw"}}));
  EXPECT_FALSE(find_literal_secret({{"dsn", "postgres://db/dw?sslmode=require"}}));
  EXPECT_FALSE(find_literal_secret({{"dsn", "postgres://observer:@db/dw"}}));
  EXPECT_FALSE(find_literal_secret({{"note", "see https://example.com/a@b"}}));
}

TEST(FindLiteralSecret, PasswordsInKeyValueStrings) {
  EXPECT_EQ(find_literal_secret({{"conninfo", "host=db user=u password=hunter2"}}), "conninfo");
  EXPECT_EQ(find_literal_secret({{"conninfo", "host=db password = 'a b'"}}), "conninfo");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver={PG};Server=h;PWD={x;y};"}}),
            "connection_string");
  EXPECT_EQ(find_literal_secret({{"dsn", "postgres://h/db?user=u&password=p"}}), "dsn");
  EXPECT_FALSE(find_literal_secret({{"conninfo", "host=db password=${env:P} user=u"}}));
  EXPECT_FALSE(find_literal_secret({{"conninfo", "host=db password='${env:P}'"}}));
  EXPECT_FALSE(find_literal_secret({{"connection_string", "Server=h;PWD={${env:P}};"}}));
  EXPECT_FALSE(find_literal_secret({{"conninfo", "host=db passfile=/x password_file=/y"}}));
  EXPECT_FALSE(find_literal_secret({{"conninfo", "host=db password="}}));
  // "sslpassword" is its own keyword; "mypassword=" is not a pair boundary.
  EXPECT_EQ(find_literal_secret({{"conninfo", "sslpassword=x"}}), "conninfo");
  EXPECT_FALSE(find_literal_secret({{"comment", "mypassword=notapair"}}));
}

TEST(FindLiteralSecret, OdbcConnectionStringsAreParsed) {
  // Keys inside a braced value: psqlODBC's pqopt carries a libpq conninfo.
  EXPECT_EQ(find_literal_secret(
                {{"connection_string", "Driver={PostgreSQL Unicode};pqopt={password=hunter2}"}}),
            "connection_string");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;pqopt={ password = 'a b' }"}}),
            "connection_string");
  // PWD and Password however spaced or cased, numbered variants.
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X; pWd =hunter2"}}),
            "connection_string");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;\tPassword\t= {hunter2} ;"}}),
            "connection_string");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;PASSWORD1=hunter2"}}),
            "connection_string");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;KeyStorePassword={a;b}"}}),
            "connection_string");
  // A connection string inside a braced value.
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;Extra={UID=u;PWD={p}}}"}}),
            "connection_string");
  // In the DSN form's attributes object, and in a string the parser refuses.
  EXPECT_EQ(find_literal_secret({{"dsn", "d"}, {"attributes", {{"pqopt", "password=x"}}}}),
            "attributes.pqopt");
  EXPECT_EQ(find_literal_secret({{"connection_string", "Driver=X;pqopt={password=x} y{"}}),
            "connection_string");
  // References only: clean.
  EXPECT_FALSE(find_literal_secret(
      {{"connection_string", "Driver={PostgreSQL Unicode};UID=u;PWD=${env:PG_PW};"}}));
  EXPECT_FALSE(find_literal_secret({{"connection_string", "Driver=X;pqopt={password=${env:P}}"}}));
  EXPECT_FALSE(find_literal_secret({{"connection_string", "Driver=X;PWD=;UID=u;Server=h"}}));
  EXPECT_FALSE(find_literal_secret({{"connection_string", "Driver=X;Server=h;SSLmode=require"}}));
}

TEST(FindLiteralSecret, NonObjectRoot) {
  EXPECT_EQ(find_literal_secret(json("postgres://u:p@h/db")), "config");
  EXPECT_FALSE(find_literal_secret(json(nullptr)));
}

}  // namespace
}  // namespace outpost::security
