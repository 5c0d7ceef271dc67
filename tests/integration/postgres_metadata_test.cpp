// PostgreSQL connector: metadata jobs, checked table by table.
#include <gtest/gtest.h>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;
using nlohmann::json;

JobResult metadata(PostgresConnector& connector, CollectingSink& sink, json params = json::object(),
                   json config = reader_config()) {
  return run(connector, make_job(JobType::kMetadata, std::move(config), std::move(params)), sink);
}

TEST(PostgresMetadata, DescribesEveryKindTableByTable) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = metadata(connector, sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["database"], kDatabase);
  // "private" is left out: the role has no USAGE on it.
  EXPECT_EQ(r.result["schema_names"], json::array({"app", "other", "public"}));
  for (const auto& t : sink.tables()) {
    EXPECT_NE(t["schema"], "pg_catalog");
    EXPECT_NE(t["schema"], "information_schema");
  }

  const json* all = sink.table("app", "all_types");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ((*all)["kind"], "table");
  EXPECT_EQ((*all)["row_estimate"], nullptr);  // never analyzed: unknown, not 0
  const auto& cols = (*all)["columns"];
  ASSERT_EQ(cols.size(), 25u);
  EXPECT_EQ(cols[0], json::parse(R"({"name":"id","type":"integer","nullable":false,"ordinal":1,
      "generated":false})"));
  auto column = [&](const char* name) {
    for (const auto& c : cols) {
      if (c["name"] == name) return c;
    }
    return json();
  };
  EXPECT_EQ(column("c_numeric")["type"], "numeric(20,5)");
  EXPECT_EQ(column("c_varchar")["type"], "character varying(20)");
  EXPECT_EQ(column("c_tstz")["type"], "timestamp with time zone");
  EXPECT_EQ(column("c_int_array")["type"], "integer[]");
  EXPECT_EQ(column("c_mood")["type"], "app.mood");
  EXPECT_EQ(column("c_text")["nullable"], false);
  EXPECT_EQ(column("c_bool")["nullable"], true);
  EXPECT_EQ(column("c_mood")["ordinal"], 25);

  const json* view = sink.table("app", "v_types");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ((*view)["kind"], "view");
  EXPECT_EQ((*view)["row_estimate"], nullptr);
  EXPECT_EQ((*view)["columns"].size(), 2u);

  const json* mv = sink.table("app", "mv_counts");
  ASSERT_NE(mv, nullptr);
  EXPECT_EQ((*mv)["kind"], "materialized_view");
  EXPECT_EQ((*mv)["columns"][1]["type"], "bigint");

  const json* foreign = sink.table("app", "remote_events");
  ASSERT_NE(foreign, nullptr);
  EXPECT_EQ((*foreign)["kind"], "foreign_table");
  EXPECT_EQ((*foreign)["columns"].size(), 2u);

  const json* events = sink.table("other", "events");
  ASSERT_NE(events, nullptr);
  EXPECT_EQ((*events)["row_estimate"], 100);  // ANALYZEd
  // The dropped column leaves no gap in the ordinals.
  ASSERT_EQ((*events)["columns"].size(), 3u);
  EXPECT_EQ((*events)["columns"][1]["name"], "at");
  EXPECT_EQ((*events)["columns"][1]["ordinal"], 2);

  // Tables arrive in schema, name order.
  std::vector<std::string> names;
  for (const auto& t : sink.tables()) {
    names.push_back(t["schema"].get<std::string>() + "." + t["name"].get<std::string>());
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(sink.count(), sink.tables().size());
}

TEST(PostgresMetadata, SchemaFilterAndIncludeViews) {
  PostgresConnector connector;
  CollectingSink sink;
  const auto r = metadata(connector, sink, {{"schemas", {"other", "missing"}}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  ASSERT_EQ(sink.tables().size(), 1u);
  EXPECT_EQ(sink.tables()[0]["name"], "events");
  EXPECT_EQ(r.result["schema_names"], json::array({"other"}));

  CollectingSink no_views;
  ASSERT_TRUE(metadata(connector, no_views, {{"schemas", {"app"}}, {"include_views", false}}).ok());
  for (const auto& t : no_views.tables()) {
    EXPECT_TRUE(t["kind"] == "table" || t["kind"] == "foreign_table") << t.dump();
  }
  EXPECT_NE(no_views.table("app", "all_types"), nullptr);
  EXPECT_EQ(no_views.table("app", "v_types"), nullptr);

  CollectingSink none;
  ASSERT_TRUE(metadata(connector, none, {{"schemas", json::array()}}).ok());
  EXPECT_TRUE(none.tables().empty());
}

TEST(PostgresMetadata, StreamsLargeCatalogsAcrossCursorBatches) {
  server().exec(
      "CREATE SCHEMA wide; GRANT USAGE ON SCHEMA wide TO reader; "
      "DO $$ BEGIN FOR i IN 1..1200 LOOP "
      "EXECUTE format('CREATE TABLE wide.t%s (a int, b text NOT NULL, c_%s date)', "
      "lpad(i::text, 4, '0'), i); END LOOP; END $$;",
      kDatabase);
  PostgresConnector connector;
  std::uint64_t seen = 0;
  CollectingSink sink;
  const auto r = metadata(connector, sink, {{"schemas", {"wide"}}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  ASSERT_EQ(sink.tables().size(), 1200u);
  for (const auto& t : sink.tables()) {
    ASSERT_EQ(t["columns"].size(), 3u) << t.dump();
    const auto n = std::stoi(t["name"].get<std::string>().substr(1));
    EXPECT_EQ(t["columns"][2]["name"], "c_" + std::to_string(n));
    ++seen;
  }
  EXPECT_EQ(seen, 1200u);

  // The sink's cap stops the stream early.
  CollectingSink capped(CollectingSink::Options{true, 10, nullptr, {}});
  const auto c = metadata(connector, capped, {{"schemas", {"wide"}}});
  ASSERT_TRUE(c.ok()) << error_text(c);
  EXPECT_EQ(capped.tables().size(), 10u);
  EXPECT_TRUE(capped.truncated());
}

}  // namespace
}  // namespace outpost::test::pg

namespace outpost::test::pg {
namespace {

// jobs-v1.1: keys, indexes, comments, defaults, generated and enum columns,
// view definitions, partitions, sizes, and the `tables` patterns.
TEST(PostgresMetadata, ReportsKeysCommentsDefinitionsAndPartitions) {
  server().exec(R"SQL(
CREATE SCHEMA cat;
GRANT USAGE ON SCHEMA cat TO reader;
CREATE TABLE cat.customer (id int PRIMARY KEY, email text NOT NULL UNIQUE);
CREATE TABLE cat.orders (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer_id int NOT NULL CONSTRAINT orders_customer_fk REFERENCES cat.customer (id),
  status app.mood NOT NULL DEFAULT 'ok',
  total numeric(10,2),
  total_x2 numeric GENERATED ALWAYS AS (total * 2) STORED);
CREATE INDEX orders_by_customer ON cat.orders (customer_id, abs(customer_id));
COMMENT ON TABLE cat.orders IS 'one row per order';
COMMENT ON COLUMN cat.orders.total IS 'in EUR';
CREATE VIEW cat.big_orders AS SELECT id, total FROM cat.orders WHERE total > 100;
CREATE TABLE cat.measurements (at date NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE cat.measurements_2026_11 PARTITION OF cat.measurements
  FOR VALUES FROM ('2026-11-01') TO ('2026-12-01');
CREATE TABLE cat.measurements_2026_12 PARTITION OF cat.measurements
  FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');
GRANT SELECT ON ALL TABLES IN SCHEMA cat TO reader;
)SQL",
                kDatabase);
  PostgresConnector connector;
  CollectingSink sink;
  auto r = metadata(connector, sink,
                    {{"schemas", {"cat"}}, {"include_definitions", true}, {"include_stats", true}});
  ASSERT_TRUE(r.ok()) << error_text(r);

  const json* orders = sink.table("cat", "orders");
  ASSERT_NE(orders, nullptr) << json(sink.tables()).dump();
  EXPECT_EQ((*orders)["comment"], "one row per order");
  EXPECT_EQ((*orders)["primary_key"], json::array({"id"}));
  EXPECT_EQ((*orders)["foreign_keys"], json::parse(R"([{"name":"orders_customer_fk",
      "columns":["customer_id"],"ref_schema":"cat","ref_table":"customer","ref_columns":["id"]}])"));
  EXPECT_EQ(
      (*orders)["indexes"],
      json::parse(R"J([{"name":"orders_by_customer","columns":["customer_id","abs(customer_id)"],
                "unique":false},{"name":"orders_pkey","columns":["id"],"unique":true}])J"));
  EXPECT_TRUE((*orders)["size_bytes"].is_number_integer()) << orders->dump();
  const auto& cols = (*orders)["columns"];
  ASSERT_EQ(cols.size(), 5u);
  EXPECT_FALSE(cols[0].contains("default")) << "an identity column has no default expression";
  EXPECT_EQ(cols[2]["default"], "'ok'::app.mood");
  EXPECT_EQ(cols[2]["enum_values"], json::array({"sad", "ok", "happy"}));
  EXPECT_EQ(cols[3]["comment"], "in EUR");
  EXPECT_EQ(cols[4]["generated"], true);
  EXPECT_EQ(cols[3]["generated"], false);

  const json* customer = sink.table("cat", "customer");
  ASSERT_NE(customer, nullptr);
  EXPECT_EQ((*customer)["unique"], json::parse(R"([["email"]])"));
  EXPECT_FALSE(customer->contains("foreign_keys"));

  const json* view = sink.table("cat", "big_orders");
  ASSERT_NE(view, nullptr);
  EXPECT_NE((*view)["definition"].get<std::string>().find("total > "), std::string::npos)
      << view->dump();
  EXPECT_FALSE(view->contains("indexes"));

  const json* parent = sink.table("cat", "measurements");
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ((*parent)["kind"], "table");  // v1's kind; `partitions` says the rest
  EXPECT_EQ((*parent)["partitions"], json::array({"measurements_2026_11", "measurements_2026_12"}));
  const json* child = sink.table("cat", "measurements_2026_12");
  ASSERT_NE(child, nullptr);
  EXPECT_EQ((*child)["partition_of"], "cat.measurements");

  // Without the options: no definitions, no sizes; `tables` patterns.
  CollectingSink plain;
  r = metadata(connector, plain, {{"schemas", {"cat"}}, {"tables", {"measure*", "customer"}}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  std::vector<std::string> names;
  for (const auto& t : plain.tables()) names.push_back(t["name"].get<std::string>());
  EXPECT_EQ(names, (std::vector<std::string>{"customer", "measurements", "measurements_2026_11",
                                             "measurements_2026_12"}));
  EXPECT_FALSE(plain.table("cat", "customer")->contains("size_bytes"));
  CollectingSink views;
  ASSERT_TRUE(metadata(connector, views, {{"schemas", {"cat"}}, {"tables", {"big_*"}}}).ok());
  ASSERT_EQ(views.tables().size(), 1u);
  EXPECT_FALSE(views.tables()[0].contains("definition"));
}

// The `tables` patterns reach the catalog query as LIKE: `_`, `%` and `\` in a
// pattern are themselves, `*` is any run; an empty list matches nothing.
TEST(PostgresMetadata, TablePatternsArePushedDownExactly) {
  server().exec(
      "CREATE SCHEMA pat; GRANT USAGE ON SCHEMA pat TO reader; "
      "CREATE TABLE pat.fact_a (x int); CREATE TABLE pat.factxa (x int); "
      "CREATE TABLE pat.\"fact%b\" (x int); CREATE TABLE pat.\"f\\_c\" (x int); "
      "CREATE TABLE pat.other (x int);",
      kDatabase);
  PostgresConnector connector;
  auto names = [&](json patterns) {
    CollectingSink sink;
    const auto r = metadata(connector, sink, {{"schemas", {"pat"}}, {"tables", patterns}});
    EXPECT_TRUE(r.ok()) << error_text(r);
    std::vector<std::string> out;
    for (const auto& t : sink.tables()) out.push_back(t["name"].get<std::string>());
    return out;
  };
  EXPECT_EQ(names({"fact_*"}), (std::vector<std::string>{"fact_a"}));
  EXPECT_EQ(names({"fact%*"}), (std::vector<std::string>{"fact%b"}));
  EXPECT_EQ(names({"f\\_c", "other"}), (std::vector<std::string>{"f\\_c", "other"}));
  EXPECT_EQ(names({"*a"}), (std::vector<std::string>{"fact_a", "factxa"}));
  EXPECT_TRUE(names(json::array()).empty());
}

// include_stats: the activity counters and maintenance times are the ones
// pg_stat_user_tables shows for the same table. Autovacuum is off for it, so
// nothing changes them between the job and the test's own look.
TEST(PostgresMetadata, StatsAreWhatPgStatUserTablesSays) {
  const std::string flush = "; SELECT pg_catalog.pg_stat_force_next_flush()";
  server().exec(
      "CREATE SCHEMA act; GRANT USAGE ON SCHEMA act TO reader; "
      "CREATE TABLE act.t (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false); "
      "CREATE MATERIALIZED VIEW act.mv AS SELECT 1 AS one; "
      "CREATE VIEW act.v AS SELECT id FROM act.t; "
      "GRANT SELECT ON ALL TABLES IN SCHEMA act TO reader; "
      "INSERT INTO act.t SELECT i, i FROM generate_series(1, 10) i; "
      "UPDATE act.t SET v = 0 WHERE id <= 3; DELETE FROM act.t WHERE id > 8" +
          flush,
      kDatabase);
  server().exec("VACUUM act.t", kDatabase);  // not in a multi-statement string
  server().exec("ANALYZE act.t", kDatabase);
  server().exec("UPDATE act.t SET v = 1 WHERE id = 4" + flush, kDatabase);

  PostgresConnector connector;
  CollectingSink sink;
  const auto r = metadata(connector, sink, {{"schemas", {"act"}}, {"include_stats", true}});
  ASSERT_TRUE(r.ok()) << error_text(r);
  const json* t = sink.table("act", "t");
  ASSERT_NE(t, nullptr) << json(sink.tables()).dump();
  ASSERT_TRUE(t->contains("stats")) << t->dump();
  const json& s = (*t)["stats"];
  EXPECT_EQ(s["n_tup_ins"], 10) << s.dump();
  EXPECT_EQ(s["n_tup_upd"], 4);
  EXPECT_EQ(s["n_tup_del"], 2);
  EXPECT_EQ(s["n_live_tup"], 8);
  EXPECT_EQ(s["n_dead_tup"], 1);  // the update after VACUUM
  EXPECT_FALSE(s.contains("last_autovacuum"));
  EXPECT_FALSE(s.contains("last_autoanalyze"));
  EXPECT_FALSE(t->contains("last_modified")) << "PostgreSQL keeps no modification time";

  const std::string iso = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";
  const auto want = server().query_column(
      "SELECT concat_ws(',', n_tup_ins, n_tup_upd, n_tup_del, n_live_tup, n_dead_tup, "
      "to_char(last_vacuum AT TIME ZONE 'UTC', " +
          iso + "), to_char(last_analyze AT TIME ZONE 'UTC', " + iso +
          ")) FROM pg_stat_user_tables WHERE schemaname = 'act' AND relname = 't'",
      kDatabase);
  ASSERT_EQ(want.size(), 1u);
  const std::string got = std::to_string(s["n_tup_ins"].get<std::int64_t>()) + "," +
                          std::to_string(s["n_tup_upd"].get<std::int64_t>()) + "," +
                          std::to_string(s["n_tup_del"].get<std::int64_t>()) + "," +
                          std::to_string(s["n_live_tup"].get<std::int64_t>()) + "," +
                          std::to_string(s["n_dead_tup"].get<std::int64_t>()) + "," +
                          s.value("last_vacuum", "none") + "," + s.value("last_analyze", "none");
  EXPECT_EQ(got, want[0]);
  EXPECT_EQ(s["last_vacuum"].get<std::string>().back(), 'Z');

  const json* mv = sink.table("act", "mv");
  ASSERT_NE(mv, nullptr);
  EXPECT_EQ((*mv)["stats"]["n_tup_ins"], 1) << mv->dump();  // the refresh's row
  EXPECT_FALSE(sink.table("act", "v")->contains("stats"));  // views keep none

  CollectingSink plain;
  ASSERT_TRUE(metadata(connector, plain, {{"schemas", {"act"}}}).ok());
  EXPECT_FALSE(plain.table("act", "t")->contains("stats"));
}

}  // namespace
}  // namespace outpost::test::pg
