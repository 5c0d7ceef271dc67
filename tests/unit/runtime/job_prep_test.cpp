#include "runtime/job_prep.hpp"

#include <gtest/gtest.h>

#include <vector>

#include <ostream>

namespace outpost::runtime {
namespace {

using nlohmann::json;

class FakeConnector final : public Connector {
 public:
  explicit FakeConnector(std::string type,
                         std::vector<JobType> types = {JobType::kTestConnection, JobType::kMetadata,
                                                       JobType::kQuery})
      : type_(std::move(type)), types_(std::move(types)) {}
  std::string_view type() const noexcept override { return type_; }
  std::vector<JobType> job_types() const override { return types_; }
  JobResult run(JobContext&) override { return JobResult::success(); }

 private:
  std::string type_;
  std::vector<JobType> types_;
};

json good_job() {
  return json::parse(R"({
    "id": "job_42", "type": "query", "attempt": 2, "created_at": "2026-11-22T10:00:00Z",
    "timeout_ms": 60000,
    "lease": {"token": "l_1", "expires_at": "2026-11-22T10:00:30Z"},
    "source": {"id": "src_7", "name": "warehouse", "type": "sqlite",
               "config": {"path": "/tmp/x.db"}},
    "params": {"sql": "SELECT 1", "max_rows": 10},
    "some_future_field": {"ignored": true}
  })");
}

struct Fixture : ::testing::Test {
  Fixture() {
    registry.add(std::make_shared<FakeConnector>("sqlite"));
    registry.add(
        std::make_shared<FakeConnector>("tc_only", std::vector<JobType>{JobType::kTestConnection}));
    ctx.registry = &registry;
    ctx.agent_job_timeout = std::chrono::seconds(30);
  }
  ConnectorRegistry registry;
  PrepareContext ctx;
};

TEST_F(Fixture, ParsesAWellFormedJob) {
  auto c = parse_claimed_job(good_job());
  ASSERT_FALSE(c.error) << c.error->message;
  EXPECT_EQ(c.id, "job_42");
  EXPECT_EQ(c.lease_token, "l_1");
  EXPECT_EQ(c.attempt, 2);
  EXPECT_EQ(c.job.type, JobType::kQuery);
  EXPECT_EQ(c.source_label, "warehouse");
  EXPECT_EQ(c.job.source.type, "sqlite");
  auto p = prepare_job(c, ctx);
  ASSERT_FALSE(p.error) << p.error->message;
  ASSERT_NE(p.connector, nullptr);
  EXPECT_EQ(p.connector->type(), "sqlite");
  // min(job 60 s, agent 30 s)
  EXPECT_EQ(c.job.timeout, std::chrono::seconds(30));
}

TEST_F(Fixture, JobTimeoutBelowTheAgentCapWins) {
  auto raw = good_job();
  raw["timeout_ms"] = 1500;
  auto c = parse_claimed_job(raw);
  prepare_job(c, ctx);
  EXPECT_EQ(c.job.timeout, std::chrono::milliseconds(1500));
}

TEST_F(Fixture, MissingTimeoutUsesTheAgentCap) {
  auto raw = good_job();
  raw.erase("timeout_ms");
  auto c = parse_claimed_job(raw);
  prepare_job(c, ctx);
  EXPECT_EQ(c.job.timeout, std::chrono::seconds(30));
}

TEST_F(Fixture, NotAnObjectIsUnanswerable) {
  auto c = parse_claimed_job(json::array({1, 2}));
  EXPECT_FALSE(c.answerable());
  ASSERT_TRUE(c.error);
  EXPECT_EQ(c.error->code, ErrorCode::kInvalidJob);
}

TEST_F(Fixture, MissingLeaseIsUnanswerable) {
  auto raw = good_job();
  raw.erase("lease");
  auto c = parse_claimed_job(raw);
  EXPECT_FALSE(c.answerable());
  EXPECT_NE(c.error->message.find("lease.token"), std::string::npos);
}

struct BadField {
  const char* pointer;
  json value;
  ErrorCode code;
  const char* mentions;
};

// A stable, readable test name in ctest ("/type = 42") instead of the
// parameter's raw bytes, which include pointers and change from run to run.
void PrintTo(const BadField& bad, std::ostream* os) {
  *os << bad.pointer << " = " << (bad.value.is_discarded() ? "(missing)" : bad.value.dump());
}

class MalformedJob : public Fixture, public ::testing::WithParamInterface<BadField> {};

TEST_P(MalformedJob, FailsWithACodeNamingTheField) {
  const auto& bad = GetParam();
  auto raw = good_job();
  if (bad.value.is_discarded()) {
    raw.erase(json::json_pointer(bad.pointer).back());
  } else {
    raw[json::json_pointer(bad.pointer)] = bad.value;
  }
  auto c = parse_claimed_job(raw);
  auto p = prepare_job(c, ctx);
  EXPECT_TRUE(c.answerable());
  ASSERT_TRUE(p.error) << bad.pointer;
  EXPECT_EQ(p.error->code, bad.code) << p.error->message;
  EXPECT_NE(p.error->message.find(bad.mentions), std::string::npos) << p.error->message;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, MalformedJob,
    ::testing::Values(
        BadField{"/type", 42, ErrorCode::kInvalidJob, "'type'"},
        BadField{"/type", "drop_database", ErrorCode::kUnsupported, "drop_database"},
        BadField{"/source", "nope", ErrorCode::kInvalidJob, "'source'"},
        BadField{"/source/type", json(nullptr), ErrorCode::kInvalidJob, "source.type"},
        BadField{"/source/type", "oracle", ErrorCode::kUnsupported, "oracle"},
        BadField{"/source/config", json::array(), ErrorCode::kInvalidJob, "source.config"},
        BadField{"/params", "SELECT 1", ErrorCode::kInvalidJob, "'params'"},
        BadField{"/params/sql", 7, ErrorCode::kInvalidJob, "params.sql"},
        BadField{"/params/sql", "   ", ErrorCode::kInvalidJob, "params.sql"},
        BadField{"/params/max_rows", -5, ErrorCode::kInvalidJob, "params.max_rows"},
        BadField{"/params/max_rows", "ten", ErrorCode::kInvalidJob, "params.max_rows"},
        BadField{"/timeout_ms", 0, ErrorCode::kInvalidJob, "timeout_ms"},
        BadField{"/timeout_ms", "soon", ErrorCode::kInvalidJob, "timeout_ms"},
        BadField{"/source/ref", "", ErrorCode::kInvalidJob, "source.ref"}));

TEST_F(Fixture, UnsupportedJobTypeForConnector) {
  auto raw = good_job();
  raw["source"]["type"] = "tc_only";
  auto c = parse_claimed_job(raw);
  auto p = prepare_job(c, ctx);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->code, ErrorCode::kUnsupported);
  EXPECT_NE(p.error->message.find("query"), std::string::npos);
}

TEST_F(Fixture, MetadataParamsAreChecked) {
  auto raw = good_job();
  raw["type"] = "metadata";
  raw["params"] = {{"schemas", {"public", 3}}};
  auto c = parse_claimed_job(raw);
  ASSERT_TRUE(c.error);
  EXPECT_NE(c.error->message.find("params.schemas"), std::string::npos);
  raw["params"] = {{"schemas", {"public"}}, {"include_views", "yes"}};
  c = parse_claimed_job(raw);
  ASSERT_TRUE(c.error);
  EXPECT_NE(c.error->message.find("include_views"), std::string::npos);
}

TEST_F(Fixture, TestConnectionNeedsNoParams) {
  auto raw = good_job();
  raw["type"] = "test_connection";
  raw.erase("params");
  auto c = parse_claimed_job(raw);
  auto p = prepare_job(c, ctx);
  EXPECT_FALSE(p.error);
}

TEST_F(Fixture, LocalRefWithoutSourcesFileIsInvalid) {
  auto raw = good_job();
  raw["source"] = {{"ref", "warehouse"}};
  auto c = parse_claimed_job(raw);
  EXPECT_EQ(c.source_label, "warehouse");
  auto p = prepare_job(c, ctx);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->code, ErrorCode::kInvalidJob);
  EXPECT_NE(p.error->message.find("--sources-file"), std::string::npos);
}

TEST_F(Fixture, LocalRefIsReplacedByTheOperatorsDefinition) {
  ctx.sources_file_configured = true;
  ctx.find_local_source = [](std::string_view name) -> std::optional<Source> {
    if (name != "warehouse") return std::nullopt;
    Source s;
    s.type = "sqlite";
    s.config = {{"path", "/data/w.db"}};
    return s;
  };
  auto raw = good_job();
  raw["source"] = {{"ref", "warehouse"}};
  auto c = parse_claimed_job(raw);
  auto p = prepare_job(c, ctx);
  ASSERT_FALSE(p.error) << p.error->message;
  EXPECT_EQ(c.job.source.ref, "warehouse");
  EXPECT_EQ(c.job.source.config["path"], "/data/w.db");

  raw["source"] = {{"ref", "other"}};
  c = parse_claimed_job(raw);
  p = prepare_job(c, ctx);
  ASSERT_TRUE(p.error);
  EXPECT_NE(p.error->message.find("'other'"), std::string::npos);
}

TEST_F(Fixture, RequireSecretRefsRejectsLiteralSecretsButNotLocalRefs) {
  ctx.find_literal_secret = [](const json& cfg) -> std::optional<std::string> {
    if (cfg.contains("password")) return std::string("password");
    return std::nullopt;
  };
  auto raw = good_job();
  raw["source"]["config"]["password"] = "hunter2";
  auto c = parse_claimed_job(raw);
  auto p = prepare_job(c, ctx);
  ASSERT_TRUE(p.error);
  EXPECT_EQ(p.error->code, ErrorCode::kInvalidJob);
  EXPECT_NE(p.error->message.find("'password'"), std::string::npos);
  EXPECT_EQ(p.error->message.find("hunter2"), std::string::npos);
}

TEST_F(Fixture, SecretResolutionErrorsComeBack) {
  ctx.resolve_secrets = [](json& cfg, bool) -> ResolvedSecrets {
    if (cfg.contains("password")) {
      return {JobError{ErrorCode::kSecretUnresolved, "missing", false}, {}};
    }
    cfg["resolved"] = true;
    return {std::nullopt, {"s3cret-value"}};
  };
  auto c = parse_claimed_job(good_job());
  const auto ok = resolve_job_secrets(c.job, ctx, c.source_is_ref);
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.secrets, std::vector<std::string>{"s3cret-value"});
  EXPECT_TRUE(c.job.source.config["resolved"].get<bool>());
  c.job.source.config["password"] = "${env:NOPE}";
  auto err = resolve_job_secrets(c.job, ctx, false).error;
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, ErrorCode::kSecretUnresolved);
}

TEST_F(Fixture, OperatorSourceFlagReachesTheResolver) {
  std::vector<bool> seen;
  ctx.resolve_secrets = [&seen](json&, bool operator_source) -> ResolvedSecrets {
    seen.push_back(operator_source);
    return {};
  };
  auto c = parse_claimed_job(good_job());
  (void)resolve_job_secrets(c.job, ctx, c.source_is_ref);
  (void)resolve_job_secrets(c.job, ctx, true);
  EXPECT_EQ(seen, (std::vector<bool>{false, true}));
}

// Class 7: an id or a lease token unsafe in a request path or header makes
// the job unanswerable (dropped, never posted to), and the id is logged in a
// printable, truncated form only.
TEST_F(Fixture, UnsafeJobIdsAreUnanswerable) {
  for (const std::string& id : std::vector<std::string>{
           ".", "..", "a/b", "../x", "job 1", "job\r\nX-Injected: 1", std::string("a\0b", 3),
           "job%2F..", "j?x=1", "j#f", std::string(201, 'a'), "caf\xc3\xa9"}) {
    auto raw = good_job();
    raw["id"] = id;
    const auto c = parse_claimed_job(raw);
    EXPECT_FALSE(c.answerable()) << id;
    ASSERT_TRUE(c.error) << id;
    EXPECT_EQ(c.error->code, ErrorCode::kInvalidJob);
    EXPECT_TRUE(c.lease_token.empty());
    EXPECT_LE(c.id.size(), 64u + std::string("…").size());
    for (const char ch : c.id) {
      EXPECT_FALSE(ch == '\r' || ch == '\n' || ch == '\0') << "unprintable id kept for the log";
    }
  }
  for (const std::string& id :
       std::vector<std::string>{"job_42", "a.b", "...", "x:y~z-1", std::string(200, 'a')}) {
    auto raw = good_job();
    raw["id"] = id;
    EXPECT_TRUE(parse_claimed_job(raw).answerable()) << id;
  }
}

TEST_F(Fixture, UnsafeLeaseTokensAreUnanswerable) {
  for (const std::string& token :
       std::vector<std::string>{"l\r\nX-Injected: 1", "l\nGET / HTTP/1.1", std::string("l\0", 2),
                                "l 1", "l\t1", std::string(513, 'a')}) {
    auto raw = good_job();
    raw["lease"]["token"] = token;
    const auto c = parse_claimed_job(raw);
    EXPECT_FALSE(c.answerable());
    ASSERT_TRUE(c.error);
    EXPECT_EQ(c.error->code, ErrorCode::kInvalidJob);
    EXPECT_NE(c.error->message.find("lease.token"), std::string::npos);
  }
  auto raw = good_job();
  raw["lease"]["token"] = "bA+/9_-.~:=";
  EXPECT_TRUE(parse_claimed_job(raw).answerable());
}

}  // namespace
}  // namespace outpost::runtime
