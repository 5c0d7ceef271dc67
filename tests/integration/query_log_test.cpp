// The `query_log` job of jobs-v1.1 against servers that keep statement
// statistics: PostgreSQL with pg_stat_statements preloaded (and installed in
// one database but not in another), MariaDB started with
// --performance-schema=ON and without it. The records must name statements
// the test ran, with their calls.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "mysql/mysql_connector.hpp"
#include "postgres/pg_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/mariadb_server.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Ran {
  JobResult result;
  std::vector<json> records;
};

Ran run_log(Connector& connector, const std::string& type, const json& config, const json& params) {
  Job j;
  j.id = "job_log";
  j.type = JobType::kQueryLog;
  j.timeout = 60s;
  j.source = Source{"src_log", "log", type, config, ""};
  set_params(j, params);
  CollectingSink sink;
  CancelToken cancel;
  AllowingNetworkGuard guard;
  OperatorPolicy policy{true, {}};
  JobContext ctx{j, sink, cancel, guard, std::chrono::steady_clock::now() + j.timeout, policy};
  Ran out{connector.run(ctx), {}};
  out.records = sink.records();
  return out;
}

std::string code(const JobResult& r) {
  return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "ok";
}

const json* find_query(const std::vector<json>& records, const std::string& part) {
  for (const auto& r : records) {
    if (r["query"].get<std::string>().find(part) != std::string::npos) return &r;
  }
  return nullptr;
}

TEST(QueryLog, PostgresReadsPgStatStatementsWhereItIsInstalled) {
  PostgresServer server({"shared_preload_libraries = 'pg_stat_statements'"});
  server.exec("CREATE DATABASE withlog");
  server.exec("CREATE DATABASE nolog");
  server.exec(
      "CREATE EXTENSION pg_stat_statements; CREATE TABLE t (n int); "
      "INSERT INTO t SELECT generate_series(1, 5);",
      "withlog");
  for (int i = 0; i < 3; ++i)
    server.exec("SELECT count(*) FROM t WHERE n > " + std::to_string(i), "withlog");
  connectors::postgres::PostgresConnector connector;
  const std::string pw = server.superuser_password();
  auto ran = run_log(connector, "postgres", server.source_config("postgres", pw, "withlog"),
                     {{"limit", 50}});
  ASSERT_TRUE(ran.result.ok()) << code(ran.result);
  EXPECT_EQ(ran.result.result["source"], "pg_stat_statements");
  const json* hit = find_query(ran.records, "SELECT count(*) FROM t WHERE n >");
  ASSERT_NE(hit, nullptr) << json(ran.records).dump();
  EXPECT_EQ((*hit)["calls"], 3) << hit->dump();  // normalised: one entry, three calls
  EXPECT_NE((*hit)["query"].get<std::string>().find("WHERE n > $1"), std::string::npos)
      << hit->dump();  // the constant is a placeholder
  EXPECT_EQ(find_query(ran.records, "WHERE n > 0"), nullptr);
  EXPECT_EQ((*hit)["rows"], 3);
  EXPECT_GE((*hit)["total_ms"].get<double>(), 0.0);
  EXPECT_EQ((*hit)["user"], "postgres");
  EXPECT_EQ((*hit)["database"], "withlog");
  EXPECT_LE(run_log(connector, "postgres", server.source_config("postgres", pw, "withlog"),
                    {{"limit", 1}})
                .records.size(),
            1u);

  ran = run_log(connector, "postgres", server.source_config("postgres", pw, "nolog"), {});
  ASSERT_TRUE(ran.result.error);
  EXPECT_EQ(ran.result.error->code, ErrorCode::kUnsupported);
  EXPECT_NE(ran.result.error->message.find("pg_stat_statements is not installed"),
            std::string::npos)
      << code(ran.result);
}

json maria_config(const MariaDbServer& server) {
  return {{"host", server.host()},   {"port", server.port()}, {"user", "reader"},
          {"password", "reader-pw"}, {"database", "d"},       {"ssl_mode", "disabled"},
          {"connect_timeout", 5}};
}

void add_reader(const MariaDbServer& server) {
  server.execute(
      "CREATE DATABASE d; CREATE TABLE d.t (n INT); INSERT INTO d.t VALUES (1), (2);"
      "CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';"
      "GRANT SELECT ON d.* TO 'reader'@'127.0.0.1';"
      "GRANT SELECT ON performance_schema.* TO 'reader'@'127.0.0.1'");
}

TEST(QueryLog, MariaDbReadsTheDigestsWhenPerformanceSchemaIsOn) {
  MariaDbServer server({"--performance-schema=ON"});
  add_reader(server);
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(server.scalar("SELECT count(*) FROM d.t WHERE n > " + std::to_string(i)).empty());
  }
  connectors::mysql::MysqlConnector connector;
  auto ran = run_log(connector, "mysql", maria_config(server),
                     {{"since", "2000-01-01T00:00:00Z"}, {"limit", 100}});
  ASSERT_TRUE(ran.result.ok()) << code(ran.result);
  const json* hit = find_query(ran.records, "FROM `d` . `t` WHERE `n` >");
  ASSERT_NE(hit, nullptr) << json(ran.records).dump();
  EXPECT_EQ((*hit)["calls"], 4) << hit->dump();
  EXPECT_EQ((*hit)["rows"], 4);  // one row sent per statement
  EXPECT_GE((*hit)["total_ms"].get<double>(), 0.0);

  // Nothing was seen after a time in the future.
  ran = run_log(connector, "mysql", maria_config(server), {{"since", "2999-01-01T00:00:00+02:00"}});
  ASSERT_TRUE(ran.result.ok()) << code(ran.result);
  EXPECT_TRUE(ran.records.empty()) << json(ran.records).dump();
}

TEST(QueryLog, MariaDbWithoutPerformanceSchemaIsUnsupported) {
  MariaDbServer server({"--performance-schema=OFF"});
  add_reader(server);
  connectors::mysql::MysqlConnector connector;
  const auto ran = run_log(connector, "mysql", maria_config(server), {});
  ASSERT_TRUE(ran.result.error);
  EXPECT_EQ(ran.result.error->code, ErrorCode::kUnsupported);
  EXPECT_NE(ran.result.error->message.find("performance_schema is off"), std::string::npos)
      << code(ran.result);
}

}  // namespace
}  // namespace outpost::test
