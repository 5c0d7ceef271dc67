// MySQL/MariaDB connector: the jobs-v1.1 metadata fields (keys, indexes,
// comments, defaults, generated and enum columns, view definitions,
// partitions, sizes) against a schema that uses each of them.
#include <gtest/gtest.h>

#include "integration/mysql_fixture.hpp"

namespace outpost::test {
namespace {

using nlohmann::json;

constexpr const char* kCatalog = R"sql(
CREATE DATABASE cat;
CREATE TABLE cat.customer (id INT PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE,
  region CHAR(2) NOT NULL DEFAULT 'eu') COMMENT 'who buys';
CREATE TABLE cat.orders (
  id BIGINT NOT NULL AUTO_INCREMENT COMMENT 'order number',
  customer_id INT NOT NULL,
  code VARCHAR(20) NOT NULL,
  status ENUM('new','it''s paid','a,b') NOT NULL DEFAULT 'new',
  amount DECIMAL(10,2) NOT NULL DEFAULT 0,
  doubled DECIMAL(11,2) AS (amount * 2) VIRTUAL,
  stored_total DECIMAL(11,2) AS (amount + 1) STORED,
  PRIMARY KEY (id),
  UNIQUE KEY orders_code (customer_id, code),
  KEY orders_amount (amount),
  CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES cat.customer (id))
  ENGINE=InnoDB;
INSERT INTO cat.customer VALUES (1, 'a@x', 'eu');
INSERT INTO cat.orders (customer_id, code, amount) VALUES (1, 'c1', 5), (1, 'c2', 7);
CREATE TABLE cat.events (id INT NOT NULL, at DATE NOT NULL, PRIMARY KEY (id, at))
  PARTITION BY RANGE (YEAR(at)) (PARTITION p2025 VALUES LESS THAN (2026),
                                 PARTITION p2026 VALUES LESS THAN (2027));
CREATE VIEW cat.big AS SELECT id, amount FROM cat.orders WHERE amount > 6;
CREATE TABLE cat.fact_a (x INT);
CREATE TABLE cat.fact_b (x INT);
CREATE TABLE cat.`fact%c` (x INT);
CREATE TABLE cat.factXd (x INT);
GRANT SELECT, SHOW VIEW ON cat.* TO 'reader'@'127.0.0.1';
)sql";

class MysqlMetadataTest : public MysqlConnectorTest {
 protected:
  static void SetUpTestSuite() {
    MysqlConnectorTest::SetUpTestSuite();
    if (server_ != nullptr && start_error_ == nullptr) server_->execute(kCatalog);
  }
  json metadata(CollectingRows& sink, json params) {
    auto r =
        run_job(connector_, job(JobType::kMetadata, config(), std::move(params)), sink, guard_);
    EXPECT_TRUE(r.ok()) << (r.error ? r.error->message : "");
    return r.result;
  }
  static json column(json table, const std::string& name) {
    for (const auto& c : table["columns"]) {
      if (c["name"] == name) return c;
    }
    return json();
  }
};

TEST_F(MysqlMetadataTest, ReportsKeysIndexesCommentsAndForeignKeys) {
  CollectingRows sink;
  metadata(sink, {{"schemas", {"cat"}}, {"include_stats", true}});
  json orders = sink.table("cat", "orders");
  ASSERT_FALSE(orders.is_null()) << json(sink.tables).dump();
  EXPECT_EQ(orders["primary_key"], json::array({"id"}));
  EXPECT_EQ(orders["unique"], json::parse(R"([["customer_id","code"]])"));
  EXPECT_EQ(orders["foreign_keys"], json::parse(R"([{"name":"orders_customer_fk",
      "columns":["customer_id"],"ref_schema":"cat","ref_table":"customer","ref_columns":["id"]}])"));
  // Indexes in name order; InnoDB adds none of its own here (the FK uses orders_code).
  EXPECT_EQ(orders["indexes"], json::parse(R"([
      {"name":"PRIMARY","columns":["id"],"unique":true},
      {"name":"orders_amount","columns":["amount"],"unique":false},
      {"name":"orders_code","columns":["customer_id","code"],"unique":true}])"));
  EXPECT_TRUE(orders["size_bytes"].is_number_integer()) << orders.dump();
  EXPECT_GT(orders["size_bytes"].get<std::int64_t>(), 0);
  EXPECT_FALSE(orders.contains("comment"));

  json customer = sink.table("cat", "customer");
  ASSERT_FALSE(customer.is_null());
  EXPECT_EQ(customer["comment"], "who buys");
  EXPECT_EQ(customer["unique"], json::parse(R"([["email"]])"));
  EXPECT_EQ(customer["primary_key"], json::array({"id"}));
  EXPECT_FALSE(customer.contains("foreign_keys"));
}

TEST_F(MysqlMetadataTest, ReportsDefaultsGeneratedColumnsAndEnums) {
  CollectingRows sink;
  metadata(sink, {{"schemas", {"cat"}}});
  json orders = sink.table("cat", "orders");
  ASSERT_FALSE(orders.is_null());
  EXPECT_EQ(column(orders, "id")["comment"], "order number");
  EXPECT_EQ(column(orders, "id")["generated"], false);
  EXPECT_FALSE(column(orders, "id").contains("default"));
  EXPECT_EQ(column(orders, "status")["enum_values"], json::array({"new", "it's paid", "a,b"}));
  EXPECT_EQ(column(orders, "status")["default"], "'new'");
  EXPECT_EQ(column(orders, "amount")["default"], "0.00");
  EXPECT_EQ(column(orders, "doubled")["generated"], true);
  EXPECT_EQ(column(orders, "doubled")["default"], "`amount` * 2");
  EXPECT_EQ(column(orders, "stored_total")["generated"], true);
  EXPECT_EQ(column(orders, "code")["generated"], false);
  EXPECT_FALSE(column(orders, "code").contains("enum_values"));
  json customer = sink.table("cat", "customer");
  EXPECT_EQ(column(customer, "region")["default"], "'eu'");
  // Without include_stats: no size, no time.
  EXPECT_FALSE(orders.contains("size_bytes"));
  EXPECT_FALSE(orders.contains("last_modified"));
}

TEST_F(MysqlMetadataTest, ReportsViewDefinitionsAndPartitions) {
  CollectingRows sink;
  metadata(sink, {{"schemas", {"cat"}}, {"include_definitions", true}});
  json view = sink.table("cat", "big");
  ASSERT_FALSE(view.is_null());
  EXPECT_EQ(view["kind"], "view");
  const std::string definition = view["definition"].get<std::string>();
  EXPECT_NE(definition.find("`cat`.`orders`"), std::string::npos) << definition;
  EXPECT_NE(definition.find("> 6"), std::string::npos) << definition;
  json events = sink.table("cat", "events");
  ASSERT_FALSE(events.is_null());
  EXPECT_EQ(events["partitions"], json::array({"p2025", "p2026"}));
  EXPECT_EQ(events["primary_key"], json::array({"id", "at"}));
  EXPECT_FALSE(sink.table("cat", "orders").contains("partitions"));

  CollectingRows plain;
  metadata(plain, {{"schemas", {"cat"}}});
  EXPECT_FALSE(plain.table("cat", "big").contains("definition"));
}

TEST_F(MysqlMetadataTest, TablePatternsArePushedDownAndExact) {
  CollectingRows sink;
  metadata(sink, {{"schemas", {"cat"}}, {"tables", {"fact_*", "customer"}}});
  std::vector<std::string> names;
  for (const auto& t : sink.tables) names.push_back(t["name"]);
  // `_` is literal (factXd is left out), `%` in a name is matched as itself.
  EXPECT_EQ(names, (std::vector<std::string>{"customer", "fact_a", "fact_b"}));

  CollectingRows percent;
  metadata(percent, {{"schemas", {"cat"}}, {"tables", {"fact%*"}}});
  ASSERT_EQ(percent.tables.size(), 1U);
  EXPECT_EQ(percent.tables[0]["name"], "fact%c");

  CollectingRows none;
  metadata(none, {{"schemas", {"cat"}}, {"tables", json::array()}});
  EXPECT_TRUE(none.tables.empty());
}

TEST_F(MysqlMetadataTest, LastModifiedIsUtc) {
  server_->execute(
      "SET GLOBAL time_zone = '+05:00'; UPDATE cat.orders SET amount = 8 WHERE id = 1;");
  CollectingRows sink;
  metadata(sink, {{"schemas", {"cat"}}, {"tables", {"orders"}}, {"include_stats", true}});
  server_->execute("SET GLOBAL time_zone = 'SYSTEM';");
  ASSERT_EQ(sink.tables.size(), 1U);
  const auto& t = sink.tables[0];
  ASSERT_TRUE(t["last_modified"].is_string()) << t.dump();
  const std::string at = t["last_modified"];
  EXPECT_EQ(at.size(), 20U) << at;
  EXPECT_EQ(at.back(), 'Z');
}

}  // namespace
}  // namespace outpost::test
