// The `profile` job of jobs-v1.1 on every connector that advertises it: its
// figures compared with the exact SQL aggregates the test computes through a
// query job on the same data, top-k and histograms on known data, sampling
// stated, a long profile cancelled and one stopped by its deadline. A
// connector that does not advertise it answers `unsupported`.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "integration/conformance/conformance_target.hpp"
#include "support/collecting_sink.hpp"

namespace outpost::test::conformance {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string code(const JobResult& r) {
  return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "ok";
}

double number(const json& v) {
  return v.is_string() ? std::stod(v.get<std::string>()) : v.get<double>();
}

class Profile : public ::testing::TestWithParam<std::string> {
 protected:
  Target& t() { return target(GetParam()); }
  bool supported() {
    const auto types = t().connector().job_types();
    return std::find(types.begin(), types.end(), JobType::kProfile) != types.end();
  }
  JobResult run(JobType type, const json& params, CancelToken& cancel,
                std::chrono::milliseconds timeout = 60s, CollectingSink* into = nullptr) {
    Job j;
    j.id = "job_profile";
    j.type = type;
    j.timeout = timeout;
    j.source = Source{"src_conf", "conf", t().source_type(), t().reader(), ""};
    set_params(j, params);
    CollectingSink own;
    CollectingSink& sink = into != nullptr ? *into : own;
    JobContext ctx{j,           sink, cancel, guard_, std::chrono::steady_clock::now() + timeout,
                   t().policy()};
    return t().connector().run(ctx);
  }
  JobResult profile(const json& params, std::chrono::milliseconds timeout = 60s) {
    CancelToken cancel;
    return run(JobType::kProfile, params, cancel, timeout);
  }
  // The one row of `sql`, run as a query job: the database's own figures.
  json exact(const std::string& sql) {
    CancelToken cancel;
    CollectingSink sink;
    auto r = run(JobType::kQuery, {{"sql", sql}}, cancel, 60s, &sink);
    EXPECT_TRUE(r.ok()) << code(r);
    return sink.rows().empty() ? json::array() : sink.rows()[0];
  }
  static const json& column(const JobResult& r, const std::string& name) {
    for (const auto& c : r.result["columns"]) {
      if (c["name"] == name) return c;
    }
    static const json none;
    ADD_FAILURE() << "no column " << name << " in " << r.result.dump();
    return none;
  }
  std::string table(const std::string& name) {
    return t().schema() == "main" ? name : t().schema() + "." + name;
  }

  AllowingNetworkGuard guard_;
};

// ODBC reaches databases through drivers whose SQL it cannot know: it does
// not advertise profile. Every other target must.
bool profiles(const std::string& target_name) {
  return target_name.rfind("odbc", 0) != 0;
}

std::vector<std::string> targets_where(bool profiled) {
  std::vector<std::string> out;
  for (const auto& name : target_names()) {
    if (profiles(name) == profiled) out.push_back(name);
  }
  return out;
}

class ProfileUnsupported : public Profile {};

TEST_P(ProfileUnsupported, ConnectorSaysSo) {
  ASSERT_FALSE(supported());
  const auto r = profile({{"table", "items"}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kUnsupported) << code(r);
}

TEST_P(Profile, QueryFiguresMatchTheDatabasesOwnAggregates) {
  ASSERT_TRUE(supported());
  const std::string series = t().series_sql(1000);
  const auto r = profile({{"sql", series}});
  ASSERT_TRUE(r.ok()) << code(r);
  const json want = exact(
      "SELECT count(*), count(DISTINCT label), min(label), max(label), "
      "min(length(label)), max(length(label)), avg(length(label)), "
      "avg(id), min(id), max(id) FROM (" +
      series + ") AS q");
  ASSERT_EQ(want.size(), 10u) << want.dump();
  EXPECT_EQ(r.result["row_count"], 1000) << r.result.dump();
  EXPECT_EQ(r.result["row_count_exact"], true);
  EXPECT_EQ(r.result["sampled_rows"], 1000);
  EXPECT_TRUE(r.result["sample"].is_null());
  const json& id = column(r, "id");
  EXPECT_EQ(id["null_count"], 0) << id.dump();
  EXPECT_EQ(id["distinct_count"], 1000);
  EXPECT_EQ(id["distinct_exact"], true);
  EXPECT_DOUBLE_EQ(number(id["min"]), number(want[8]));
  EXPECT_DOUBLE_EQ(number(id["max"]), number(want[9]));
  EXPECT_NEAR(id["mean"].get<double>(), number(want[7]), 1e-9);
  EXPECT_NEAR(id["stddev"].get<double>(), std::sqrt(1000.0 * 1001.0 / 12.0), 1e-6);
  const json& label = column(r, "label");
  EXPECT_EQ(label["distinct_count"], number(want[1])) << label.dump();
  EXPECT_EQ(label["min"], want[2]);
  EXPECT_EQ(label["max"], want[3]);
  EXPECT_EQ(label["min_length"], number(want[4]));
  EXPECT_EQ(label["max_length"], number(want[5]));
  EXPECT_NEAR(label["avg_length"].get<double>(), number(want[6]), 1e-9);
  EXPECT_TRUE(label["mean"].is_null());
}

TEST_P(Profile, TableWithNullsColumnsTopKAndHistogram) {
  ASSERT_TRUE(supported());
  auto r = profile({{"table", "items"}, {"schema", t().schema()}, {"columns", {"label", "id"}}});
  ASSERT_TRUE(r.ok()) << code(r);
  ASSERT_EQ(r.result["columns"].size(), 2u) << r.result.dump();
  EXPECT_EQ(r.result["columns"][0]["name"], "label");
  EXPECT_EQ(r.result["row_count"], 3);
  EXPECT_EQ(column(r, "id")["mean"], 2.0);
  EXPECT_EQ(column(r, "label")["min_length"], 3);  // "one", "two"

  // id % 3 over 1..10: 1 ×4, 0 ×3, 2 ×3; NULL for id > 8 (2 nulls).
  const std::string sql = "SELECT CASE WHEN id > 8 THEN NULL ELSE id % 3 END AS m, id FROM (" +
                          t().series_sql(10) + ") AS s";
  r = profile({{"sql", sql}, {"top_k", 2}, {"histogram_bins", 3}});
  ASSERT_TRUE(r.ok()) << code(r);
  const json& m = column(r, "m");
  EXPECT_EQ(m["null_count"], 2) << m.dump();
  EXPECT_EQ(m["distinct_count"], 3);
  ASSERT_EQ(m["top_k"].size(), 2u) << m.dump();
  EXPECT_EQ(number(m["top_k"][0]["value"]), 1);
  EXPECT_EQ(m["top_k"][0]["count"], 3);  // 1, 4, 7
  EXPECT_EQ(m["top_k"][1]["count"], 3);
  const json& hist = column(r, "id")["histogram"];
  ASSERT_EQ(hist.size(), 3u) << hist.dump();
  EXPECT_EQ(hist[0]["count"], 3);  // 1, 2, 3
  EXPECT_EQ(hist[1]["count"], 3);  // 4, 5, 6
  EXPECT_EQ(hist[2]["count"], 4);  // 7 … 10
  EXPECT_EQ(number(hist[0]["lo"]), 1);
  EXPECT_EQ(number(hist[2]["hi"]), 10);
}

TEST_P(Profile, SamplesAreStatedWithTheirSize) {
  ASSERT_TRUE(supported());
  const std::string series = t().series_sql(1000);
  auto r = profile({{"sql", series}, {"sample_rows", 100}});
  ASSERT_TRUE(r.ok()) << code(r);
  EXPECT_EQ(r.result["sampled_rows"], 100) << r.result.dump();
  EXPECT_EQ(r.result["sample"], "random 100 rows");
  EXPECT_EQ(column(r, "id")["distinct_count"], 100);
  EXPECT_EQ(column(r, "id")["distinct_exact"], false);

  r = profile({{"sql", series}, {"sample_percent", 50}});
  ASSERT_TRUE(r.ok()) << code(r);
  ASSERT_TRUE(r.result["sample"].is_string()) << r.result.dump();
  EXPECT_NE(r.result["sample"].get<std::string>().find("50%"), std::string::npos);
  // A Bernoulli draw of 1000 rows at 1/2: 6 standard deviations is ±95.
  const auto n = r.result["sampled_rows"].get<std::int64_t>();
  EXPECT_GT(n, 405) << r.result.dump();
  EXPECT_LT(n, 595) << r.result.dump();
  EXPECT_EQ(column(r, "id")["null_count"], 0);
}

TEST_P(Profile, NamesAreNamesAndMissingOnesAreNamed) {
  ASSERT_TRUE(supported());
  auto r = profile({{"table", "items; DROP TABLE items"}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError) << code(r);
  r = profile({{"table", "items"}, {"schema", t().schema()}, {"columns", {"id", "nope\"x"}}});
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->code, ErrorCode::kQueryError) << code(r);
  EXPECT_NE(r.error->message.find("nope\"x"), std::string::npos) << code(r);
  // A query is one SELECT inside the profile's: closing it early to write a
  // file on the server fails (MySQL's guard names it; elsewhere a syntax error).
  r = profile({{"sql", "SELECT 1) AS q INTO OUTFILE '/tmp/outpost-profile' -- "}});
  ASSERT_TRUE(r.error) << r.result.dump();
  if (GetParam() == "mysql") {
    EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << code(r);
  }
  EXPECT_EQ(number(exact("SELECT count(*) FROM " + table("items"))[0]), 3);
}

TEST_P(Profile, ALongProfileIsCancelled) {
  ASSERT_TRUE(supported());
  CancelToken cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    cancel.cancel(CancelReason::kRequested);
  });
  const auto r = run(JobType::kProfile, {{"sql", t().endless_sql()}}, cancel);
  stopper.join();
  ASSERT_TRUE(r.error) << r.result.dump();
  EXPECT_EQ(r.error->code, ErrorCode::kCancelled) << code(r);
}

TEST_P(Profile, ALongProfileStopsAtItsDeadline) {
  ASSERT_TRUE(supported());
  CancelToken cancel;
  std::thread stopper([&] {
    std::this_thread::sleep_for(1s);
    cancel.cancel(CancelReason::kTimeout);
  });
  const auto r = run(JobType::kProfile, {{"sql", t().endless_sql()}}, cancel, 1s);
  stopper.join();
  ASSERT_TRUE(r.error) << r.result.dump();
  EXPECT_EQ(r.error->code, ErrorCode::kTimeout) << code(r);
}

// The conformance fixtures keep no statement statistics (no
// pg_stat_statements, performance_schema off): every connector says
// `unsupported` and why; query_log_test.cpp runs it where they are kept.
class QueryLogAbsent : public Profile {};

TEST_P(QueryLogAbsent, UnsupportedWithTheReason) {
  CancelToken cancel;
  const auto r = run(JobType::kQueryLog, {{"limit", 10}}, cancel);
  ASSERT_TRUE(r.error) << r.result.dump();
  EXPECT_EQ(r.error->code, ErrorCode::kUnsupported) << code(r);
  EXPECT_GT(r.error->message.size(), 20u) << code(r);
}

std::string param_name(const ::testing::TestParamInfo<std::string>& target_info) {
  return target_info.param;
}

INSTANTIATE_TEST_SUITE_P(Connectors, Profile, ::testing::ValuesIn(targets_where(true)), param_name);
INSTANTIATE_TEST_SUITE_P(Connectors, ProfileUnsupported, ::testing::ValuesIn(targets_where(false)),
                         param_name);
INSTANTIATE_TEST_SUITE_P(Connectors, QueryLogAbsent, ::testing::ValuesIn(target_names()),
                         param_name);

}  // namespace
}  // namespace outpost::test::conformance
