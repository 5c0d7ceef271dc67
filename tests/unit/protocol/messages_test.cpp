#include "protocol/messages.hpp"

#include <gtest/gtest.h>

namespace outpost::protocol {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TEST(Messages, SessionDefaultsForOptionalFields) {
  auto s = parse_session(R"({"agent_id": "agt_1"})");
  EXPECT_EQ(s.agent_id, "agt_1");
  EXPECT_EQ(s.poll_wait, 20000ms);
  EXPECT_EQ(s.heartbeat_interval, 10000ms);
  EXPECT_EQ(s.lease_ttl, 30000ms);
  EXPECT_FALSE(s.accepts_gzip);
  EXPECT_EQ(s.max_part_bytes, 4u * 1024 * 1024);
  EXPECT_TRUE(s.pool.empty());  // a control plane without pools
}

TEST(Messages, SessionReadsEveryFieldAndIgnoresUnknownOnes) {
  auto s = parse_session(R"({"agent_id": "agt_1", "agent_name": "prod", "pool": "eu-vpc",
      "poll_wait_ms": 500,
      "heartbeat_interval_ms": 250, "lease_ttl_ms": 1000, "accepts_gzip": true,
      "max_part_bytes": 1024, "future": [1, 2, 3]})");
  EXPECT_EQ(s.agent_name, "prod");
  EXPECT_EQ(s.pool, "eu-vpc");
  EXPECT_EQ(s.poll_wait, 500ms);
  EXPECT_EQ(s.heartbeat_interval, 250ms);
  EXPECT_EQ(s.lease_ttl, 1000ms);
  EXPECT_TRUE(s.accepts_gzip);
  EXPECT_EQ(s.max_part_bytes, 1024u);
}

TEST(Messages, MalformedSessionsAreClearErrors) {
  auto message_of = [](const char* body) {
    try {
      parse_session(body);
    } catch (const ProtocolError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of("<html>hello</html>").find("not JSON"), std::string::npos);
  EXPECT_NE(message_of("[1]").find("not a JSON object"), std::string::npos);
  EXPECT_NE(message_of("{}").find("agent_id"), std::string::npos);
  EXPECT_NE(message_of(R"({"agent_id": 5})").find("agent_id"), std::string::npos);
  EXPECT_NE(message_of(R"({"agent_id": "a", "poll_wait_ms": "soon"})").find("poll_wait_ms"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"agent_id": "a", "lease_ttl_ms": -1})").find("lease_ttl_ms"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"agent_id": "a", "accepts_gzip": "yes"})").find("accepts_gzip"),
            std::string::npos);
  EXPECT_NE(message_of(R"({"agent_id": "a", "max_part_bytes": 18446744073709551615})")
                .find("max_part_bytes"),
            std::string::npos);
}

TEST(Messages, ClaimResponseKeepsJobsRaw) {
  auto r = parse_claim_response(R"({"jobs": [{"id": "a"}, "garbage", 3]})");
  ASSERT_EQ(r.jobs.size(), 3u);
  EXPECT_EQ(r.jobs[0]["id"], "a");
  EXPECT_TRUE(parse_claim_response(R"({"jobs": []})").jobs.empty());
  EXPECT_TRUE(parse_claim_response(R"({})").jobs.empty());
  EXPECT_THROW(parse_claim_response(R"({"jobs": {}})"), ProtocolError);
  EXPECT_THROW(parse_claim_response("nope"), ProtocolError);
}

TEST(Messages, JobHeartbeatResponse) {
  auto r = parse_job_heartbeat_response(
      R"({"lease": {"token": "l_2", "expires_at": "2026-01-01T00:00:00Z"}, "cancel_requested": true})");
  EXPECT_EQ(r.lease.token, "l_2");
  EXPECT_TRUE(r.cancel_requested);
  auto empty = parse_job_heartbeat_response("{}");
  EXPECT_TRUE(empty.lease.token.empty());
  EXPECT_FALSE(empty.cancel_requested);
  EXPECT_THROW(parse_job_heartbeat_response(R"({"cancel_requested": "no"})"), ProtocolError);
}

TEST(Messages, RequestsMatchTheProtocol) {
  ConnectRequest c{"inst", "1.0.0", "host", 4, {{"postgres", {"test_connection", "query"}}}};
  auto j = to_json(c);
  EXPECT_EQ(j["instance_id"], "inst");
  EXPECT_EQ(j["capacity"], 4);
  EXPECT_EQ(j["connectors"][0]["type"], "postgres");
  EXPECT_EQ(j["connectors"][0]["job_types"][1], "query");

  EXPECT_EQ(to_json(ClaimRequest{"inst", 3, 20000ms}),
            json::parse(R"({"instance_id": "inst", "capacity": 3, "wait_ms": 20000})"));
  EXPECT_EQ(to_json(JobHeartbeatRequest{"l", 12}),
            json::parse(R"({"lease_token": "l", "progress": {"rows": 12}})"));
  EXPECT_EQ(to_json(JobHeartbeatRequest{"l", std::nullopt}),
            json::parse(R"({"lease_token": "l"})"));
  EXPECT_EQ(to_json(ReleaseRequest{"l", "shutdown"}),
            json::parse(R"({"lease_token": "l", "reason": "shutdown"})"));
  auto hb = to_json(AgentHeartbeatRequest{"inst", 2, 8, 360000, "1.4.0"});
  EXPECT_EQ(hb["running"], 2);
  EXPECT_EQ(hb["uptime_ms"], 360000);
}

TEST(Messages, ResultRequestSuccessAndFailure) {
  ResultRequest ok;
  ok.lease_token = "l";
  ok.started_at = "a";
  ok.finished_at = "b";
  ok.result = {{"row_count", 1}};
  ok.parts = 2;
  auto j = to_json(ok);
  EXPECT_EQ(j["status"], "succeeded");
  EXPECT_EQ(j["parts"], 2);
  EXPECT_EQ(j["result"]["row_count"], 1);
  EXPECT_FALSE(j.contains("error"));

  ResultRequest bad;
  bad.succeeded = false;
  bad.error = JobError{ErrorCode::kAuthFailed, "password authentication failed", false};
  j = to_json(bad);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["error"]["code"], "auth_failed");
  EXPECT_EQ(j["error"]["retryable"], false);
  EXPECT_FALSE(j.contains("result"));
}

TEST(Messages, ErrorBody) {
  auto e = parse_error_body(R"({"error": {"code": "unknown_instance", "message": "who?"}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "unknown_instance");
  EXPECT_EQ(e->message, "who?");
  EXPECT_FALSE(parse_error_body("not json"));
  EXPECT_FALSE(parse_error_body(R"({"error": "flat"})"));
}

TEST(Messages, PathSegmentsAreEncoded) {
  EXPECT_EQ(encode_path_segment("job_42"), "job_42");
  EXPECT_EQ(encode_path_segment("../x y/?"), "..%2Fx%20y%2F%3F");
}

TEST(Messages, Rfc3339Timestamps) {
  const auto t = now_rfc3339();
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace outpost::protocol

// Issue 14 class 7: hostile control-plane answers.
namespace outpost::protocol {
namespace {

std::string nested(int depth) {
  return std::string(static_cast<std::size_t>(depth), '[') +
         std::string(static_cast<std::size_t>(depth), ']');
}

TEST(JsonDepthBound, PreScanCountsOnlyOutsideStrings) {
  EXPECT_FALSE(nests_deeper_than(nested(64), 64));
  EXPECT_TRUE(nests_deeper_than(nested(65), 64));
  EXPECT_FALSE(nests_deeper_than("\"" + std::string(1000, '[') + "\"", 64));
  EXPECT_FALSE(nests_deeper_than(
      R"(["\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["])", 64));
  EXPECT_TRUE(nests_deeper_than(std::string(100'000, '{'), 64));  // unterminated too
}

TEST(JsonDepthBound, EveryParserRefusesDeepAnswers) {
  const std::string deep_params = R"({"jobs":[{"id":"j","params":)" + std::string(100'000, '[') +
                                  std::string(100'000, ']') + "}]}";
  EXPECT_THROW(parse_claim_response(deep_params), ProtocolError);
  EXPECT_THROW(parse_session(R"({"agent_id":"a","x":)" + nested(70) + "}"), ProtocolError);
  EXPECT_THROW(parse_job_heartbeat_response(R"({"x":)" + nested(70) + "}"), ProtocolError);
  EXPECT_FALSE(parse_error_body(R"({"error":{"code":"c","message":"m"},"x":)" + nested(70) + "}"));
  // 64 levels in all (the document itself is level 1) still parse.
  const auto ok = parse_claim_response(R"({"jobs":[{"params":)" + nested(61) + "}]}");
  EXPECT_EQ(ok.jobs.size(), 1u);
}

TEST(PathSegments, NoDotSegmentsOrSlashes) {
  EXPECT_EQ(encode_path_segment(".."), "%2E%2E");
  EXPECT_EQ(encode_path_segment("."), "%2E");
  EXPECT_EQ(encode_path_segment("a/b"), "a%2Fb");
  EXPECT_EQ(encode_path_segment("job_1.2"), "job_1.2");
  EXPECT_EQ(encode_path_segment("a\r\nb"), "a%0D%0Ab");
  EXPECT_EQ(encode_path_segment("%2e"), "%252e");
}

TEST(JobFields, IdAndLeaseTokenCharsets) {
  EXPECT_TRUE(valid_job_id("job_42"));
  EXPECT_FALSE(valid_job_id(".."));
  EXPECT_FALSE(valid_job_id("a/b"));
  EXPECT_FALSE(valid_job_id(""));
  EXPECT_FALSE(valid_job_id(std::string(201, 'a')));
  EXPECT_TRUE(valid_lease_token("l_0123abcdef+/="));
  EXPECT_FALSE(valid_lease_token("l\r\nX: y"));
  EXPECT_FALSE(valid_lease_token(std::string(513, 'a')));
}

TEST(JobFields, RenewedLeaseTokenWithCrLfIsAProtocolError) {
  EXPECT_THROW(parse_job_heartbeat_response(R"({"lease":{"token":"l\r\nX-Injected: 1"}})"),
               ProtocolError);
  EXPECT_EQ(parse_job_heartbeat_response(R"({"lease":{"token":"l_2"}})").lease.token, "l_2");
}

}  // namespace
}  // namespace outpost::protocol
