#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

// Every type of issue 5's value mapping, plus an enum for catalog lookups.
constexpr const char* kSchemaSql = R"SQL(
CREATE SCHEMA app;
CREATE SCHEMA other;
CREATE SCHEMA private;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE app.all_types (
  id int4 PRIMARY KEY,
  c_int2 int2, c_int4 int4, c_int8 int8, c_big int8,
  c_numeric numeric(20,5), c_float4 float4, c_float8 float8, c_bool bool,
  c_text text NOT NULL, c_varchar varchar(20), c_char char(5), c_bytea bytea,
  c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz,
  c_interval interval, c_uuid uuid, c_json json, c_jsonb jsonb,
  c_int_array int4[], c_text_array text[], c_mood app.mood);
INSERT INTO app.all_types VALUES
 (1, -32768, 2147483647, 9007199254740991, 9223372036854775807,
  12345678901234.56789, 1.5, 0.1, true,
  E'h\u00e9llo "quoted"\nline', 'varchar', 'ab', '\x00ff10'::bytea,
  '2024-02-29', '13:14:15.5', '13:14:15+02', '2024-02-29 13:14:15.123456',
  '2024-02-29 13:14:15.5+00', '1 year 2 mons 3 days 04:05:06', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  E'{"a": [1, 2],\n "b": null}', '{"k": "v", "n": 1.5}', '{1,2,3}', '{"x","y z"}', 'happy'),
 (2, 0, 0, -9007199254740993, 0, 'NaN', 'NaN', 'Infinity', false,
  '', NULL, NULL, '\x'::bytea, '0044-03-15 BC', '00:00:00', NULL, 'infinity', NULL,
  '-1 days', NULL, 'null', '[]', '{}', NULL, NULL),
 (3, NULL, NULL, NULL, NULL, NULL, '-Infinity', '-Infinity', NULL,
  'nulls', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE VIEW app.v_types AS SELECT id, c_text FROM app.all_types;
CREATE MATERIALIZED VIEW app.mv_counts AS SELECT c_bool, count(*) AS n FROM app.all_types GROUP BY 1;
CREATE TABLE other.events (id bigserial PRIMARY KEY, dropped int, at timestamptz NOT NULL DEFAULT now(), payload jsonb);
ALTER TABLE other.events DROP COLUMN dropped;
INSERT INTO other.events (payload) SELECT jsonb_build_object('i', i) FROM generate_series(1, 100) i;
ANALYZE other.events;
CREATE TABLE private.secrets (id int);
CREATE EXTENSION postgres_fdw;
)SQL";

constexpr const char* kGrantsSql = R"SQL(
REVOKE CONNECT ON DATABASE outpost_test FROM PUBLIC;
GRANT CONNECT ON DATABASE outpost_test TO reader, writer;
ALTER DATABASE outpost_test SET TimeZone = 'Asia/Kolkata';
GRANT USAGE ON SCHEMA app, other TO reader;
GRANT SELECT ON ALL TABLES IN SCHEMA app, other TO reader;
GRANT USAGE ON SCHEMA app TO writer;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO writer;
)SQL";

}  // namespace

PostgresServer& server() {
  static std::unique_ptr<PostgresServer> instance;
  if (instance) return *instance;
  auto s = std::make_unique<PostgresServer>();
  s->exec(std::string("CREATE ROLE reader LOGIN PASSWORD '") + kReaderPassword +
          "'; CREATE ROLE writer LOGIN PASSWORD '" + kWriterPassword +
          "'; CREATE ROLE noconnect LOGIN PASSWORD 'nc-pw'; "
          "ALTER ROLE reader SET default_transaction_read_only = on");
  s->exec("CREATE DATABASE outpost_test");
  s->exec(kSchemaSql, kDatabase);
  s->exec(
      "CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', "
      "port '" +
          std::to_string(s->port()) +
          "', dbname 'outpost_test'); "
          "CREATE FOREIGN TABLE app.remote_events (id bigint, payload jsonb) SERVER loopback "
          "OPTIONS (schema_name 'other', table_name 'events')",
      kDatabase);
  s->exec(kGrantsSql, kDatabase);
  instance = std::move(s);
  return *instance;
}

nlohmann::json config_for(const std::string& user, const std::string& password,
                          const std::string& database) {
  return server().source_config(user, password, database);
}

}  // namespace outpost::test::pg
