// Conformance targets on a SQLite file made by the test: the sqlite
// connector and the odbc connector through the SQLite ODBC driver.
#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "integration/conformance/target_registry.hpp"
#include "odbc/odbc_connector.hpp"
#include "sqlite/sqlite_connector.hpp"
#include "support/process.hpp"

namespace outpost::test::conformance {
namespace {

constexpr const char* kFixture = R"sql(
CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
INSERT INTO items VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE VIEW items_view AS SELECT id FROM items;
CREATE TABLE events (id INTEGER, at TEXT, n INTEGER);
INSERT INTO events VALUES (1, '2026-11-29 10:00:00', 1), (2, '2026-11-30 08:15:00.250', 2);
)sql";

class SqliteDialect : public Target {
 public:
  SqliteDialect() {
    const auto dir = std::filesystem::canonical(dir_.path()).string();
    policy_.sqlite_dirs.push_back(dir);
    privileged_.sqlite_dirs.push_back(dir);
    privileged_.allow_privileged_logins = true;
    path_ = dir + "/conf.db";
    sqlite3* db = nullptr;
    char* error = nullptr;
    const bool made = sqlite3_open(path_.c_str(), &db) == SQLITE_OK &&
                      sqlite3_exec(db, kFixture, nullptr, nullptr, &error) == SQLITE_OK;
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    if (!made) throw std::runtime_error("conformance: cannot make " + path_ + ": " + message);
  }
  const OperatorPolicy& policy() override { return policy_; }
  const OperatorPolicy& privileged_policy() override { return privileged_; }
  [[nodiscard]] std::string series_sql(int n) const override {
    return "WITH RECURSIVE s(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM s WHERE id < " +
           std::to_string(n) + ") SELECT id, 'row ' || id AS label FROM s";
  }
  [[nodiscard]] std::string endless_sql() const override {
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
  }
  [[nodiscard]] std::string insert_sql() const override {
    return "INSERT INTO items VALUES (4, 'four')";
  }
  [[nodiscard]] std::string types_sql() const override {
    return "SELECT 42 AS i, 9007199254740993 AS big, 12.5 AS f, 1 AS b, 'h\u00e9llo' AS t, "
           "NULL AS n, x'00ff' AS bin, '2024-02-29' AS d";
  }

 protected:
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string missing() const { return policy_.sqlite_dirs[0] + "/missing.db"; }

 private:
  TempDir dir_;
  std::string path_;
  OperatorPolicy policy_;
  OperatorPolicy privileged_;
};

class SqliteTarget final : public SqliteDialect {
 public:
  Connector& connector() override { return connector_; }
  [[nodiscard]] std::string source_type() const override { return "sqlite"; }
  nlohmann::json reader() override { return {{"path", path()}}; }
  nlohmann::json writer() override { return reader(); }
  BadSource bad_source() override { return {{{"path", missing()}}, ErrorCode::kUnreachable}; }
  [[nodiscard]] std::string schema() const override { return "main"; }
  [[nodiscard]] nlohmann::json types_row() const override {
    return nlohmann::json::parse(
        R"([42, "9007199254740993", 12.5, 1, "h\u00e9llo", null, "AP8=", "2024-02-29"])");
  }

 private:
  connectors::sqlite::SqliteConnector connector_;
};

class OdbcSqliteTarget final : public SqliteDialect {
 public:
  Connector& connector() override { return connector_; }
  [[nodiscard]] std::string source_type() const override { return "odbc"; }
  nlohmann::json reader() override { return config(path()); }
  nlohmann::json writer() override { return reader(); }
  BadSource bad_source() override { return {config(missing()), ErrorCode::kUnreachable}; }
  [[nodiscard]] std::string schema() const override { return "main"; }
  [[nodiscard]] nlohmann::json types_row() const override {
    return nlohmann::json::parse(
        R"([42, "9007199254740993", 12.5, 1, "h\u00e9llo", null, "AP8=", "2024-02-29"])");
  }

 private:
  static nlohmann::json config(const std::string& file) {
    return {{"connection_string", "Driver=SQLite3;Database=" + file + ";"}};
  }
  connectors::odbc::OdbcConnector connector_;
};

}  // namespace

std::unique_ptr<Target> make_sqlite_target() {
  return std::make_unique<SqliteTarget>();
}
std::unique_ptr<Target> make_odbc_sqlite_target() {
  return std::make_unique<OdbcSqliteTarget>();
}

}  // namespace outpost::test::conformance
