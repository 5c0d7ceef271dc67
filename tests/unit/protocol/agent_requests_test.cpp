#include "protocol/agent_requests.hpp"

#include <gtest/gtest.h>

namespace outpost::protocol {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

/// The code of the RequestError `fn` throws ("" when it does not throw).
template <typename Fn>
std::string error_code_of(Fn fn) {
  try {
    fn();
  } catch (const RequestError& e) {
    return e.code();
  }
  return "";
}

TEST(AgentRequests, ConnectRoundTrip) {
  ConnectRequest sent;
  sent.instance_id = "7f0c";
  sent.version = "1.4.0";
  sent.hostname = "agent-6d9f";
  sent.capacity = 8;
  sent.connectors.push_back({"postgres", {"test_connection", "metadata", "query"}});
  const auto read = parse_connect_request(to_body(to_json(sent)));
  EXPECT_EQ(read.instance_id, "7f0c");
  EXPECT_EQ(read.version, "1.4.0");
  EXPECT_EQ(read.hostname, "agent-6d9f");
  EXPECT_EQ(read.capacity, 8);
  ASSERT_EQ(read.connectors.size(), 1u);
  EXPECT_EQ(read.connectors[0].type, "postgres");
  EXPECT_EQ(read.connectors[0].job_types.size(), 3u);
}

TEST(AgentRequests, ConnectIgnoresUnknownFieldsAndDefaultsMissingOnes) {
  const auto read = parse_connect_request(R"({"future_field": {"x": 1}})");
  EXPECT_EQ(read.instance_id, "");
  EXPECT_EQ(read.capacity, 0);
  EXPECT_TRUE(read.connectors.empty());
  EXPECT_EQ(error_code_of([] { parse_connect_request(R"({"capacity": "8"})"); }), "invalid_field");
  EXPECT_EQ(error_code_of([] { parse_connect_request(R"({"connectors": {}})"); }), "invalid_field");
}

TEST(AgentRequests, ClaimRoundTripAndCapacityRules) {
  const auto read = parse_claim_request(to_body(to_json(ClaimRequest{"i1", 3, 20000ms})));
  EXPECT_EQ(read.instance_id, "i1");
  EXPECT_EQ(read.capacity, 3);
  ASSERT_TRUE(read.wait.has_value());
  EXPECT_EQ(*read.wait, 20000ms);
  EXPECT_FALSE(parse_claim_request(R"({"capacity": 1})").wait.has_value());
  EXPECT_EQ(error_code_of([] { parse_claim_request(R"({"instance_id": "i"})"); }), "missing_field");
  EXPECT_EQ(error_code_of([] { parse_claim_request(R"({"capacity": 0})"); }), "invalid_field");
  EXPECT_EQ(error_code_of([] { parse_claim_request(R"({"capacity": 1, "wait_ms": -1})"); }),
            "invalid_field");
}

TEST(AgentRequests, JobHeartbeatRoundTrip) {
  const auto read = parse_job_heartbeat_request(to_body(to_json(JobHeartbeatRequest{"l_1", 1200})));
  EXPECT_EQ(read.lease_token, "l_1");
  ASSERT_TRUE(read.rows.has_value());
  EXPECT_EQ(*read.rows, 1200u);
  EXPECT_FALSE(parse_job_heartbeat_request(R"({"lease_token": "t"})").rows.has_value());
  EXPECT_EQ(error_code_of([] { parse_job_heartbeat_request(R"({"progress": {}})"); }),
            "missing_field");
}

TEST(AgentRequests, ResultSuccessRoundTrip) {
  ResultRequest sent;
  sent.lease_token = "l_9a";
  sent.started_at = "2026-11-22T10:00:00.000Z";
  sent.finished_at = "2026-11-22T10:00:01.000Z";
  sent.result = {{"row_count", 1}, {"rows", {{12}}}};
  sent.parts = 2;
  const auto read = parse_result_request(to_body(to_json(sent)));
  EXPECT_TRUE(read.succeeded);
  EXPECT_EQ(read.lease_token, "l_9a");
  EXPECT_EQ(read.started_at, sent.started_at);
  EXPECT_EQ(read.finished_at, sent.finished_at);
  EXPECT_EQ(read.result, sent.result);
  EXPECT_EQ(read.parts, 2u);
  EXPECT_FALSE(read.error.has_value());
}

TEST(AgentRequests, ResultFailureRoundTrip) {
  ResultRequest sent;
  sent.lease_token = "l";
  sent.succeeded = false;
  sent.error = JobError{ErrorCode::kAuthFailed, "password authentication failed", false};
  const auto read = parse_result_request(to_body(to_json(sent)));
  EXPECT_FALSE(read.succeeded);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_EQ(read.error->code, ErrorCode::kAuthFailed);
  EXPECT_EQ(read.error->message, "password authentication failed");
  // A failure without an error object still says what happened.
  const auto bare = parse_result_request(R"({"lease_token": "l", "status": "failed"})");
  ASSERT_TRUE(bare.error.has_value());
  EXPECT_EQ(bare.error->code, ErrorCode::kInternal);
}

TEST(AgentRequests, ResultRefusesWhatTheProtocolDoesNotAllow) {
  EXPECT_EQ(error_code_of([] { parse_result_request(R"({"lease_token": "l", "status": "ok"})"); }),
            "invalid_field");
  EXPECT_EQ(error_code_of([] { parse_result_request(R"({"status": "succeeded"})"); }),
            "missing_field");
  EXPECT_EQ(error_code_of([] {
              parse_result_request(R"({"lease_token": "l", "status": "succeeded", "result": []})");
            }),
            "invalid_field");
  EXPECT_EQ(error_code_of([] {
              parse_result_request(
                  R"({"lease_token": "l", "status": "failed", "error": {"code": "oops"}})");
            }),
            "invalid_field");
  EXPECT_EQ(error_code_of([] {
              parse_result_request(R"({"lease_token": "l", "status": "succeeded", "parts": -1})");
            }),
            "invalid_field");
}

TEST(AgentRequests, NotUtf8IsReplacedNotThrown) {
  ResultRequest sent;
  sent.lease_token = "l";
  sent.succeeded = false;
  sent.error = JobError{ErrorCode::kQueryError, std::string("relation \xE9t\xE9 missing"), false};
  std::string body;
  ASSERT_NO_THROW(body = to_body(to_json(sent)));
  const auto read = parse_result_request(body);
  ASSERT_TRUE(read.error.has_value());
  EXPECT_NE(read.error->message.find("\xEF\xBF\xBD"), std::string::npos) << read.error->message;
}

TEST(AgentRequests, ReleaseAndAgentHeartbeatRoundTrip) {
  const auto release = parse_release_request(to_body(to_json(ReleaseRequest{"l", "shutdown"})));
  EXPECT_EQ(release.lease_token, "l");
  EXPECT_EQ(release.reason, "shutdown");
  EXPECT_EQ(error_code_of([] { parse_release_request("{}"); }), "missing_field");

  const auto hb = parse_agent_heartbeat_request(
      to_body(to_json(AgentHeartbeatRequest{"i", 2, 8, 360000, "1.4.0"})));
  EXPECT_EQ(hb.instance_id, "i");
  EXPECT_EQ(hb.running, 2);
  EXPECT_EQ(hb.capacity, 8);
  EXPECT_EQ(hb.uptime_ms, 360000);
  EXPECT_EQ(hb.version, "1.4.0");
  EXPECT_EQ(parse_agent_heartbeat_request("{}").capacity, 0);
}

TEST(AgentRequests, BodiesThatAreNotObjects) {
  EXPECT_EQ(error_code_of([] { parse_claim_request("not json"); }), "invalid_json");
  EXPECT_EQ(error_code_of([] { parse_claim_request("[1]"); }), "invalid_json");
  EXPECT_EQ(error_code_of([] { parse_claim_request(std::string(100, '[')); }), "invalid_json");
}

TEST(AgentRequests, PartSequenceNumbers) {
  EXPECT_EQ(parse_part_seq("0"), 0u);
  EXPECT_EQ(parse_part_seq("42"), 42u);
  for (const char* bad : {"", "-1", "1a", "+1", " 1", "99999999999999999999", "10000000"}) {
    EXPECT_EQ(error_code_of([bad] { parse_part_seq(bad); }), "invalid_field") << bad;
  }
}

TEST(AgentRequests, AnswersReadBackByTheAgentsParsers) {
  Session s;
  s.agent_id = "agt_1";
  s.agent_name = "prod";
  s.poll_wait = 5000ms;
  s.heartbeat_interval = 500ms;
  s.lease_ttl = 3000ms;
  s.accepts_gzip = true;
  s.max_part_bytes = 65536;
  const auto session = parse_session(to_body(to_json(s)));
  EXPECT_EQ(session.agent_id, "agt_1");
  EXPECT_EQ(session.agent_name, "prod");
  EXPECT_EQ(session.poll_wait, 5000ms);
  EXPECT_EQ(session.heartbeat_interval, 500ms);
  EXPECT_EQ(session.lease_ttl, 3000ms);
  EXPECT_TRUE(session.accepts_gzip);
  EXPECT_EQ(session.max_part_bytes, 65536u);

  const auto hb = parse_job_heartbeat_response(
      to_body(to_json(JobHeartbeatResponse{{"l_2", "2026-11-22T10:00:30Z"}, true})));
  EXPECT_EQ(hb.lease.token, "l_2");
  EXPECT_TRUE(hb.cancel_requested);

  ClaimResponse claim;
  claim.jobs.push_back({{"id", "job_1"}});
  EXPECT_EQ(parse_claim_response(to_body(to_json(claim))).jobs.size(), 1u);

  const auto err = parse_error_body(to_body(to_json(ErrorBody{"lease_conflict", "stale"})));
  ASSERT_TRUE(err.has_value());
  EXPECT_EQ(err->code, "lease_conflict");
  EXPECT_EQ(err->message, "stale");
}

}  // namespace
}  // namespace outpost::protocol
