// Conformance targets on a throwaway PostgreSQL cluster: the postgres
// connector (libpq) and the odbc connector through psqlODBC.
#include <memory>
#include <string>

#include "integration/conformance/conformance_target.hpp"
#include "integration/conformance/target_registry.hpp"
#include "odbc/odbc_connector.hpp"
#include "postgres/pg_connector.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test::conformance {
namespace {

constexpr const char* kFixture = R"sql(
CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
CREATE ROLE writer LOGIN PASSWORD 'writer-pw';
CREATE SCHEMA conf;
CREATE TABLE conf.items (id int PRIMARY KEY, label text NOT NULL);
INSERT INTO conf.items VALUES (1, 'one'), (2, 'two'), (3, 'three');
CREATE VIEW conf.items_view AS SELECT id FROM conf.items;
CREATE TABLE conf.events (id int, at timestamptz, n int);
INSERT INTO conf.events VALUES (1, '2026-11-29 10:00:00+00', 1), (2, '2026-11-30 09:15:00.250+01', 2);
GRANT USAGE ON SCHEMA conf TO reader, writer;
GRANT SELECT ON ALL TABLES IN SCHEMA conf TO reader;
GRANT ALL ON ALL TABLES IN SCHEMA conf TO writer;
)sql";

// The SQL is the same through libpq and psqlODBC; the connection differs.
class PostgresDialect : public Target {
 public:
  const OperatorPolicy& policy() override { return policy_; }
  const OperatorPolicy& privileged_policy() override { return privileged_; }
  [[nodiscard]] std::string schema() const override { return "conf"; }
  [[nodiscard]] std::string series_sql(int n) const override {
    return "SELECT g AS id, 'row ' || g AS label FROM generate_series(1, " + std::to_string(n) +
           ") AS g ORDER BY g";
  }
  [[nodiscard]] std::string endless_sql() const override { return "SELECT pg_sleep(600)"; }
  [[nodiscard]] std::string insert_sql() const override {
    return "INSERT INTO conf.items VALUES (4, 'four')";
  }
  [[nodiscard]] std::string types_sql() const override {
    return "SELECT 42::int4 AS i, 9007199254740993::int8 AS big, 12.50::numeric(6,2) AS dec, "
           "1.5::float8 AS f, true AS b, 'h\u00e9llo'::text AS t, NULL::int4 AS n, "
           "'\\x00ff'::bytea AS bin, DATE '2024-02-29' AS d";
  }

 protected:
  PostgresServer& server() {
    if (!server_) {
      server_ = std::make_unique<PostgresServer>();
      server_->exec(kFixture);
    }
    return *server_;
  }

 private:
  std::unique_ptr<PostgresServer> server_;
  OperatorPolicy policy_;
  OperatorPolicy privileged_{true, {}};
};

class PostgresTarget final : public PostgresDialect {
 public:
  Connector& connector() override { return connector_; }
  [[nodiscard]] std::string source_type() const override { return "postgres"; }
  nlohmann::json reader() override { return server().source_config("reader", "reader-pw"); }
  nlohmann::json writer() override { return server().source_config("writer", "writer-pw"); }
  BadSource bad_source() override {
    return {server().source_config("reader", "wrong-pw"), ErrorCode::kAuthFailed};
  }
  [[nodiscard]] nlohmann::json types_row() const override {
    return nlohmann::json::parse(
        R"([42, "9007199254740993", "12.50", 1.5, true, "h\u00e9llo", null, "AP8=", "2024-02-29"])");
  }

 private:
  connectors::postgres::PostgresConnector connector_;
};

class OdbcPostgresTarget final : public PostgresDialect {
 public:
  Connector& connector() override { return connector_; }
  [[nodiscard]] std::string source_type() const override { return "odbc"; }
  nlohmann::json reader() override { return config("reader", "reader-pw"); }
  nlohmann::json writer() override { return config("writer", "writer-pw"); }
  BadSource bad_source() override { return {config("reader", "wrong-pw"), ErrorCode::kAuthFailed}; }
  [[nodiscard]] nlohmann::json types_row() const override {
    return nlohmann::json::parse(
        R"([42, "9007199254740993", "12.50", 1.5, true, "h\u00e9llo", null, "AP8=", "2024-02-29"])");
  }

 private:
  nlohmann::json config(const std::string& user, const std::string& password) {
    return {
        {"connection_string",
         "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" + std::to_string(server().port()) +
             ";Database=postgres;Uid=" + user + ";Pwd={" + password + "};"},
        {"connect_timeout", 5}};
  }
  connectors::odbc::OdbcConnector connector_;
};

}  // namespace

std::unique_ptr<Target> make_postgres_target() {
  return std::make_unique<PostgresTarget>();
}
std::unique_ptr<Target> make_odbc_postgres_target() {
  return std::make_unique<OdbcPostgresTarget>();
}

}  // namespace outpost::test::conformance
