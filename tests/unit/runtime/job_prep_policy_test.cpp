// prepare_job's share of the privilege gate: only the operator may opt a
// source into privileged logins, never the control plane.

#include <gtest/gtest.h>

#include "outpost/policy.hpp"
#include "runtime/job_prep.hpp"

namespace outpost::runtime {
namespace {

using nlohmann::json;

class NoopConnector final : public Connector {
 public:
  std::string_view type() const noexcept override { return "postgres"; }
  std::vector<JobType> job_types() const override { return {JobType::kQuery}; }
  JobResult run(JobContext&) override { return JobResult::success(); }
};

struct PolicyPrep : ::testing::Test {
  PolicyPrep() {
    registry.add(std::make_shared<NoopConnector>());
    ctx.registry = &registry;
    ctx.sources_file_configured = true;
    ctx.find_local_source = [](std::string_view name) -> std::optional<Source> {
      if (name != "warehouse") return std::nullopt;
      Source s;
      s.type = "postgres";
      s.config = {{"host", "db.internal"}, {kAllowPrivilegedLoginKey, true}};
      return s;
    };
  }

  PreparedJob prepare(const json& source) {
    claimed = parse_claimed_job({{"id", "job_1"},
                                 {"type", "query"},
                                 {"lease", {{"token", "l_1"}}},
                                 {"source", source},
                                 {"params", {{"sql", "SELECT 1"}}}});
    return prepare_job(claimed, ctx);
  }

  ConnectorRegistry registry;
  PrepareContext ctx;
  ClaimedJob claimed;
};

TEST_F(PolicyPrep, AnInlineSourceCannotOptIntoPrivilegedLogins) {
  const auto prepared = prepare(
      {{"type", "postgres"}, {"config", {{"host", "db"}, {kAllowPrivilegedLoginKey, true}}}});
  ASSERT_TRUE(prepared.error);
  EXPECT_EQ(prepared.error->code, ErrorCode::kInvalidJob);
  EXPECT_NE(prepared.error->message.find("only honoured in the agent's sources file"),
            std::string::npos);
  // Even a false is refused: the key has no business in a control plane's config.
  EXPECT_TRUE(
      prepare({{"type", "postgres"}, {"config", {{kAllowPrivilegedLoginKey, false}}}}).error);
}

TEST_F(PolicyPrep, ASourcesFileSourceKeepsItsOptIn) {
  const auto prepared = prepare({{"ref", "warehouse"}});
  ASSERT_FALSE(prepared.error) << prepared.error->message;
  EXPECT_TRUE(privileged_login_allowed(OperatorPolicy{}, claimed.job.source));
}

}  // namespace
}  // namespace outpost::runtime
