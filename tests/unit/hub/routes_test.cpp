// Transport helpers: metric route patterns, answers to HTTP, query strings
// and RFC 3339 times.
#include "hub.hpp"

#include <gtest/gtest.h>

namespace outpost::hub {
namespace {

TEST(RoutePattern, NamesPatternsNotRawPaths) {
  EXPECT_EQ(route_pattern("/healthz"), "/healthz");
  EXPECT_EQ(route_pattern("/metrics"), "/metrics");
  EXPECT_EQ(route_pattern("/api/v1/agent/jobs/claim"), "/api/v1/agent/jobs/claim");
  EXPECT_EQ(route_pattern("/api/v1/admin/schedules"), "/api/v1/admin/schedules");
  EXPECT_EQ(route_pattern("/api/v1/admin/schedules/sch_3"), "/api/v1/admin/schedules/{id}");
  EXPECT_EQ(route_pattern("/api/v1/agent/jobs/job_42/result"), "/api/v1/agent/jobs/{id}/result");
  EXPECT_EQ(route_pattern("/api/v1/agent/jobs/job_42/parts/7"),
            "/api/v1/agent/jobs/{id}/parts/{seq}");
  EXPECT_EQ(route_pattern("/api/v1/admin/jobs"), "/api/v1/admin/jobs");
  EXPECT_EQ(route_pattern("/api/v1/admin/jobs/job_1/rows"), "/api/v1/admin/jobs/{id}/rows");
  EXPECT_EQ(route_pattern("/api/v1/admin/tokens/tok_3"), "/api/v1/admin/tokens/{id}");
  // Anything else is one label, whatever the client sends.
  EXPECT_EQ(route_pattern("/api/v1/admin/x" + std::string(50, 'y')), "other");
  EXPECT_EQ(route_pattern("/api/v1/agent/jobs/1/evil/2"), "other");
  EXPECT_EQ(route_pattern("/favicon.ico"), "other");
}

TEST(ToHttp, MapsKindsToStatuses) {
  EXPECT_EQ(to_http(Answer::ok(Json::object())).status, 200);
  EXPECT_EQ(to_http(Answer::of(Answer::Kind::kCreated, Json::object())).status, 201);
  auto no_content = to_http(Answer::of(Answer::Kind::kNoContent, nullptr));
  EXPECT_EQ(no_content.status, 204);
  EXPECT_TRUE(no_content.body.empty());
  auto gone = to_http(Answer::error(Answer::Kind::kGone, "job_cancelled", "stop"));
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(Json::parse(gone.body)["error"]["code"], "job_cancelled");
  EXPECT_EQ(to_http(Answer::error(Answer::Kind::kConflict, "c", "m")).status, 409);
  EXPECT_EQ(to_http(Answer::error(Answer::Kind::kUnavailable, "c", "m")).status, 503);
  Answer text{Answer::Kind::kOk, nullptr, std::string("{\"rows\":[1]}")};
  EXPECT_EQ(to_http(text).body, "{\"rows\":[1]}");
}

TEST(QueryParam, DecodesPercentEscapesAndPlus) {
  EXPECT_EQ(query_param("a=1&b=x%20y+z", "b"), std::optional<std::string>("x y z"));
  EXPECT_EQ(query_param("a=1&b=2", "a"), std::optional<std::string>("1"));
  EXPECT_EQ(query_param("a=1", "c"), std::nullopt);
  EXPECT_EQ(query_param("flag&a=1", "flag"), std::optional<std::string>(""));
  EXPECT_THROW(query_param("a=%zz", "a"), BadRequest);
  EXPECT_THROW(query_param("a=%4", "a"), BadRequest);
}

TEST(Rfc3339, ParsesWhatAgentsSendAndRefusesTheRest) {
  auto t = parse_rfc3339("2026-11-22T10:00:30.123Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(rfc3339(*t), "2026-11-22T10:00:30.123Z");
  EXPECT_EQ(parse_rfc3339("2026-11-22T12:00:30+02:00"), parse_rfc3339("2026-11-22T10:00:30Z"));
  EXPECT_EQ(parse_rfc3339("2026-11-22T10:00:30.5Z"), parse_rfc3339("2026-11-22T10:00:30.500Z"));
  for (const char* bad :
       {"", "yesterday", "2026-11-22", "2026-13-01T00:00:00Z", "2026-11-22T10:00:30",
        "2026-11-22T10:00:30Zjunk", "2026-11-22T25:00:00Z", "2026-11-22T10:00:30.Z"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace outpost::hub
