#include "control_plane/client.hpp"

#include <gtest/gtest.h>

#include "http/message.hpp"

namespace outpost::control_plane {
namespace {

using namespace std::chrono_literals;

TEST(Classify, StatusCodesMapToKinds) {
  EXPECT_EQ(classify_status(401, "", {}).kind, ErrorKind::kUnauthorized);
  EXPECT_EQ(classify_status(403, "", {}).kind, ErrorKind::kForbidden);
  EXPECT_EQ(classify_status(404, "", {}).kind, ErrorKind::kNotFound);
  EXPECT_EQ(classify_status(409, "", {}).kind, ErrorKind::kConflict);
  EXPECT_EQ(classify_status(410, "", {}).kind, ErrorKind::kGone);
  EXPECT_EQ(classify_status(413, "", {}).kind, ErrorKind::kTooLarge);
  EXPECT_EQ(classify_status(429, "", {}).kind, ErrorKind::kRateLimited);
  EXPECT_EQ(classify_status(503, "", {}).kind, ErrorKind::kUnavailable);
  EXPECT_EQ(classify_status(500, "", {}).kind, ErrorKind::kServerError);
  EXPECT_EQ(classify_status(418, "", {}).kind, ErrorKind::kOtherStatus);
  EXPECT_TRUE(classify_status(429, "", {}).transient());
  EXPECT_TRUE(classify_status(502, "", {}).transient());
  EXPECT_TRUE(classify_status(500, "", {}).transient());
  EXPECT_FALSE(classify_status(401, "", {}).transient());
  EXPECT_FALSE(classify_status(400, "", {}).transient());
}

TEST(Classify, RetryAfterAndUnknownInstance) {
  EXPECT_EQ(classify_status(429, "", std::string_view("7")).retry_after, 7000ms);
  EXPECT_EQ(classify_status(503, "", std::string_view("2")).retry_after, 2000ms);
  EXPECT_FALSE(classify_status(503, "", std::string_view("Wed, 21 Oct 2015")).retry_after);
  EXPECT_FALSE(classify_status(500, "", std::string_view("3")).retry_after);
  // §2 lists 502 and 504 with 429 and 503: Retry-After counts on all four.
  EXPECT_EQ(classify_status(502, "", std::string_view("4")).retry_after, 4000ms);
  EXPECT_EQ(classify_status(504, "", std::string_view("5")).retry_after, 5000ms);
  auto e = classify_status(409, R"({"error": {"code": "unknown_instance", "message": "m"}})", {});
  EXPECT_TRUE(e.unknown_instance());
  EXPECT_FALSE(classify_status(409, R"({"error": {"code": "lease_lost"}})", {}).unknown_instance());
}

TEST(ToCall, TwoHundredsAreBodiesOthersAreClassified) {
  http::Outcome ok;
  ok.response.emplace();
  ok.response->status = 204;
  ok.response->body = "";
  auto value = to_call(ok);
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value.value, "");

  http::Outcome limited;
  limited.response.emplace();
  limited.response->status = 429;
  limited.response->headers.push_back({"retry-after", "3"});
  limited.response->body = R"({"error": {"code": "rate_limited", "message": "slow\ndown"}})";
  auto error = to_call(limited);
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(error.error.retry_after, 3000ms);
  EXPECT_EQ(error.error.code, "rate_limited");
  EXPECT_EQ(error.error.message, "slow down");

  http::Outcome moved;
  moved.response.emplace();
  moved.response->status = 302;  // not followed: the base URL must be the API itself
  moved.response->headers.push_back({"Location", "https://login.example.com/"});
  EXPECT_EQ(to_call(moved).error.kind, ErrorKind::kOtherStatus);

  http::Outcome broken;
  broken.failure = http::FailureKind::kProtocol;
  broken.error = "invalid HTTP response: bad version";
  auto network = to_call(broken);
  EXPECT_EQ(network.error.kind, ErrorKind::kNetwork);
  EXPECT_EQ(network.error.status, 0);
  EXPECT_TRUE(network.error.transient());
  http::Outcome timed_out;
  timed_out.failure = http::FailureKind::kTimeout;
  EXPECT_EQ(to_call(timed_out).error.kind, ErrorKind::kTimeout);
  EXPECT_EQ(to_call(timed_out).error.message, "timeout");
}

TEST(Gzip, RoundTripHeader) {
  const std::string data(10000, 'a');
  const auto z = http::gzip(data);
  ASSERT_GE(z.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(z[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(z[1]), 0x8b);
  EXPECT_LT(z.size(), data.size() / 10);
}

}  // namespace
}  // namespace outpost::control_plane
