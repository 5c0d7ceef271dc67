// Issue 14, classes 5 and 6 without I/O: where a reference may stand in a
// control-plane config, which variables it may name, and --require-secret-refs
// reading connection strings as libpq does.
#include "security/secrets.hpp"

#include <gtest/gtest.h>

#include <map>

#include "security/conninfo.hpp"
#include "security/secret_policy.hpp"

namespace outpost::security {
namespace {

using nlohmann::json;

class SecretScopeTest : public ::testing::Test {
 protected:
  SecretLookups lookups() {
    SecretLookups l;
    l.env = [this](const std::string& name) -> std::optional<std::string> {
      const auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    l.file = [](const std::string&) -> FileLookup { return {"file-secret-1234", {}}; };
    l.env_allowed = [](const std::string& name) { return env_listed(name, {"PG*", "DB_PASS"}); };
    return l;
  }
  ExpandResult inline_config(const json& config) {
    return expand_secret_refs(config, lookups(), ExpandOptions{true});
  }
  std::map<std::string, std::string> env_{{"PGPASS", "pg-secret-5678"},
                                          {"DB_PASS", "db-secret-9012"},
                                          {"OTHER", "other-secret-3456"},
                                          {"HTTPS_PROXY", "http://u:proxy-pw@proxy:3128"},
                                          {"https_proxy", "http://u:proxy-pw@proxy:3128"},
                                          {"AGENT_TOKEN", "agent-token-7777"}};
};

TEST_F(SecretScopeTest, SecretKeysAndCredentialPositionsResolveInline) {
  const json ok[] = {
      {{"password", "${env:PGPASS}"}},
      {{"options", {{"sslpassword", "${file:/run/secrets/k}"}}}},
      {{"dsn", "postgres://reader:${env:PGPASS}@db/dw"}},
      {{"dsn", "postgresql://reader@db/dw?password=${env:PGPASS}"}},
      {{"dsn", "host=db user=reader password=${env:PGPASS} dbname=dw"}},
      {{"dsn", "host=db password='${env:PGPASS}' sslpassword=${env:DB_PASS}"}},
      {{"uri", "mysql://reader:${env:PGPASS}@db:3306/dw"}},
      {{"connection_string", "Driver={PostgreSQL};Server=db;UID=r;PWD=${env:PGPASS};"}},
      {{"connection_string", "Driver=x;Password={${env:PGPASS}}"}},
  };
  for (const auto& config : ok) {
    const auto result = inline_config(config);
    EXPECT_FALSE(result.error) << config.dump() << ": " << result.error->message;
  }
}

TEST_F(SecretScopeTest, ReferencesWhereAServerEchoesThemAreInvalidJobsNamingTheKey) {
  const std::pair<json, const char*> refused[] = {
      {{{"application_name", "${env:PGPASS}"}}, "application_name"},
      {{{"options", "-c application_name=${env:PGPASS}"}}, "options"},
      {{{"host", "${env:PGPASS}"}}, "host"},
      {{{"user", "${env:PGPASS}"}}, "user"},
      {{{"params", json::array({"${env:PGPASS}"})}}, "params[0]"},
      {{{"dsn", "host=db application_name=${env:PGPASS} password=x"}}, "dsn"},
      {{{"dsn", "host=db options='-c password=${env:PGPASS}'"}}, "dsn"},
      {{{"dsn", "postgres://${env:PGPASS}:pw@db/dw"}}, "dsn"},
      {{{"dsn", "postgres://u:p@db/dw?application_name=${env:PGPASS}"}}, "dsn"},
      {{{"dsn", "postgres://u:p@db/${env:PGPASS}"}}, "dsn"},
      {{{"uri", "mysql://u@db/dw?init_command=SELECT%20'${env:PGPASS}'"}}, "uri"},
      {{{"connection_string", "Driver=x;ConnSettings={SET application_name='${env:PGPASS}'}"}},
       "connection_string"},
      {{{"connection_string", "Driver=x;PWD=p;UID=${env:PGPASS}"}}, "connection_string"},
      // The placeholder trick: a literal copy of the stand-in elsewhere.
      {{{"dsn", "application_name=OutpostRef0Qz password=${env:PGPASS}"}}, "dsn"},
  };
  for (const auto& [config, key] : refused) {
    const auto result = inline_config(config);
    ASSERT_TRUE(result.error) << config.dump();
    EXPECT_EQ(result.error->code, ErrorCode::kInvalidJob) << config.dump();
    EXPECT_NE(result.error->message.find(std::string("'") + key + "'"), std::string::npos)
        << result.error->message;
    EXPECT_TRUE(result.secrets.empty()) << "resolved before refusing: " << config.dump();
    EXPECT_EQ(result.error->message.find("pg-secret-5678"), std::string::npos);
  }
}

TEST_F(SecretScopeTest, OperatorSourcesMayUseReferencesInAnyKey) {
  const auto result = expand_secret_refs({{"application_name", "${env:PGPASS}"}}, lookups());
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(result.config["application_name"], "pg-secret-5678");
}

TEST_F(SecretScopeTest, OnlyListedVariablesAndNeverAgentOrProxyOnes) {
  for (const char* name : {"AGENT_TOKEN", "HTTPS_PROXY", "https_proxy", "Http_Proxy", "ALL_PROXY",
                           "no_proxy", "agent_token"}) {
    const auto result = expand_secret_refs({{"password", std::string("${env:") + name + "}"}},
                                           lookups(), ExpandOptions{false});
    ASSERT_TRUE(result.error) << name;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
    EXPECT_NE(result.error->message.find("never given"), std::string::npos)
        << result.error->message;
    EXPECT_TRUE(result.secrets.empty());
  }
  const auto unlisted = inline_config({{"password", "${env:OTHER}"}});
  ASSERT_TRUE(unlisted.error);
  EXPECT_EQ(unlisted.error->code, ErrorCode::kSecretUnresolved);
  EXPECT_NE(unlisted.error->message.find("--secret-env"), std::string::npos);
  EXPECT_EQ(unlisted.error->message.find("other-secret"), std::string::npos);
  EXPECT_FALSE(inline_config({{"password", "${env:PGPASS}"}}).error);   // PG* prefix
  EXPECT_FALSE(inline_config({{"password", "${env:DB_PASS}"}}).error);  // exact name
}

TEST(SecretEnvList, EntriesAndRefusedEntries) {
  EXPECT_TRUE(env_listed("PGPASS", {"PG*"}));
  EXPECT_TRUE(env_listed("PG", {"PG*"}));
  EXPECT_FALSE(env_listed("XPGPASS", {"PG*"}));
  EXPECT_FALSE(env_listed("DB_PASSWORD", {"DB_PASS"}));
  EXPECT_FALSE(env_listed("ANY", {}));
  EXPECT_TRUE(env_never_given("AGENT_TOKEN"));
  EXPECT_TRUE(env_never_given("hTTpS_pRoXy"));
  EXPECT_FALSE(env_never_given("PGPASS"));
  EXPECT_EQ(
      refused_secret_env_entries(
          {"PG*", "AGENT_TOKEN", "HTTPS_PROXY", "*", "A*", "HTTP*", "DB_PASS", "no_proxy"}),
      (std::vector<std::string>{"AGENT_TOKEN", "HTTPS_PROXY", "*", "A*", "HTTP*", "no_proxy"}));
}

TEST(RefsOnlyInCredentials, ParsersAgreeWithDrivers) {
  EXPECT_TRUE(refs_only_in_credentials("no references at all"));
  EXPECT_TRUE(refs_only_in_credentials("postgres://u:${env:A}${env:B}@h/db"));
  EXPECT_FALSE(refs_only_in_credentials("${env:A}"));                // not a connection string
  EXPECT_FALSE(refs_only_in_credentials("password=${env:A"));        // malformed
  EXPECT_FALSE(refs_only_in_credentials("x=${env:A}"));              // libpq refuses, ODBC key x
  EXPECT_FALSE(refs_only_in_credentials("Driver=x;PWD={${env:A}"));  // unclosed brace
}

TEST(ConnInfo, LibpqDecodesPercentEncodedKeys) {
  const auto pairs = parse_libpq_conninfo("postgresql://u@h/db?pass%77ord=lit&sslmode=disable");
  ASSERT_TRUE(pairs);
  bool found = false;
  for (const auto& p : *pairs) {
    if (p.key == "password") {
      found = true;
      EXPECT_EQ(p.value, "lit");
      EXPECT_TRUE(p.credential);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_FALSE(parse_libpq_conninfo("Driver=x;PWD=y"));
  const auto uri = parse_generic_uri("mysql://u:p%40ss@h:3306/db?Pass+Word=x&PASS%57ORD=y");
  ASSERT_TRUE(uri);
  int credentials = 0;
  for (const auto& p : *uri) credentials += p.credential ? 1 : 0;
  EXPECT_EQ(credentials, 2);  // user-info password, PASSWORD (not "pass word")
  const auto odbc = parse_attribute_string("Driver={A;B}}};PWD={x;y}}z};Server=h");
  ASSERT_TRUE(odbc);
  ASSERT_EQ(odbc->size(), 3u);
  EXPECT_EQ((*odbc)[0].value, "A;B}");
  EXPECT_EQ((*odbc)[1].value, "x;y}z");
  EXPECT_TRUE((*odbc)[1].credential);
}

// Class 6: --require-secret-refs sees the keys the drivers see.
TEST(RequireSecretRefs, PercentEncodedAndCaseVariantKeysAreLiteralSecrets) {
  for (const char* dsn : {"postgresql://u@h/db?pass%77ord=hunter2",
                          "postgres://u@h/db?%70%61%73%73%77%6f%72%64=hunter2",
                          "postgres://u@h/db?sslpass%77ord=hunter2",
                          "mysql://u@h/db?PassWord=hunter2", "mysql://u@h/db?pass%57ord=hunter2",
                          "host=h password = 'hunter2'", "host=h sslpassword=hunter2"}) {
    EXPECT_EQ(find_literal_secret({{"dsn", dsn}}), std::optional<std::string>("dsn")) << dsn;
  }
  for (const char* dsn :
       {"postgresql://u@h/db?pass%77ord=${env:P}", "postgres://u:${file:/run/secrets/p}@h/db",
        "host=h password=${env:P} sslpassword=${env:Q}"}) {
    EXPECT_FALSE(find_literal_secret({{"dsn", dsn}})) << dsn;
  }
}

}  // namespace
}  // namespace outpost::security
