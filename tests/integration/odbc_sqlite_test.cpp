// ODBC connector through the SQLite ODBC driver ("SQLite3" in odbcinst.ini)
// against a database file made by the test.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "integration/mysql_test_support.hpp"
#include "odbc/odbc_connector.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;
using connectors::odbc::OdbcConnector;

class OdbcSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_.sqlite_dirs.push_back(std::filesystem::canonical(dir_.path()).string());
    path_ = policy_.sqlite_dirs[0] + "/shop.db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, R"sql(
      CREATE TABLE orders (id INTEGER PRIMARY KEY, amount REAL NOT NULL, note TEXT, data BLOB);
      INSERT INTO orders VALUES (1, 10.5, 'first', x'00ff'), (2, 99.25, NULL, NULL);
      CREATE VIEW big_orders AS SELECT id FROM orders WHERE amount > 50;
      CREATE TABLE lines (order_id INTEGER NOT NULL REFERENCES orders (id), sku TEXT UNIQUE,
                          PRIMARY KEY (order_id, sku));
    )sql",
                                nullptr, nullptr, &error);
    ASSERT_EQ(rc, SQLITE_OK) << (error != nullptr ? error : "");
    sqlite3_close(db);
  }
  nlohmann::json config() const {
    return {{"connection_string", "Driver=SQLite3;Database=" + path_ + ";"}};
  }
  Job job(JobType type, nlohmann::json params = {}) const {
    Job j;
    j.id = "job_sqlite";
    j.type = type;
    j.timeout = 30s;
    j.source = Source{"src_sqlite", "shop", "odbc", config(), ""};
    outpost::test::set_params(j, params);
    return j;
  }

  JobResult run(const Job& j, ResultSink& sink) {
    CancelToken token;
    JobContext ctx{j, sink, token, guard_, std::chrono::steady_clock::now() + j.timeout, policy_};
    return connector_.run(ctx);
  }

  TempDir dir_;
  OperatorPolicy policy_;
  std::string path_;
  OdbcConnector connector_;
  TestNetworkGuard guard_;
};

// sqliteodbc implements SQLPrimaryKeys, SQLForeignKeys and SQLStatistics.
TEST_F(OdbcSqliteTest, MetadataKeysFromCatalogFunctions) {
  CollectingRows sink;
  const auto r = run(job(JobType::kMetadata, {{"tables", {"lines", "orders"}}}), sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.tables.size(), 2U) << nlohmann::json(sink.tables).dump();
  auto lines = sink.table("main", "lines");
  ASSERT_FALSE(lines.is_null());
  EXPECT_EQ(lines["primary_key"], nlohmann::json::array({"order_id", "sku"}));
  ASSERT_EQ(lines["foreign_keys"].size(), 1U) << lines.dump();
  EXPECT_EQ(lines["foreign_keys"][0]["ref_table"], "orders");
  EXPECT_EQ(lines["foreign_keys"][0]["columns"], nlohmann::json::array({"order_id"}));
  EXPECT_EQ(lines["foreign_keys"][0]["ref_columns"], nlohmann::json::array({"id"}));
  EXPECT_EQ(lines["unique"], nlohmann::json::parse(R"([["sku"]])")) << lines.dump();
  EXPECT_EQ(sink.table("main", "orders")["primary_key"], nlohmann::json::array({"id"}));
}

TEST_F(OdbcSqliteTest, QueryMapsValues) {
  CollectingRows sink;
  auto r =
      run(job(JobType::kQuery, {{"sql", "SELECT id, amount, note, data FROM orders ORDER BY id"}}),
          sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.size(), 2U);
  EXPECT_EQ(sink.rows[0][0], 1);
  EXPECT_EQ(sink.rows[0][1], 10.5);
  EXPECT_EQ(sink.rows[0][2], "first");
  EXPECT_EQ(sink.rows[0][3], "AP8=");
  EXPECT_TRUE(sink.rows[1][2].is_null());
  EXPECT_TRUE(sink.rows[1][3].is_null());
}

// --- issue 14: attacks on the connector, in process --------------------------

std::string code(const JobResult& r) {
  return r.error ? std::string(to_string(r.error->code)) : "ok";
}

TEST_F(OdbcSqliteTest, CodeLoadingAndFileFunctionsAreRefused) {
  const auto probe = (dir_.path() / "exported.bin").string();
  for (const std::string& sql : std::vector<std::string>{
           "SELECT load_extension('/nonexistent/evil.so')", "SELECT \"load_extension\"('x')",
           "SELECT blob_import('/etc/passwd')", "SELECT blob_export(x'41', '" + probe + "')",
           "PRAGMA query_only = 0", "ATTACH '" + probe + "' AS x", "VACUUM INTO '" + probe + "'",
           "COMMIT; DELETE FROM orders", "BEGIN"}) {
    CollectingRows sink;
    auto r = run(job(JobType::kQuery, {{"sql", sql}}), sink);
    EXPECT_EQ(code(r), "invalid_job") << sql << ": " << (r.error ? r.error->message : "");
  }
  EXPECT_FALSE(std::filesystem::exists(probe));
  CollectingRows count;
  ASSERT_TRUE(run(job(JobType::kQuery, {{"sql", "SELECT count(*) FROM orders"}}), count).ok());
  EXPECT_EQ(count.rows[0][0], 2);
}

TEST_F(OdbcSqliteTest, TheAuthorizerRefusesWhatTheLexerCannotSee) {
  // A view already in the file calls load_extension(): the job's SQL is
  // clean, the authorizer (installed on sqliteodbc's own handle) refuses.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  const std::string views =
      "CREATE VIEW sneaky AS SELECT load_extension('/nonexistent/evil.so') AS x;"
      "CREATE VIEW exporter AS SELECT blob_export(x'41', '" +
      (dir_.path() / "out.bin").string() + "') AS x;";
  ASSERT_EQ(sqlite3_exec(db, views.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (const char* sql : {"SELECT * FROM sneaky", "SELECT * FROM exporter"}) {
    CollectingRows sink;
    auto r = run(job(JobType::kQuery, {{"sql", sql}}), sink);
    EXPECT_EQ(code(r), "permission_denied") << sql << ": " << (r.error ? r.error->message : "");
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "out.bin"));
  // SQLITE_LIMIT_LENGTH: one value cannot grow past 64 MiB inside SQLite.
  CollectingRows big;
  auto r = run(job(JobType::kQuery, {{"sql", "SELECT length(zeroblob(100000000))"}}), big);
  EXPECT_EQ(code(r), "result_too_large") << (r.error ? r.error->message : "");
  CollectingRows ok;
  auto t = run(job(JobType::kTestConnection), ok);
  ASSERT_TRUE(t.ok());
  EXPECT_NE(t.result["read_only"].get<std::string>().find("authorizer"), std::string::npos);
}

TEST_F(OdbcSqliteTest, TheFileIsOpenedReadOnlyAndStaysSo) {
  CollectingRows sink;
  auto r = run(job(JobType::kQuery, {{"sql", "DELETE FROM orders"}}), sink);
  EXPECT_EQ(code(r), "read_only_violation");
  CollectingRows again;
  ASSERT_TRUE(
      run(job(JobType::kQuery, {{"sql", "SELECT count(*) FROM pragma_query_only"}}), again).ok());
  EXPECT_EQ(connector_.idle_connections(), 1U) << "verified read-only, so pooled";
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-journal"));
}

TEST_F(OdbcSqliteTest, DangerousAttributesAndPathsOutsideSqliteDirsAreRefused) {
  TempDir elsewhere;
  const auto outside = (elsewhere.path() / "other.db").string();
  { std::ofstream(outside) << ""; }
  const auto trace = (dir_.path() / "trace.log").string();
  for (const std::string& extra :
       std::vector<std::string>{"LoadExt=/nonexistent/evil.so", "Tracefile=" + trace, "NoTXN=1",
                                "JournalMode=WAL", "SyncPragma=OFF", "NoCreat=0"}) {
    Job j = job(JobType::kTestConnection);
    j.source.config["connection_string"] = "Driver=SQLite3;Database=" + path_ + ";" + extra;
    CollectingRows sink;
    auto r = run(j, sink);
    EXPECT_EQ(code(r), "invalid_job") << extra;
  }
  EXPECT_FALSE(std::filesystem::exists(trace));
  EXPECT_FALSE(std::filesystem::exists(path_ + "-wal"));
  std::string messages[2];
  int i = 0;
  for (const auto& path : {outside, (elsewhere.path() / "missing.db").string()}) {
    Job j = job(JobType::kTestConnection);
    j.source.config["connection_string"] = "Driver=SQLite3;Database=" + path;
    CollectingRows sink;
    auto r = run(j, sink);
    ASSERT_EQ(code(r), "invalid_job");
    messages[i++] = r.error->message;
  }
  EXPECT_EQ(messages[0], messages[1]) << "the error does not tell whether the file exists";
  EXPECT_FALSE(std::filesystem::exists(elsewhere.path() / "missing.db"));
}

}  // namespace
}  // namespace outpost::test
