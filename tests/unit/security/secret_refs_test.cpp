// Secret reference syntax and expansion with injected lookups (no I/O).
#include "security/secrets.hpp"

#include <gtest/gtest.h>

#include <map>

namespace outpost::security {
namespace {

using nlohmann::json;

class SecretRefsTest : public ::testing::Test {
 protected:
  SecretLookups lookups() {
    return {[this](const std::string& name) -> std::optional<std::string> {
              ++env_calls_;
              const auto it = env_.find(name);
              if (it == env_.end()) return std::nullopt;
              return it->second;
            },
            [this](const std::string& path) -> FileLookup {
              const auto it = files_.find(path);
              if (it == files_.end()) return {std::nullopt, "No such file or directory"};
              return {it->second, {}};
            },
            {}};
  }

  ExpandResult expand(const json& config) { return expand_secret_refs(config, lookups()); }

  std::map<std::string, std::string> env_{
      {"PGPASS", "s3cr3t-pw"}, {"EMPTY", ""}, {"USER_NAME", "observer"}};
  std::map<std::string, std::string> files_{{"/run/secrets/pg", "  file-pw\n\n"},
                                            {"/run/secrets/key", "-----BEGIN KEY-----\nabc\n"}};
  int env_calls_ = 0;
};

TEST_F(SecretRefsTest, WholeValueEnvReferenceIsReplaced) {
  const auto result = expand({{"host", "db"}, {"password", "${env:PGPASS}"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["password"], "s3cr3t-pw");
  EXPECT_EQ(result.config["host"], "db");
  EXPECT_EQ(result.secrets, std::vector<std::string>{"s3cr3t-pw"});
}

TEST_F(SecretRefsTest, FileReferenceIsTrimmed) {
  const auto result = expand({{"password", "${file:/run/secrets/pg}"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["password"], "file-pw");
  EXPECT_EQ(result.secrets, std::vector<std::string>{"file-pw"});
}

TEST_F(SecretRefsTest, MultiLineFileKeepsInnerNewlines) {
  const auto result = expand({{"key", "${file:/run/secrets/key}"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["key"], "-----BEGIN KEY-----\nabc");
}

TEST_F(SecretRefsTest, EmbeddedReferencesInALongerString) {
  const auto result =
      expand({{"dsn", "postgres://${env:USER_NAME}:${env:PGPASS}@db.internal/dw?x=1"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["dsn"], "postgres://observer:s3cr3t-pw@db.internal/dw?x=1");
  EXPECT_EQ(result.secrets.size(), 2u);
}

TEST_F(SecretRefsTest, NestedObjectsAndArraysAreResolved) {
  const json config = {{"options", {{"sslpassword", "${env:PGPASS}"}}},
                       {"hosts", json::array({json{{"token", "${file:/run/secrets/pg}"}}})},
                       {"port", 5432},
                       {"ssl", true}};
  const auto result = expand(config);
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["options"]["sslpassword"], "s3cr3t-pw");
  EXPECT_EQ(result.config["hosts"][0]["token"], "file-pw");
  EXPECT_EQ(result.config["port"], 5432);
  EXPECT_EQ(result.config["ssl"], true);
}

TEST_F(SecretRefsTest, KeysAreNeverResolved) {
  const auto result = expand({{"${env:PGPASS}", "x"}});
  ASSERT_FALSE(result.error);
  EXPECT_TRUE(result.config.contains("${env:PGPASS}"));
  EXPECT_EQ(env_calls_, 0);
}

TEST_F(SecretRefsTest, SetButEmptyVariableResolvesToEmpty) {
  const auto result = expand({{"password", "${env:EMPTY}"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["password"], "");
  EXPECT_TRUE(result.secrets.empty()) << "an empty value must not be registered for redaction";
}

TEST_F(SecretRefsTest, MissingVariableNamesTheReferenceAndKeyPath) {
  const auto result = expand({{"options", {{"password", "${env:NOPE}"}}}});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
  EXPECT_NE(result.error->message.find("${env:NOPE}"), std::string::npos) << result.error->message;
  EXPECT_NE(result.error->message.find("options.password"), std::string::npos);
  EXPECT_FALSE(result.error->retryable);
}

TEST_F(SecretRefsTest, UnreadableFileNamesTheReferenceNotAValue) {
  // Keys are visited in order: "a_user" is resolved before "password" fails.
  const auto result = expand({{"a_user", "${env:USER_NAME}"}, {"password", "${file:/nope}"}});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
  EXPECT_NE(result.error->message.find("${file:/nope}"), std::string::npos);
  EXPECT_NE(result.error->message.find("No such file"), std::string::npos);
  EXPECT_EQ(result.error->message.find("observer"), std::string::npos);
  // What was resolved before the failure is still handed back for redaction.
  EXPECT_EQ(result.secrets, std::vector<std::string>{"observer"});
}

TEST_F(SecretRefsTest, EscapeYieldsALiteralDollarBrace) {
  const auto result = expand({{"password", "pa$${env:PGPASS}ss"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["password"], "pa${env:PGPASS}ss");
  EXPECT_EQ(env_calls_, 0);
}

TEST_F(SecretRefsTest, UnknownSchemesAndLoneDollarsStayLiteral) {
  const auto result = expand({{"a", "x${foo}y"}, {"b", "$$money$"}, {"c", "${"}, {"d", "$"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.config["a"], "x${foo}y");
  EXPECT_EQ(result.config["b"], "$$money$");
  EXPECT_EQ(result.config["c"], "${");
  EXPECT_EQ(result.config["d"], "$");
}

TEST_F(SecretRefsTest, MalformedReferencesAreErrors) {
  for (const char* bad : {"${env:PGPASS", "${env:}", "${env:1ABC}", "${env:A-B}", "${file:}",
                          "${file:relative/path}", "x ${file:/a"}) {
    const auto result = expand({{"password", bad}});
    ASSERT_TRUE(result.error) << bad;
    EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved) << bad;
    EXPECT_NE(result.error->message.find("password"), std::string::npos) << bad;
  }
}

TEST_F(SecretRefsTest, SyntaxCheckDoesNoLookups) {
  EXPECT_FALSE(check_secret_ref_syntax({{"password", "${env:ANY}"}, {"k", "${file:/x}"}}));
  const auto error = check_secret_ref_syntax({{"a", {{"b", json::array({"ok", "${env:"})}}}});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("a.b[1]"), std::string::npos) << *error;
  EXPECT_EQ(env_calls_, 0);
}

TEST_F(SecretRefsTest, AgentOwnVariablesAreNeverGivenToJobs) {
  env_["AGENT_TOKEN"] = "the-access-token";
  const auto result = expand({{"password", "${env:AGENT_TOKEN}"}});
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->code, ErrorCode::kSecretUnresolved);
  EXPECT_NE(result.error->message.find("${env:AGENT_TOKEN}"), std::string::npos);
  EXPECT_EQ(result.error->message.find("the-access-token"), std::string::npos);
  EXPECT_EQ(env_calls_, 0) << "not even looked up";
}

TEST_F(SecretRefsTest, DuplicateValuesAreRegisteredOnce) {
  const auto result = expand({{"a", "${env:PGPASS}"}, {"b", "${env:PGPASS}"}});
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.secrets.size(), 1u);
}

TEST(IsOnlySecretRefs, RecognisesPureReferences) {
  EXPECT_TRUE(is_only_secret_refs("${env:A}"));
  EXPECT_TRUE(is_only_secret_refs("${env:A}${file:/b}"));
  EXPECT_FALSE(is_only_secret_refs("x${env:A}"));
  EXPECT_FALSE(is_only_secret_refs("${env:A} "));
  EXPECT_FALSE(is_only_secret_refs("$${env:A}"));
  EXPECT_FALSE(is_only_secret_refs("${env:A"));
  EXPECT_FALSE(is_only_secret_refs("${foo:A}"));
  EXPECT_FALSE(is_only_secret_refs(""));
  EXPECT_FALSE(is_only_secret_refs("hunter2"));
}

}  // namespace
}  // namespace outpost::security
