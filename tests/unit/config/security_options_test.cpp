// The operator's security opt-ins on the command line (issue 14):
// --allow-privileged-logins, --sqlite-dirs, --secret-dirs, --secret-env.

#include <gtest/gtest.h>

#include "config/command_line.hpp"
#include "config/options.hpp"
#include "unit/config/parse_helpers.hpp"

namespace outpost::config {
namespace {

using testing::parse;
using testing::with_base;
using Outcome = ParseResult::Outcome;

AgentConfig run_config(const std::vector<std::string>& args, const MapEnvironment& env = {}) {
  const ParseResult result = parse(args, env);
  EXPECT_EQ(result.outcome, Outcome::kRun) << result.text;
  return result.config;
}

std::string usage_error(const std::vector<std::string>& args) {
  const ParseResult result = parse(args);
  EXPECT_EQ(result.outcome, Outcome::kUsageError);
  return result.text;
}

TEST(SecurityOptions, SafeDefaults) {
  const AgentConfig c = run_config(with_base({}));
  EXPECT_FALSE(c.allow_privileged_logins);
  EXPECT_TRUE(c.sqlite_dirs.empty());
  EXPECT_EQ(c.secret_dirs, (std::vector<std::string>{"/run/secrets", "/var/run/secrets"}));
  EXPECT_TRUE(c.secret_env.empty());
}

TEST(SecurityOptions, ListsAreSplitTrimmedAndNormalised) {
  const AgentConfig c = run_config(with_base(
      {"--allow-privileged-logins", "--sqlite-dirs", " /data/sqlite/ , /srv/db", "--secret-dirs",
       "/etc/outpost/secrets//", "--secret-env", "PGPASSWORD, DB_*,_X"}));
  EXPECT_TRUE(c.allow_privileged_logins);
  EXPECT_EQ(c.sqlite_dirs, (std::vector<std::string>{"/data/sqlite", "/srv/db"}));
  EXPECT_EQ(c.secret_dirs, (std::vector<std::string>{"/etc/outpost/secrets"}));
  EXPECT_EQ(c.secret_env, (std::vector<std::string>{"PGPASSWORD", "DB_*", "_X"}));
}

TEST(SecurityOptions, FromTheEnvironment) {
  MapEnvironment env;
  env.variables["AGENT_SQLITE_DIRS"] = "/data";
  env.variables["AGENT_SECRET_ENV"] = "PG*";
  env.variables["AGENT_ALLOW_PRIVILEGED_LOGINS"] = "true";
  const AgentConfig c = run_config(with_base({}), env);
  EXPECT_EQ(c.sqlite_dirs, (std::vector<std::string>{"/data"}));
  EXPECT_EQ(c.secret_env, (std::vector<std::string>{"PG*"}));
  EXPECT_TRUE(c.allow_privileged_logins);
}

TEST(SecurityOptions, RelativeDirectoriesAreUsageErrors) {
  EXPECT_NE(usage_error(with_base({"--sqlite-dirs", "/data,relative/dir"}))
                .find("invalid entry 'relative/dir' in --sqlite-dirs"),
            std::string::npos);
  EXPECT_NE(usage_error(with_base({"--secret-dirs", "./secrets"})).find("--secret-dirs"),
            std::string::npos);
}

TEST(SecurityOptions, BadEnvironmentNamesAreUsageErrors) {
  // `*` alone would hand every variable, the token among them, to a job.
  for (const char* bad : {"*", "1ABC", "A-B", "PG*X", "A B"}) {
    SCOPED_TRACE(bad);
    EXPECT_NE(usage_error(with_base({"--secret-env", bad})).find("in --secret-env"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace outpost::config
