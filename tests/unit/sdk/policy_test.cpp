#include "outpost/policy.hpp"

#include <gtest/gtest.h>

namespace outpost {
namespace {

Source source(nlohmann::json config, std::string ref) {
  Source s;
  s.type = "postgres";
  s.config = std::move(config);
  s.ref = std::move(ref);
  return s;
}

TEST(OperatorPolicy, DefaultsAreTheSafeOnes) {
  const OperatorPolicy& p = default_operator_policy();
  EXPECT_FALSE(p.allow_privileged_logins);
  EXPECT_TRUE(p.sqlite_dirs.empty());
  EXPECT_FALSE(privileged_login_allowed(p, source({{"host", "db"}}, "")));
}

TEST(OperatorPolicy, TheOperatorFlagAllowsEverySource) {
  OperatorPolicy p;
  p.allow_privileged_logins = true;
  EXPECT_TRUE(privileged_login_allowed(p, source({{"host", "db"}}, "")));
  EXPECT_TRUE(privileged_login_allowed(p, source({{"host", "db"}}, "warehouse")));
}

TEST(OperatorPolicy, OnlyASourcesFileSourceMayOptInAlone) {
  const OperatorPolicy p;
  EXPECT_TRUE(privileged_login_allowed(p, source({{kAllowPrivilegedLoginKey, true}}, "warehouse")));
  // The same key from the control plane (no ref) counts for nothing.
  EXPECT_FALSE(privileged_login_allowed(p, source({{kAllowPrivilegedLoginKey, true}}, "")));
  // Only a JSON true opts in.
  EXPECT_FALSE(privileged_login_allowed(p, source({{kAllowPrivilegedLoginKey, "true"}}, "w")));
  EXPECT_FALSE(privileged_login_allowed(p, source({{kAllowPrivilegedLoginKey, false}}, "w")));
  EXPECT_FALSE(privileged_login_allowed(p, source(nlohmann::json::array(), "w")));
}

}  // namespace
}  // namespace outpost
