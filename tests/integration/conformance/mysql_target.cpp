// The conformance target on a throwaway MariaDB server: the mysql connector
// (MariaDB Connector/C).
#include <memory>
#include <string>

#include "integration/conformance/target_registry.hpp"
#include "mysql/mysql_connector.hpp"
#include "support/mariadb_server.hpp"

namespace outpost::test::conformance {
namespace {

constexpr const char* kFixture = R"sql(
CREATE DATABASE conf;
CREATE TABLE conf.items (id INT PRIMARY KEY, label VARCHAR(40) NOT NULL);
INSERT INTO conf.items VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE VIEW conf.items_view AS SELECT id FROM conf.items;
CREATE TABLE conf.events (id INT, at TIMESTAMP(3) NULL, n INT);
SET time_zone = '+00:00';
INSERT INTO conf.events VALUES (1, '2026-11-29 10:00:00', 1), (2, '2026-11-30 08:15:00.250', 2);
CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';
GRANT SELECT, SHOW VIEW ON conf.* TO 'reader'@'127.0.0.1';
CREATE USER 'writer'@'127.0.0.1' IDENTIFIED BY 'writer-pw';
GRANT ALL ON conf.* TO 'writer'@'127.0.0.1';
)sql";

class MysqlTarget final : public Target {
 public:
  Connector& connector() override { return connector_; }
  [[nodiscard]] std::string source_type() const override { return "mysql"; }
  const OperatorPolicy& policy() override { return policy_; }
  const OperatorPolicy& privileged_policy() override { return privileged_; }
  nlohmann::json reader() override { return config("reader", "reader-pw"); }
  nlohmann::json writer() override { return config("writer", "writer-pw"); }
  BadSource bad_source() override { return {config("reader", "wrong-pw"), ErrorCode::kAuthFailed}; }
  [[nodiscard]] std::string schema() const override { return "conf"; }
  [[nodiscard]] std::string series_sql(int n) const override {
    // The SEQUENCE engine: a recursive CTE stops at max_recursive_iterations
    // (1000 by default on MariaDB 10.6+).
    return "SELECT seq AS id, CONCAT('row ', seq) AS label FROM seq_1_to_" + std::to_string(n) +
           " ORDER BY seq";
  }
  [[nodiscard]] std::string endless_sql() const override { return "SELECT SLEEP(600)"; }
  [[nodiscard]] std::string insert_sql() const override {
    return "INSERT INTO conf.items VALUES (4, 'four')";
  }
  [[nodiscard]] std::string types_sql() const override {
    return "SELECT 42 AS i, 9007199254740993 AS big, CAST(12.50 AS DECIMAL(6,2)) AS dec_, "
           "CAST(1.5 AS DOUBLE) AS f, TRUE AS b, 'h\u00e9llo' AS t, NULL AS n, "
           "x'00ff' AS bin, DATE '2024-02-29' AS d";
  }
  [[nodiscard]] nlohmann::json types_row() const override {
    return nlohmann::json::parse(
        R"([42, "9007199254740993", "12.50", 1.5, 1, "h\u00e9llo", null, "AP8=", "2024-02-29"])");
  }

 private:
  nlohmann::json config(const std::string& user, const std::string& password) {
    if (!server_) {
      server_ = std::make_unique<MariaDbServer>();
      server_->execute(kFixture);
    }
    return {
        {"host", server_->host()}, {"port", server_->port()}, {"database", "conf"},  {"user", user},
        {"password", password},    {"ssl_mode", "disabled"},  {"connect_timeout", 5}};
  }

  std::unique_ptr<MariaDbServer> server_;
  OperatorPolicy policy_;
  OperatorPolicy privileged_{true, {}};
  connectors::mysql::MysqlConnector connector_;
};

}  // namespace

std::unique_ptr<Target> make_mysql_target() {
  return std::make_unique<MysqlTarget>();
}

}  // namespace outpost::test::conformance
