// PostgreSQL connector: `profile` of a table with a sample (jobs-v1.1
// `sample_percent`, `sample_rows`). The sampled figures are compared with
// the database's own aggregates over the same TABLESAMPLE (REPEATABLE makes
// it the same pages), and `row_count` is the catalog's count of the table.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
using nlohmann::json;

constexpr int kRows = 100000;

// Once per process (ctest runs each test in its own; a filter may run both).
void make_table() {
  static bool made = false;
  if (made) return;
  made = true;
  server().exec(
      "CREATE SCHEMA prof; GRANT USAGE ON SCHEMA prof TO reader; "
      "CREATE TABLE prof.t (id int PRIMARY KEY, v float8, label text); "
      "INSERT INTO prof.t SELECT i, i % 100, CASE WHEN i % 10 = 0 THEN NULL ELSE 'l' || (i % 7) "
      "END "
      "FROM generate_series(1, " +
          std::to_string(kRows) +
          ") i; "
          "GRANT SELECT ON prof.t TO reader;",
      kDatabase);
  server().exec("VACUUM ANALYZE prof.t", kDatabase);  // reltuples: the catalog's count
}

JobResult profile(const json& params) {
  PostgresConnector connector;
  CollectingSink sink;
  return run(connector, make_job(JobType::kProfile, reader_config(), params), sink);
}

const json& column(const JobResult& r, const std::string& name) {
  for (const auto& c : r.result["columns"]) {
    if (c["name"] == name) return c;
  }
  static const json none;
  ADD_FAILURE() << "no column " << name << " in " << r.result.dump();
  return none;
}

TEST(PostgresProfile, TableSampleIsStatedAndMatchesTheSamePages) {
  make_table();
  const auto r = profile({{"table", "t"}, {"schema", "prof"}, {"sample_percent", 10}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["sample"], "system 10%") << r.result.dump();
  EXPECT_EQ(r.result["row_count"], kRows);  // reltuples after VACUUM ANALYZE
  EXPECT_EQ(r.result["row_count_exact"], false);

  // The database's own figures over the same sample.
  const auto want = server().query_column(
      "SELECT concat_ws(',', count(*), count(*) - count(label), count(DISTINCT id), "
      "count(DISTINCT label), min(id), max(id), round(avg(v)::numeric, 6)) "
      "FROM prof.t TABLESAMPLE SYSTEM (10) REPEATABLE (0)",
      kDatabase);
  ASSERT_EQ(want.size(), 1u);
  const auto sampled = r.result["sampled_rows"].get<std::int64_t>();
  const json& id = column(r, "id");
  const json& label = column(r, "label");
  char mean[32];
  std::snprintf(mean, sizeof mean, "%.6f", column(r, "v")["mean"].get<double>());
  const std::string got = std::to_string(sampled) + "," + label["null_count"].dump() + "," +
                          id["distinct_count"].dump() + "," + label["distinct_count"].dump() + "," +
                          id["min"].dump() + "," + id["max"].dump() + "," + mean;
  EXPECT_EQ(got, want[0]);

  // Plausible for 10% of the pages: not all, not none, distinct is the sample's.
  EXPECT_GT(sampled, kRows / 50) << r.result.dump();
  EXPECT_LT(sampled, kRows / 4) << r.result.dump();
  EXPECT_EQ(id["distinct_count"], sampled);
  EXPECT_EQ(id["distinct_exact"], false);
  EXPECT_EQ(id["null_count"], 0);
  EXPECT_EQ(label["distinct_count"], 7);  // l0 … l6
  EXPECT_NEAR(column(r, "v")["mean"].get<double>(), 49.5, 5.0);
}

TEST(PostgresProfile, RowSampleOfATableIsExactlyItsSize) {
  make_table();
  const auto r = profile({{"table", "t"}, {"schema", "prof"}, {"sample_rows", 1000}, {"top_k", 3}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["sample"], "random 1000 rows") << r.result.dump();
  EXPECT_EQ(r.result["sampled_rows"], 1000);
  EXPECT_EQ(r.result["row_count"], kRows);
  const json& id = column(r, "id");
  EXPECT_EQ(id["distinct_count"], 1000);  // a key: every sampled row differs
  EXPECT_EQ(id["distinct_exact"], false);
  EXPECT_GE(std::stoll(id["min"].dump()), 1);
  EXPECT_LE(std::stoll(id["max"].dump()), kRows);
  const json& label = column(r, "label");
  // About one in ten is NULL: 1000 draws at 1/10, 6 standard deviations is ±57.
  EXPECT_GT(label["null_count"].get<int>(), 43) << label.dump();
  EXPECT_LT(label["null_count"].get<int>(), 157) << label.dump();
  ASSERT_EQ(label["top_k"].size(), 3u) << label.dump();
  std::int64_t top = 0;
  for (const auto& k : label["top_k"]) top += k["count"].get<std::int64_t>();
  EXPECT_LT(top, 1000);
}

}  // namespace
}  // namespace outpost::test::pg
