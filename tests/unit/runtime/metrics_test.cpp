#include "observability/metrics.hpp"

#include <gtest/gtest.h>

#include "observability/health_server.hpp"

namespace outpost::obs {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Metrics, ContractNamesArePresentFromTheStart) {
  Metrics m("1.2.3");
  m.declare_control_plane_error_kinds({"network", "unauthorized"});
  m.declare_job_series("query", "sqlite");
  const auto text = m.serialize();
  EXPECT_TRUE(has_line(text, R"(outpost_build_info{version="1.2.3"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "outpost_jobs_running 0")) << text;
  EXPECT_TRUE(has_line(text, "outpost_stale_results_total 0")) << text;
  EXPECT_TRUE(has_line(text, R"(outpost_claims_total{result="empty"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(outpost_control_plane_errors_total{kind="network"} 0)")) << text;
  EXPECT_NE(text.find("outpost_last_contact_timestamp_seconds"), std::string::npos);
  EXPECT_NE(text.find("# TYPE outpost_jobs_total counter"), std::string::npos);
  EXPECT_NE(text.find("# TYPE outpost_job_duration_seconds histogram"), std::string::npos);
  EXPECT_TRUE(has_line(
      text, R"(outpost_jobs_total{connector="sqlite",status="succeeded",type="query"} 0)"));
  EXPECT_TRUE(has_line(text, R"(outpost_job_duration_seconds_count{type="query"} 0)"));
}

TEST(Metrics, CountersMove) {
  Metrics m("1.0.0");
  m.job_finished("query", "postgres", "succeeded", std::chrono::milliseconds(30));
  m.job_finished("query", "postgres", "succeeded", std::chrono::milliseconds(70));
  m.job_finished("metadata", "sqlite", "failed", std::chrono::seconds(2));
  m.claim("jobs");
  m.control_plane_error("timeout");
  m.stale_result();
  m.set_running(3);
  m.contact();
  const auto text = m.serialize();
  EXPECT_TRUE(has_line(
      text, R"(outpost_jobs_total{connector="postgres",status="succeeded",type="query"} 2)"))
      << text;
  EXPECT_TRUE(
      has_line(text, R"(outpost_jobs_total{connector="sqlite",status="failed",type="metadata"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(outpost_job_duration_seconds_count{type="query"} 2)")) << text;
  EXPECT_TRUE(has_line(text, R"(outpost_job_duration_seconds_bucket{type="query",le="0.05"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, R"(outpost_claims_total{result="jobs"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(outpost_control_plane_errors_total{kind="timeout"} 1)")) << text;
  EXPECT_TRUE(has_line(text, "outpost_stale_results_total 1")) << text;
  EXPECT_TRUE(has_line(text, "outpost_jobs_running 3")) << text;
  EXPECT_EQ(text.find("outpost_last_contact_timestamp_seconds 0\n"), std::string::npos);
}

TEST(HostPort, Parses) {
  auto a = parse_host_port("0.0.0.0:8080");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8080);
  auto b = parse_host_port("[::1]:9090");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 9090);
  EXPECT_FALSE(parse_host_port("8080"));
  EXPECT_FALSE(parse_host_port(":8080"));
  EXPECT_FALSE(parse_host_port("host:"));
  EXPECT_FALSE(parse_host_port("host:99999"));
  EXPECT_FALSE(parse_host_port("host:80x"));
  EXPECT_FALSE(parse_host_port("[::1]8080"));
}

}  // namespace
}  // namespace outpost::obs
