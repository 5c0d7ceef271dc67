// SQLite connector against database files made by the test: the same job
// types and result shapes as PostgreSQL.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "sqlite/sqlite_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using connectors::sqlite::SqliteConnector;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_.sqlite_dirs = {std::filesystem::canonical(dir_.path()).string()};
    path_ = (dir_.path() / "app.db").string();
    exec(R"SQL(
      CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL, price REAL,
                          data BLOB, note, big INTEGER);
      INSERT INTO items VALUES (1, 'h' || char(233) || 'llo', 1.5, x'00ff10', NULL, 9223372036854775807);
      INSERT INTO items VALUES (2, 'two', 1e999, x'', 'n', -9007199254740993);
      INSERT INTO items VALUES (3, 'three', -0.25, NULL, 42, 9007199254740991);
      CREATE TABLE orders (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items(id),
                           qty INTEGER DEFAULT 1);
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
      INSERT INTO orders (item_id, qty) SELECT 1 + i % 3, i FROM n;
      CREATE INDEX orders_item ON orders(item_id);
      CREATE VIEW cheap AS SELECT id, name FROM items WHERE price < 2;
    )SQL");
  }

  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }

  [[nodiscard]] Job job(JobType type, json params = json::object(),
                        std::chrono::milliseconds timeout = 60s) const {
    Job j;
    j.id = "job_7";
    j.type = type;
    j.timeout = timeout;
    j.source.type = "sqlite";
    j.source.config = {{"path", path_}};
    outpost::test::set_params(j, params);
    return j;
  }

  JobResult run(const Job& j, ResultSink& sink, CancelToken& cancel) {
    JobContext ctx{j, sink, cancel, guard_, Clock::now() + j.timeout, policy_};
    return connector_.run(ctx);
  }
  JobResult run(const Job& j, ResultSink& sink) {
    CancelToken cancel;
    return run(j, sink, cancel);
  }
  JobResult query(const std::string& sql, CollectingSink& sink, json extra = json::object()) {
    json params = {{"sql", sql}};
    params.update(extra);
    return run(job(JobType::kQuery, params), sink);
  }

  static std::string error_text(const JobResult& r) {
    return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "no error";
  }

  TempDir dir_;
  std::string path_;
  SqliteConnector connector_;
  AllowingNetworkGuard guard_;
  OperatorPolicy policy_;  // --sqlite-dirs: the test's directory
};

TEST_F(SqliteTest, TestConnectionReportsVersionAndReadOnly) {
  CollectingSink sink;
  const auto r = run(job(JobType::kTestConnection), sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["ok"], true);
  EXPECT_EQ(r.result["server_version"].get<std::string>().rfind("SQLite 3.", 0), 0u);
  EXPECT_TRUE(r.result["latency_ms"].is_number_integer());
  EXPECT_EQ(r.result["database"], "app.db");
  EXPECT_EQ(r.result["role_can_write"], false);
}

TEST_F(SqliteTest, MissingFileOrNotADatabaseIsUnreachable) {
  CollectingSink sink;
  auto missing = job(JobType::kTestConnection);
  missing.source.config["path"] = (dir_.path() / "nope.db").string();
  const auto r = run(missing, sink);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kUnreachable) << error_text(r);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "nope.db"))
      << "read-only open must not create";

  const auto junk = dir_.path() / "junk.db";
  { std::ofstream(junk) << std::string(4096, 'x'); }
  auto not_db = job(JobType::kTestConnection);
  not_db.source.config["path"] = junk.string();
  const auto n = run(not_db, sink);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.error->code, ErrorCode::kUnreachable) << error_text(n);
  EXPECT_NE(n.error->message.find("not a database"), std::string::npos);
}

TEST_F(SqliteTest, ConfigIsStrict) {
  CollectingSink sink;
  for (const json& config : {json{{"path", path_}, {"mode", "rw"}}, json::object(),
                             json{{"path", "file:" + path_ + "?mode=rw"}},
                             json{{"path", path_}, {"busy_timeout_ms", "soon"}}}) {
    auto j = job(JobType::kTestConnection);
    j.source.config = config;
    const auto r = run(j, sink);
    ASSERT_FALSE(r.ok()) << config.dump();
    EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob) << config.dump();
  }
}

TEST_F(SqliteTest, MetadataShapesTableByTable) {
  CollectingSink sink;
  const auto r = run(job(JobType::kMetadata), sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["database"], "app.db");
  ASSERT_EQ(sink.tables().size(), 3u);
  const json* items = sink.table("main", "items");
  ASSERT_NE(items, nullptr);
  EXPECT_EQ((*items)["kind"], "table");
  EXPECT_EQ((*items)["row_estimate"], nullptr);  // no sqlite_stat1 yet
  ASSERT_EQ((*items)["columns"].size(), 6u);
  EXPECT_EQ((*items)["columns"][1],
            json::parse(R"J({"name":"name","type":"VARCHAR(20)","nullable":false,"ordinal":2,
                            "generated":false})J"));
  EXPECT_EQ((*items)["columns"][4]["type"], "");  // declared without a type
  const json* view = sink.table("main", "cheap");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ((*view)["kind"], "view");
  EXPECT_EQ((*view)["columns"].size(), 2u);

  exec("ANALYZE");
  CollectingSink analyzed;
  ASSERT_TRUE(run(job(JobType::kMetadata, {{"include_views", false}}), analyzed).ok());
  ASSERT_EQ(analyzed.tables().size(), 2u);  // sqlite_stat1 itself is not listed
  EXPECT_EQ((*analyzed.table("main", "orders"))["row_estimate"], 500);
  EXPECT_EQ(analyzed.table("main", "cheap"), nullptr);

  CollectingSink filtered;
  const auto f = run(job(JobType::kMetadata, {{"schemas", {"public"}}}), filtered);
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(filtered.tables().empty());
}

TEST_F(SqliteTest, QueryMapsValuesByStorageClass) {
  CollectingSink sink;
  const auto r =
      query("SELECT id, name, price, data, note, big, 1.0 / 4 AS q FROM items ORDER BY id", sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  ASSERT_EQ(sink.rows().size(), 3u);
  std::vector<std::string> types;
  for (const auto& c : sink.columns()) types.push_back(c.type);
  EXPECT_EQ(types, (std::vector<std::string>{"INTEGER", "VARCHAR(20)", "REAL", "BLOB", "",
                                             "INTEGER", "REAL"}));
  EXPECT_EQ(sink.rows()[0],
            json::parse(R"([1,"h\u00e9llo",1.5,"AP8Q",null,"9223372036854775807",0.25])"));
  EXPECT_EQ(sink.rows()[1], json::parse(R"([2,"two","Infinity","","n","-9007199254740993",0.25])"));
  EXPECT_EQ(sink.rows()[2], json::parse(R"([3,"three",-0.25,null,42,9007199254740991,0.25])"));
}

TEST_F(SqliteTest, ErrorsAndStatementRules) {
  CollectingSink sink;
  const auto syntax = query("SELEC 1", sink);
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error->code, ErrorCode::kQueryError);
  EXPECT_NE(syntax.error->message.find("syntax error"), std::string::npos);
  const auto two = query("SELECT 1; DELETE FROM items", sink);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error->code, ErrorCode::kQueryError) << error_text(two);
  EXPECT_TRUE(query("SELECT 1; -- trailing comment\n", sink).ok());
  const auto params = query("SELECT ?1", sink);
  ASSERT_FALSE(params.ok());
  EXPECT_EQ(params.error->code, ErrorCode::kInvalidJob);
}

TEST_F(SqliteTest, MaxRowsAndSinkCapTruncate) {
  CollectingSink sink;
  const auto r = query("SELECT id FROM orders", sink, {{"max_rows", 10}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(sink.rows().size(), 10u);
  EXPECT_EQ(r.result["truncated"], true);
  CollectingSink capped(CollectingSink::Options{true, 4, nullptr, {}});
  ASSERT_TRUE(query("SELECT id FROM orders", capped).ok());
  EXPECT_EQ(capped.rows().size(), 4u);
  EXPECT_TRUE(capped.truncated());
}

constexpr const char* kEndless =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n";

constexpr const char* kFirstRowThenEndless =
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
    "SELECT 1 UNION ALL SELECT count(*) FROM n";

TEST_F(SqliteTest, BusyDatabaseTimesOutAfterTheBusyTimeout) {
  sqlite3* writer = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &writer), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(writer, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto j = job(JobType::kQuery, {{"sql", "SELECT count(*) FROM items"}});
  j.source.config["busy_timeout_ms"] = 200;
  CollectingSink sink;
  const auto r = run(j, sink);
  sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(writer);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kTimeout) << error_text(r);
  EXPECT_TRUE(r.error->retryable);
}

TEST_F(SqliteTest, StreamsAMillionRows) {
  std::uint64_t sum = 0;
  CollectingSink sink(CollectingSink::Options{
      false, std::nullopt, nullptr,
      [&](std::string_view row) { sum += std::stoull(std::string(row.substr(1))); }});
  const auto r = query(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
      "WHERE i < 1000000) SELECT i, 'row ' || i FROM n",
      sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(sink.count(), 1'000'000u);
  EXPECT_EQ(sum, 500'000'500'000u);
}

}  // namespace
}  // namespace outpost::test
