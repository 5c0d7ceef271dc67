#include "outpost/params.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "outpost/job.hpp"

namespace outpost {
namespace {

using nlohmann::json;

std::optional<JobError> parse(JobType type, const json& params, JobParams& out) {
  return parse_job_params(type, params, out);
}

TEST(JobParams, QueryReadsSqlAndMaxRows) {
  JobParams p;
  ASSERT_FALSE(parse(JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", 10}}, p));
  EXPECT_EQ(p.query.sql, "SELECT 1");
  EXPECT_EQ(p.query.max_rows, 10u);
  ASSERT_FALSE(parse(JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", nullptr}}, p));
  EXPECT_FALSE(p.query.max_rows);
}

struct Refused {
  JobType type;
  json params;
  const char* field;  // named in the message
};

class JobParamsRefused : public ::testing::TestWithParam<Refused> {};

TEST_P(JobParamsRefused, NamesTheField) {
  JobParams p;
  auto error = parse(GetParam().type, GetParam().params, p);
  ASSERT_TRUE(error) << GetParam().params.dump();
  EXPECT_EQ(error->code, ErrorCode::kInvalidJob);
  EXPECT_NE(error->message.find(GetParam().field), std::string::npos) << error->message;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, JobParamsRefused,
    ::testing::Values(
        Refused{JobType::kQuery, json(nullptr), "params.sql"},
        Refused{JobType::kQuery, json::object(), "params.sql"},
        Refused{JobType::kQuery, {{"sql", 7}}, "params.sql"},
        Refused{JobType::kQuery, {{"sql", " \t\r\n"}}, "params.sql"},
        Refused{JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", 0}}, "params.max_rows"},
        Refused{JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", -1}}, "params.max_rows"},
        Refused{JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", 1.5}}, "params.max_rows"},
        Refused{JobType::kQuery, {{"sql", "SELECT 1"}, {"max_rows", "10"}}, "params.max_rows"},
        Refused{JobType::kQuery,
                {{"sql", "SELECT 1"}, {"max_rows", 18446744073709551615ULL}},
                "params.max_rows"},
        Refused{JobType::kQuery, json::array(), "'params'"},
        Refused{JobType::kMetadata, {{"schemas", "public"}}, "params.schemas"},
        Refused{JobType::kMetadata, {{"schemas", {"public", 3}}}, "params.schemas"},
        Refused{JobType::kMetadata, {{"include_views", "yes"}}, "params.include_views"},
        Refused{JobType::kTestConnection, "x", "'params'"},
        Refused{JobType::kVolume, json(nullptr), "params.table"},
        Refused{JobType::kVolume, {{"table", ""}}, "params.table"},
        Refused{JobType::kVolume, {{"table", 3}}, "params.table"},
        Refused{JobType::kVolume, {{"table", std::string("a\0b", 3)}}, "params.table"},
        Refused{JobType::kVolume, {{"table", "t"}, {"schema", ""}}, "params.schema"},
        Refused{JobType::kVolume, {{"table", "t"}, {"exact", "yes"}}, "params.exact"},
        Refused{JobType::kFreshness, json::object(), "params.table"},
        Refused{JobType::kFreshness, {{"table", "t"}, {"column", 1}}, "params.column"},
        Refused{JobType::kProfile, json::object(), "params.table"},
        Refused{JobType::kProfile, {{"table", "t"}, {"sql", "SELECT 1"}}, "params.table"},
        Refused{JobType::kProfile, {{"sql", " "}}, "params.sql"},
        Refused{JobType::kProfile, {{"sql", "SELECT 1"}, {"schema", "s"}}, "params.schema"},
        Refused{JobType::kProfile, {{"table", "t"}, {"columns", json::array()}}, "params.columns"},
        Refused{JobType::kProfile, {{"table", "t"}, {"columns", {"a", ""}}}, "params.columns"},
        Refused{
            JobType::kProfile, {{"table", "t"}, {"sample_percent", 0}}, "params.sample_percent"},
        Refused{
            JobType::kProfile, {{"table", "t"}, {"sample_percent", 101}}, "params.sample_percent"},
        Refused{JobType::kProfile, {{"table", "t"}, {"sample_rows", 0}}, "params.sample_rows"},
        Refused{JobType::kProfile,
                {{"table", "t"}, {"sample_rows", 5}, {"sample_percent", 5}},
                "params.sample_rows"},
        Refused{JobType::kProfile, {{"table", "t"}, {"top_k", 101}}, "params.top_k"},
        Refused{JobType::kProfile, {{"table", "t"}, {"top_k", -1}}, "params.top_k"},
        Refused{
            JobType::kProfile, {{"table", "t"}, {"histogram_bins", "5"}}, "params.histogram_bins"},
        Refused{JobType::kQueryLog, {{"since", "yesterday"}}, "params.since"},
        Refused{JobType::kQueryLog, {{"since", "2026-12-01T00:00:00"}}, "params.since"},
        Refused{JobType::kQueryLog, {{"since", "2026-12-01T00:00:00Z'; --"}}, "params.since"},
        Refused{JobType::kQueryLog, {{"limit", 0}}, "params.limit"},
        Refused{JobType::kQueryLog, {{"limit", 100001}}, "params.limit"}));

TEST(JobParams, ProfileAndQueryLogRead) {
  JobParams p;
  ASSERT_FALSE(parse(JobType::kProfile,
                     {{"table", "orders"},
                      {"schema", "s"},
                      {"columns", {"b", "a"}},
                      {"sample_percent", 2.5},
                      {"top_k", 10},
                      {"histogram_bins", 20}},
                     p));
  ASSERT_TRUE(p.profile.target);
  EXPECT_EQ(p.profile.target->table, "orders");
  EXPECT_EQ(p.profile.target->schema, "s");
  EXPECT_EQ(p.profile.columns, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(p.profile.sample_percent, 2.5);
  EXPECT_EQ(p.profile.top_k, 10u);
  EXPECT_EQ(p.profile.histogram_bins, 20u);
  ASSERT_FALSE(parse(JobType::kProfile, {{"sql", "SELECT 1"}, {"sample_rows", 1000}}, p));
  EXPECT_FALSE(p.profile.target);
  EXPECT_EQ(p.profile.sql, "SELECT 1");
  EXPECT_EQ(p.profile.sample_rows, 1000u);
  EXPECT_EQ(p.profile.top_k, 0u);

  ASSERT_FALSE(parse(JobType::kQueryLog, json(nullptr), p));
  EXPECT_EQ(p.query_log.limit, 1000u);
  EXPECT_FALSE(p.query_log.since);
  ASSERT_FALSE(
      parse(JobType::kQueryLog, {{"since", "2026-12-01T10:00:00.5+02:00"}, {"limit", 5}}, p));
  EXPECT_EQ(p.query_log.since, "2026-12-01T10:00:00.5+02:00");
  EXPECT_EQ(p.query_log.limit, 5u);
}

TEST(JobParams, MonitorsReadTheirTable) {
  JobParams p;
  ASSERT_FALSE(parse(JobType::kVolume, {{"table", "orders"}}, p));
  EXPECT_EQ(p.volume.target.table, "orders");
  EXPECT_FALSE(p.volume.target.schema);
  EXPECT_FALSE(p.volume.exact);
  ASSERT_FALSE(
      parse(JobType::kVolume, {{"table", "orders"}, {"schema", "sales"}, {"exact", true}}, p));
  EXPECT_EQ(p.volume.target.schema, "sales");
  EXPECT_TRUE(p.volume.exact);

  ASSERT_FALSE(parse(JobType::kFreshness, {{"table", "o\"rd"}, {"column", "updated_at"}}, p));
  EXPECT_EQ(p.freshness.target.table, "o\"rd");  // a name, quoted by the connector
  EXPECT_EQ(p.freshness.column, "updated_at");
  ASSERT_FALSE(parse(JobType::kFreshness, {{"table", "orders"}, {"column", nullptr}}, p));
  EXPECT_FALSE(p.freshness.column);
}

TEST(JobType, MonitorNamesRoundTrip) {
  for (auto type : {JobType::kFreshness, JobType::kVolume, JobType::kProfile, JobType::kQueryLog}) {
    EXPECT_EQ(parse_job_type(to_string(type)), type);
  }
  EXPECT_EQ(to_string(JobType::kVolume), "volume");
  EXPECT_EQ(to_string(JobType::kFreshness), "freshness");
  EXPECT_EQ(to_string(JobType::kProfile), "profile");
  EXPECT_EQ(to_string(JobType::kQueryLog), "query_log");
}

TEST(JobParams, MetadataDefaultsAndFilter) {
  JobParams p;
  ASSERT_FALSE(parse(JobType::kMetadata, json(nullptr), p));
  EXPECT_FALSE(p.metadata.schemas);
  EXPECT_TRUE(p.metadata.include_views);
  EXPECT_TRUE(p.metadata.wants("anything"));

  ASSERT_FALSE(parse(JobType::kMetadata, {{"schemas", {"a", "b"}}, {"include_views", false}}, p));
  EXPECT_TRUE(p.metadata.wants("b"));
  EXPECT_FALSE(p.metadata.wants("c"));
  EXPECT_FALSE(p.metadata.include_views);

  // An empty list is a filter that matches nothing (every connector agrees).
  ASSERT_FALSE(parse(JobType::kMetadata, {{"schemas", json::array()}}, p));
  ASSERT_TRUE(p.metadata.schemas);
  EXPECT_FALSE(p.metadata.wants("public"));
}

TEST(JobParams, TestConnectionIgnoresParams) {
  JobParams p;
  EXPECT_FALSE(parse(JobType::kTestConnection, {{"sql", 7}}, p));
}

TEST(Table, WireFormHasEveryField) {
  Table t{"public", "orders", "table", 120, {{"id", "bigint", false, 1}}};
  const json j = to_json(t);
  EXPECT_EQ(j, json::parse(R"({"schema":"public","name":"orders","kind":"table",
      "row_estimate":120,"columns":[{"name":"id","type":"bigint","nullable":false,"ordinal":1}]})"));
  t.row_estimate.reset();
  EXPECT_TRUE(to_json(t)["row_estimate"].is_null());
}

TEST(Table, StatsCarryOnlyWhatIsKnown) {
  Table t{"public", "orders", "table", 120, {}};
  EXPECT_FALSE(to_json(t).contains("stats"));
  TableStats stats;
  stats.n_tup_ins = 10;
  stats.n_dead_tup = 0;
  stats.last_analyze = "2026-12-01T10:00:00.000001Z";
  t.stats = stats;
  EXPECT_EQ(to_json(t)["stats"], json::parse(R"({"n_tup_ins":10,"n_dead_tup":0,
      "last_analyze":"2026-12-01T10:00:00.000001Z"})"));
  t.stats = TableStats{};
  EXPECT_EQ(to_json(t)["stats"], json::object());
}

}  // namespace
}  // namespace outpost

namespace outpost {
namespace {

TEST(TableFingerprint, ChangesWithTheSchemaNotWithCommentsOrStatistics) {
  Table t{"public", "orders", "table", 120, {{"id", "bigint", false, 1}}};
  t.primary_key = std::vector<std::string>{"id"};
  const auto base = fingerprint_text(t);
  Table same = t;
  same.comment = "described";
  same.row_estimate = 5;
  same.size_bytes = 8192;
  same.stats = TableStats{};
  same.stats->n_tup_upd = 3;
  same.columns[0].comment = "the key";
  EXPECT_EQ(fingerprint_text(same), base);

  Table retyped = t;
  retyped.columns[0].type = "integer";
  EXPECT_NE(fingerprint_text(retyped), base);
  Table nullable = t;
  nullable.columns[0].nullable = true;
  EXPECT_NE(fingerprint_text(nullable), base);
  Table keyless = t;
  keyless.primary_key.reset();
  EXPECT_NE(fingerprint_text(keyless), base);
}

TEST(MetadataTables, PatternsUseStarOnly) {
  EXPECT_TRUE(wildcard_match("fact_*", "fact_sales"));
  EXPECT_TRUE(wildcard_match("*", ""));
  EXPECT_TRUE(wildcard_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(wildcard_match("a*b*c", "axxbyy"));
  EXPECT_FALSE(wildcard_match("fact_?", "fact_1"));
  EXPECT_TRUE(wildcard_match("fact_?", "fact_?"));
  EXPECT_FALSE(wildcard_match("Orders", "orders"));
  JobParams p;
  ASSERT_FALSE(parse_job_params(JobType::kMetadata, {{"tables", {"o*", "x"}}}, p));
  EXPECT_TRUE(p.metadata.wants_table("orders"));
  EXPECT_TRUE(p.metadata.wants_table("x"));
  EXPECT_FALSE(p.metadata.wants_table("y"));
  EXPECT_FALSE(parse_job_params(JobType::kMetadata, {{"tables", {""}}}, p) == std::nullopt);
  EXPECT_FALSE(parse_job_params(JobType::kMetadata, {{"include_stats", 1}}, p) == std::nullopt);
}

}  // namespace
}  // namespace outpost
