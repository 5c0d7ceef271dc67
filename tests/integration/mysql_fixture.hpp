#pragma once
// The MariaDB fixture shared by the mysql_* integration tests: one throwaway
// server per test process with schemas, every column type and four logins.

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "integration/mysql_test_support.hpp"
#include "mysql/mysql_connector.hpp"
#include "outpost/policy.hpp"
#include "support/mariadb_server.hpp"

namespace outpost::test {

using namespace std::chrono_literals;
using connectors::mysql::MysqlConnector;

inline constexpr const char* kFixture = R"sql(
CREATE DATABASE shop;
CREATE DATABASE other;
CREATE TABLE other.hidden (x INT);
CREATE TABLE shop.orders (id INT PRIMARY KEY, amount DECIMAL(10,2) NOT NULL, note VARCHAR(40));
INSERT INTO shop.orders VALUES (1, 10.50, 'first'), (2, 99.99, NULL), (3, 1000.00, 'big');
CREATE TABLE shop.secret (k INT);
CREATE VIEW shop.big_orders AS SELECT id, amount FROM shop.orders WHERE amount > 50;
CREATE TABLE shop.types (
  id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT,
  ubi BIGINT UNSIGNED, ui INT UNSIGNED, dec_ DECIMAL(30,6), f FLOAT, d DOUBLE,
  dt DATETIME(6), ts TIMESTAMP(3) NULL, dte DATE, tm TIME(2), yr YEAR,
  vc VARCHAR(50), ch CHAR(3), txt TEXT, bl BLOB, vb VARBINARY(8), bn BINARY(4),
  b1 BIT(1), b10 BIT(10), b64 BIT(64), js JSON, en ENUM('small','large'), st SET('x','y','z'));
INSERT INTO shop.types VALUES (
  1, -128, 32767, -8388608, 2147483647, 9007199254740993,
  18446744073709551615, 4294967295, 123456789012345678901234.123456, 1.5, -2.25e-300,
  '2024-02-29 23:59:58.123456', '2024-03-01 12:00:00.250', '1999-12-31', '-838:59:58.5', 2155,
  'héllo "wörld"', 'abc', 'line1\nline2', x'00FF10', x'DEADBEEF', x'0102',
  b'1', b'1000000001', b'1111111111111111111111111111111111111111111111111111111111111111',
  '{"a": [1, 2.5, "x"], "b": null}', 'large', 'x,z');
INSERT INTO shop.types (id) VALUES (2);
CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';
GRANT SELECT, SHOW VIEW ON shop.* TO 'reader'@'127.0.0.1';
CREATE USER 'writer'@'127.0.0.1' IDENTIFIED BY 'writer-pw';
GRANT ALL ON shop.* TO 'writer'@'127.0.0.1';
CREATE USER 'limited'@'127.0.0.1' IDENTIFIED BY 'limited-pw';
GRANT SELECT ON shop.orders TO 'limited'@'127.0.0.1';
CREATE USER 'auditor'@'127.0.0.1' IDENTIFIED BY 'auditor-pw';
GRANT SELECT ON *.* TO 'auditor'@'127.0.0.1';
CREATE USER 'filer'@'127.0.0.1' IDENTIFIED BY 'filer-pw';
GRANT SELECT ON shop.* TO 'filer'@'127.0.0.1';
GRANT FILE, PROCESS ON *.* TO 'filer'@'127.0.0.1';
CREATE ROLE r_write;
GRANT INSERT ON shop.* TO r_write;
CREATE ROLE r_outer;
GRANT r_write TO r_outer;
CREATE USER 'roled'@'127.0.0.1' IDENTIFIED BY 'roled-pw';
GRANT SELECT, SHOW VIEW ON shop.* TO 'roled'@'127.0.0.1';
GRANT r_outer TO 'roled'@'127.0.0.1';
CREATE USER 'colwriter'@'127.0.0.1' IDENTIFIED BY 'colwriter-pw';
GRANT SELECT ON shop.* TO 'colwriter'@'127.0.0.1';
GRANT UPDATE (note) ON shop.orders TO 'colwriter'@'127.0.0.1';
SET GLOBAL max_allowed_packet = 268435456;
)sql";

class MysqlConnectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      server_ = new MariaDbServer();
      server_->execute(kFixture);
    } catch (const std::exception& e) {
      start_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    // A database test never skips: a server that did not start fails it.
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
    ASSERT_NE(server_, nullptr);
  }

  static nlohmann::json config(const std::string& user = "reader",
                               const std::string& password = "reader-pw") {
    return {
        {"host", server_->host()}, {"port", server_->port()}, {"database", "shop"},  {"user", user},
        {"password", password},    {"ssl_mode", "disabled"},  {"connect_timeout", 5}};
  }
  static Job job(JobType type, nlohmann::json source_config, nlohmann::json params = {}) {
    Job j;
    j.id = "job_test";
    j.type = type;
    j.timeout = 30s;
    j.source = Source{"src_1", "shop", "mysql", std::move(source_config), ""};
    outpost::test::set_params(j, params);
    return j;
  }
  JobResult query(const std::string& sql, CollectingRows& sink,
                  const nlohmann::json& source = config()) {
    return run_job(connector_, job(JobType::kQuery, source, {{"sql", sql}}), sink, guard_);
  }
  /// Runs `j` under `policy` (e.g. the operator's --allow-privileged-logins).
  JobResult run_with_policy(const Job& j, ResultSink& sink, const OperatorPolicy& policy) {
    CancelToken token;
    JobContext ctx{j, sink, token, guard_, std::chrono::steady_clock::now() + j.timeout, policy};
    return connector_.run(ctx);
  }
  static OperatorPolicy allow_privileged() {
    OperatorPolicy policy;
    policy.allow_privileged_logins = true;
    return policy;
  }
  static std::string code(const JobResult& r) {
    return r.error ? std::string(to_string(r.error->code)) : "ok";
  }

  static inline MariaDbServer* server_ = nullptr;
  static inline std::string* start_error_ = nullptr;
  MysqlConnector connector_;
  TestNetworkGuard guard_;
};

}  // namespace outpost::test
