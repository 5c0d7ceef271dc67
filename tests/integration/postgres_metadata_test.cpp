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
  EXPECT_EQ(cols[0], json::parse(R"({"name":"id","type":"integer","nullable":false,"ordinal":1})"));
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
