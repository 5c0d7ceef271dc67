// SQLite connector: the jobs-v1.1 metadata fields (keys, unique constraints,
// indexes, foreign keys, defaults, generated columns, view definitions, size)
// against a database that uses each of them.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "sqlite/sqlite_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using connectors::sqlite::SqliteConnector;
using nlohmann::json;
using namespace std::chrono_literals;

class SqliteMetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    policy_.sqlite_dirs = {std::filesystem::canonical(dir_.path()).string()};
    path_ = (dir_.path() / "cat.db").string();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    const int rc = sqlite3_exec(db, R"SQL(
      CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
                             region TEXT NOT NULL DEFAULT 'eu');
      CREATE TABLE orders (
        customer_id INTEGER NOT NULL REFERENCES customer,
        code TEXT NOT NULL,
        amount REAL DEFAULT 0,
        doubled REAL GENERATED ALWAYS AS (amount * 2) VIRTUAL,
        total REAL AS (amount + 1) STORED,
        PRIMARY KEY (code, customer_id),
        UNIQUE (customer_id, amount),
        CONSTRAINT orders_self FOREIGN KEY (customer_id, code) REFERENCES lines (c, k));
      CREATE TABLE lines (c INTEGER, k TEXT, PRIMARY KEY (c, k));
      CREATE INDEX orders_amount ON orders (amount);
      CREATE INDEX orders_expr ON orders (lower(code), amount);
      CREATE VIEW "big as" AS SELECT code, amount FROM orders WHERE amount > 6;
      INSERT INTO customer VALUES (1, 'a@x', 'eu');
    )SQL",
                                nullptr, nullptr, &err);
    const std::string message = err != nullptr ? err : "";
    sqlite3_free(err);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
  }
  JobResult metadata(CollectingSink& sink, json params) {
    Job j;
    j.id = "job_md";
    j.type = JobType::kMetadata;
    j.timeout = 60s;
    j.source.type = "sqlite";
    j.source.config = {{"path", path_}};
    outpost::test::set_params(j, params);
    CancelToken cancel;
    JobContext ctx{j, sink, cancel, guard_, std::chrono::steady_clock::now() + j.timeout, policy_};
    return connector_.run(ctx);
  }
  static json column(const json& table, const std::string& name) {
    for (const auto& c : table["columns"]) {
      if (c["name"] == name) return c;
    }
    return json();
  }

  TempDir dir_;
  std::string path_;
  SqliteConnector connector_;
  AllowingNetworkGuard guard_;
  OperatorPolicy policy_;
};

TEST_F(SqliteMetadataTest, ReportsKeysIndexesAndForeignKeys) {
  CollectingSink sink;
  const auto r = metadata(sink, {{"include_stats", true}});
  ASSERT_TRUE(r.ok()) << r.error->message;
  const json* orders = sink.table("main", "orders");
  ASSERT_NE(orders, nullptr);
  EXPECT_EQ((*orders)["primary_key"], json::array({"code", "customer_id"}));
  EXPECT_EQ((*orders)["unique"], json::parse(R"([["customer_id","amount"]])"));
  EXPECT_EQ((*orders)["foreign_keys"], json::parse(R"([
      {"name":"","columns":["customer_id","code"],"ref_schema":"main","ref_table":"lines",
       "ref_columns":["c","k"]},
      {"name":"","columns":["customer_id"],"ref_schema":"main","ref_table":"customer",
       "ref_columns":["id"]}])"));
  EXPECT_EQ((*orders)["indexes"], json::parse(R"J([
      {"name":"orders_amount","columns":["amount"],"unique":false},
      {"name":"orders_expr","columns":["(expression)","amount"],"unique":false},
      {"name":"sqlite_autoindex_orders_1","columns":["code","customer_id"],"unique":true},
      {"name":"sqlite_autoindex_orders_2","columns":["customer_id","amount"],"unique":true}])J"));
  const json* customer = sink.table("main", "customer");
  ASSERT_NE(customer, nullptr);
  EXPECT_EQ((*customer)["primary_key"], json::array({"id"}));  // the rowid alias
  EXPECT_EQ((*customer)["unique"], json::parse(R"([["email"]])"));
  // dbstat is compiled into Debian's SQLite: pages of the table and its indexes.
  ASSERT_TRUE((*customer)["size_bytes"].is_number_integer()) << customer->dump();
  EXPECT_GE((*customer)["size_bytes"].get<std::int64_t>(), 2 * 4096);
}

TEST_F(SqliteMetadataTest, ReportsDefaultsGeneratedColumnsAndViewDefinitions) {
  CollectingSink sink;
  const auto r = metadata(sink, {{"include_definitions", true}});
  ASSERT_TRUE(r.ok()) << r.error->message;
  const json* orders = sink.table("main", "orders");
  ASSERT_NE(orders, nullptr);
  ASSERT_EQ((*orders)["columns"].size(), 5U);
  EXPECT_EQ(column(*orders, "amount")["default"], "0");
  EXPECT_EQ(column(*orders, "amount")["generated"], false);
  EXPECT_EQ(column(*orders, "doubled")["generated"], true);
  EXPECT_EQ(column(*orders, "doubled")["ordinal"], 4);
  EXPECT_EQ(column(*orders, "total")["generated"], true);
  EXPECT_FALSE(orders->contains("size_bytes"));
  EXPECT_EQ(column(*sink.table("main", "customer"), "region")["default"], "'eu'");
  const json* view = sink.table("main", "big as");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ((*view)["definition"], "SELECT code, amount FROM orders WHERE amount > 6");
  EXPECT_FALSE(view->contains("primary_key"));
  EXPECT_FALSE(view->contains("indexes"));

  CollectingSink plain;
  ASSERT_TRUE(metadata(plain, {{"tables", {"big*"}}}).ok());
  ASSERT_EQ(plain.tables().size(), 1U);
  EXPECT_FALSE(plain.tables()[0].contains("definition"));
}

}  // namespace
}  // namespace outpost::test
