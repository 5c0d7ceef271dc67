// ODBC connector through the PostgreSQL ODBC driver (psqlODBC, "PostgreSQL
// Unicode" in odbcinst.ini) against a throwaway PostgreSQL cluster.
#include <gtest/gtest.h>

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include <unistd.h>

#include "integration/mysql_test_support.hpp"
#include "odbc/odbc_connector.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using connectors::odbc::OdbcConnector;

constexpr const char* kFixture = R"sql(
CREATE ROLE reader LOGIN PASSWORD 'reader-pw';
CREATE ROLE writer LOGIN PASSWORD 'writer-pw';
CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, amount numeric(10,2) NOT NULL, note text);
INSERT INTO shop.orders VALUES (1, 10.50, 'first'), (2, 99.99, NULL);
CREATE VIEW shop.big_orders AS SELECT id, amount FROM shop.orders WHERE amount > 50;
CREATE TABLE shop.types (i int, bi bigint, n numeric(30,6), f float8, fnan float8, finf float8,
  b bool, t text, by bytea, d date, ts timestamp(6), nothing int);
INSERT INTO shop.types VALUES (-7, 9007199254740993, 123456789012345678901234.123456, 1.5,
  'NaN', '-Infinity', true, 'héllo "wörld" 😀', '\x00ff10', '1999-12-31',
  '2024-02-29 23:59:58.123456', NULL);
CREATE TABLE shop.order_lines (order_id int NOT NULL REFERENCES shop.orders (id),
  sku text NOT NULL UNIQUE, qty int DEFAULT 1, PRIMARY KEY (order_id, sku));
CREATE INDEX order_lines_qty ON shop.order_lines (qty);
CREATE TABLE shop.fact_a (x int);
CREATE TABLE shop.factxa (x int);
GRANT USAGE ON SCHEMA shop TO reader, writer;
GRANT SELECT ON ALL TABLES IN SCHEMA shop TO reader;
GRANT ALL ON ALL TABLES IN SCHEMA shop TO writer;
)sql";

class OdbcPostgresTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      server_ = new PostgresServer();
      server_->exec(kFixture);
    } catch (const std::exception& e) {
      start_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
    ASSERT_NE(server_, nullptr);
  }
  static nlohmann::json config(const std::string& user = "reader",
                               const std::string& password = "reader-pw", std::uint16_t port = 0) {
    return {
        {"connection_string", "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" +
                                  std::to_string(port != 0 ? port : server_->port()) +
                                  ";Database=postgres;Uid=" + user + ";Pwd={" + password + "};"},
        {"connect_timeout", 5}};
  }
  static Job job(JobType type, nlohmann::json source, nlohmann::json params = {}) {
    Job j;
    j.id = "job_odbc";
    j.type = type;
    j.timeout = 30s;
    j.source = Source{"src_pg", "pg", "odbc", std::move(source), ""};
    outpost::test::set_params(j, params);
    return j;
  }
  static std::string code(const JobResult& r) {
    return r.error ? std::string(to_string(r.error->code)) : "ok";
  }

  static inline PostgresServer* server_ = nullptr;
  static inline std::string* start_error_ = nullptr;
  OdbcConnector connector_;
  TestNetworkGuard guard_;
};

TEST_F(OdbcPostgresTest, TestConnectionReportsDbmsAndReadOnlyMode) {
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, config()), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result["server_version"].get<std::string>().rfind("PostgreSQL 15", 0), 0U)
      << r.result.dump();
  EXPECT_NE(r.result["read_only"].get<std::string>().find("enforced"), std::string::npos);
  EXPECT_GE(r.result["latency_ms"].get<int>(), 0);
}

TEST_F(OdbcPostgresTest, FailureClasses) {
  CollectingRows sink;
  auto wrong =
      run_job(connector_, job(JobType::kTestConnection, config("reader", "nope")), sink, guard_);
  EXPECT_EQ(code(wrong), "auth_failed") << (wrong.error ? wrong.error->message : "");
  auto closed = run_job(
      connector_, job(JobType::kTestConnection, config("reader", "x", free_port())), sink, guard_);
  EXPECT_EQ(code(closed), "unreachable") << (closed.error ? closed.error->message : "");
  TestNetworkGuard deny(true);
  EXPECT_EQ(code(run_job(connector_, job(JobType::kTestConnection, config()), sink, deny)),
            "egress_denied");
  auto path_driver = nlohmann::json{{"connection_string", "Driver=/tmp/evil.so;Server=x"}};
  EXPECT_EQ(code(run_job(connector_, job(JobType::kTestConnection, path_driver), sink, guard_)),
            "invalid_job");
  auto no_dsn = nlohmann::json{{"dsn", "no-such-dsn"}, {"user", "u"}, {"password", "p"}};
  EXPECT_EQ(code(run_job(connector_, job(JobType::kTestConnection, no_dsn), sink, guard_)),
            "invalid_job");
  auto typo = config();
  typo["conection_string"] = "x";
  EXPECT_EQ(code(run_job(connector_, job(JobType::kTestConnection, typo), sink, guard_)),
            "invalid_job");
}

TEST_F(OdbcPostgresTest, MetadataFromSqlTablesAndSqlColumns) {
  CollectingRows sink;
  auto r =
      run_job(connector_, job(JobType::kMetadata, config(), {{"schemas", {"shop"}}}), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  const auto orders = sink.table("shop", "orders");
  ASSERT_FALSE(orders.is_null()) << nlohmann::json(sink.tables).dump();
  EXPECT_EQ(orders["kind"], "table");
  ASSERT_EQ(orders["columns"].size(), 3U);
  EXPECT_EQ(orders["columns"][0]["name"], "id");
  EXPECT_EQ(orders["columns"][0]["type"], "int4");
  EXPECT_EQ(orders["columns"][0]["nullable"], false);
  EXPECT_EQ(orders["columns"][2]["ordinal"], 3);
  EXPECT_EQ(orders["columns"][2]["nullable"], true);
  const auto view = sink.table("shop", "big_orders");
  ASSERT_FALSE(view.is_null());
  EXPECT_EQ(view["kind"], "view");
  for (const auto& t : sink.tables) EXPECT_EQ(t["schema"], "shop");
}

// Keys and indexes through SQLPrimaryKeys, SQLForeignKeys and SQLStatistics;
// the `tables` patterns as search patterns (`_` escaped).
TEST_F(OdbcPostgresTest, MetadataKeysFromCatalogFunctions) {
  CollectingRows sink;
  auto r = run_job(connector_,
                   job(JobType::kMetadata, config(),
                       {{"schemas", {"shop"}}, {"tables", {"order_lines", "fact_*"}}}),
                   sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  std::vector<std::string> names;
  for (const auto& t : sink.tables) names.push_back(t["name"]);
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"fact_a", "order_lines"}));
  auto lines = sink.table("shop", "order_lines");
  ASSERT_FALSE(lines.is_null());
  EXPECT_EQ(lines["primary_key"], nlohmann::json::array({"order_id", "sku"}));
  EXPECT_EQ(lines["unique"], nlohmann::json::parse(R"([["sku"]])"));
  EXPECT_EQ(lines["foreign_keys"], nlohmann::json::parse(R"([{"name":"order_lines_order_id_fkey",
      "columns":["order_id"],"ref_schema":"shop","ref_table":"orders","ref_columns":["id"]}])"));
  std::vector<std::string> indexes;
  for (const auto& ix : lines["indexes"]) indexes.push_back(ix["name"]);
  std::sort(indexes.begin(), indexes.end());
  EXPECT_EQ(indexes, (std::vector<std::string>{"order_lines_pkey", "order_lines_qty",
                                               "order_lines_sku_key"}));
  EXPECT_EQ(lines["columns"][2]["default"], "1");
  EXPECT_FALSE(sink.table("shop", "fact_a").contains("primary_key"));
}

TEST_F(OdbcPostgresTest, QueryMapsTypes) {
  CollectingRows sink;
  auto r =
      run_job(connector_, job(JobType::kQuery, config(), {{"sql", "SELECT * FROM shop.types"}}),
              sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.size(), 1U);
  const auto& row = sink.rows[0];
  EXPECT_EQ(row[0], -7);
  EXPECT_EQ(row[1], "9007199254740993");
  EXPECT_EQ(row[2], "123456789012345678901234.123456");
  EXPECT_EQ(row[3], 1.5);
  EXPECT_EQ(row[4], "NaN");
  EXPECT_EQ(row[5], "-Infinity");
  EXPECT_EQ(row[6], true);
  EXPECT_EQ(row[7], "h\u00e9llo \"w\u00f6rld\" \U0001F600");
  EXPECT_EQ(row[8], "AP8Q");
  EXPECT_EQ(row[9], "1999-12-31");
  EXPECT_EQ(row[10], "2024-02-29T23:59:58.123456");
  EXPECT_TRUE(row[11].is_null());
  EXPECT_EQ(sink.columns[0].name, "i");
  EXPECT_EQ(sink.columns[0].type, "int4");
}

TEST_F(OdbcPostgresTest, StatementTimeoutStopsSleep) {
  // No cancel: the job's timeout becomes the server's statement_timeout.
  CollectingRows sink;
  auto j = job(JobType::kQuery, config(), {{"sql", "SELECT pg_sleep(30)"}});
  j.timeout = 1s;
  const auto started = Clock::now();
  auto r = run_job(connector_, j, sink, guard_);
  EXPECT_EQ(code(r), "timeout") << (r.error ? r.error->message : "");
  EXPECT_LT(Clock::now() - started, 1s + 2s);
}

TEST_F(OdbcPostgresTest, DsnWithCredentialsAndAttributes) {
  // unixODBC reads user DSNs from $ODBCINI.
  TempDir dir;
  const auto ini = dir.path() / "odbc.ini";
  {
    std::ofstream out(ini);
    out << "[outpost_pg]\nDriver=PostgreSQL Unicode\nServername=127.0.0.1\nPort=" << server_->port()
        << "\nDatabase=no_such_db\n";
  }
  ::setenv("ODBCINI", ini.c_str(), 1);
  CollectingRows sink;
  auto source = nlohmann::json{{"dsn", "outpost_pg"},
                               {"user", "reader"},
                               {"password", "reader-pw"},
                               {"attributes", {{"Database", "postgres"}}}};
  auto r =
      run_job(connector_,
              job(JobType::kQuery, source, {{"sql", "SELECT current_user, current_database()"}}),
              sink, guard_);
  ::unsetenv("ODBCINI");
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.size(), 1U);
  EXPECT_EQ(sink.rows[0][0], "reader");
  EXPECT_EQ(sink.rows[0][1], "postgres") << "the attribute overrides the DSN's Database";
  EXPECT_EQ(guard_.resolve_calls, 1) << "the DSN's Servername is checked like any other host";
}

TEST_F(OdbcPostgresTest, PooledConnectionIsReused) {
  CollectingRows first;
  ASSERT_TRUE(run_job(connector_,
                      job(JobType::kQuery, config(), {{"sql", "SELECT pg_backend_pid()"}}), first,
                      guard_)
                  .ok());
  EXPECT_EQ(connector_.idle_connections(), 1U);
  CollectingRows second;
  ASSERT_TRUE(run_job(connector_,
                      job(JobType::kQuery, config(), {{"sql", "SELECT pg_backend_pid()"}}), second,
                      guard_)
                  .ok());
  EXPECT_EQ(first.rows[0][0], second.rows[0][0]);
}

TEST_F(OdbcPostgresTest, StreamsAMillionRows) {
  CountingRows sink;
  auto j = job(JobType::kQuery, config(),
               {{"sql",
                 "SELECT g AS id, 'row-' || g AS label, g * 0.25 AS amount "
                 "FROM generate_series(1, 1000000) AS g"}});
  j.timeout = 300s;
  const auto rss_before = self_peak_rss_kib();
  const auto started = Clock::now();
  auto r = run_job(connector_, j, sink, guard_);
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(sink.rows, 1'000'000U);
  EXPECT_EQ(sink.id_sum, 500'000'500'000ULL);
  const auto rss_after = self_peak_rss_kib();
  std::printf(
      "odbc/psqlODBC: 1000000 rows, %.1f MB of row JSON in %.2f s = %.0f rows/s; peak RSS "
      "%llu KiB (before %llu KiB)\n",
      static_cast<double>(sink.bytes) / 1e6, seconds, 1e6 / seconds,
      static_cast<unsigned long long>(rss_after), static_cast<unsigned long long>(rss_before));
  // psqlODBC fetches through a cursor (UseDeclareFetch): memory stays flat.
  if (kRssIsMeaningful) {
    EXPECT_LT(rss_after - rss_before, 32U * 1024U);
  }
}

// --- issue 14: attacks on the connector, in process --------------------------

/// Keeps rows like CollectingRows, but gives the RowWriter a byte budget the
/// way the runtime's sink does, and drops rows that went over it.
class BudgetRows final : public ResultSink {
 public:
  explicit BudgetRows(std::size_t budget) : budget_(budget) {}
  void set_columns(std::vector<Column>) override {}
  RowWriter& begin_row() override {
    buffer_.clear();
    writer_.open(budget_);
    return writer_;
  }
  bool end_row() override {
    writer_.close();
    if (writer_.over_limit()) {
      ++dropped;
      return false;
    }
    rows.push_back(nlohmann::json::parse(buffer_));
    return true;
  }
  bool add_table(const Table&) override { return true; }
  [[nodiscard]] std::uint64_t count() const override { return rows.size(); }
  std::vector<nlohmann::json> rows;
  int dropped = 0;

 private:
  std::size_t budget_;
  std::string buffer_;
  RowWriter writer_{buffer_};
};

TEST_F(OdbcPostgresTest, MultiStatementCommitIsRefusedAndThePooledSessionStaysReadOnly) {
  const auto before = server_->query_column("SELECT count(*) FROM shop.orders")[0];
  CollectingRows pid;
  ASSERT_TRUE(run_job(connector_,
                      job(JobType::kQuery, config("writer", "writer-pw"),
                          {{"sql", "SELECT pg_backend_pid()"}}),
                      pid, guard_)
                  .ok());
  CollectingRows sink;
  auto r = run_job(connector_,
                   job(JobType::kQuery, config("writer", "writer-pw"),
                       {{"sql",
                         "COMMIT; SET TRANSACTION READ WRITE; INSERT INTO shop.orders VALUES "
                         "(77, 1, 'x')"}}),
                   sink, guard_);
  EXPECT_EQ(code(r), "invalid_job") << (r.error ? r.error->message : "");
  EXPECT_EQ(server_->query_column("SELECT count(*) FROM shop.orders")[0], before);
  // set_config() in a SELECT is undone by the job's rollback.
  CollectingRows flip;
  ASSERT_TRUE(
      run_job(connector_,
              job(JobType::kQuery, config("writer", "writer-pw"),
                  {{"sql", "SELECT set_config('default_transaction_read_only', 'off', false)"}}),
              flip, guard_)
          .ok());
  CollectingRows after;
  ASSERT_TRUE(
      run_job(connector_,
              job(JobType::kQuery, config("writer", "writer-pw"),
                  {{"sql", "SELECT pg_backend_pid(), current_setting('transaction_read_only')"}}),
              after, guard_)
          .ok());
  ASSERT_EQ(after.rows.size(), 1U);
  EXPECT_EQ(after.rows[0][0], pid.rows[0][0]) << "the same pooled session";
  EXPECT_EQ(after.rows[0][1], "on");
  auto write = run_job(connector_,
                       job(JobType::kQuery, config("writer", "writer-pw"),
                           {{"sql", "INSERT INTO shop.orders VALUES (78, 1, 'y')"}}),
                       sink, guard_);
  EXPECT_EQ(code(write), "read_only_violation");
  EXPECT_EQ(server_->query_column("SELECT count(*) FROM shop.orders")[0], before);
}

TEST_F(OdbcPostgresTest, AdvisoryLocksDoNotOutliveTheJob) {
  CollectingRows sink;
  ASSERT_TRUE(run_job(connector_,
                      job(JobType::kQuery, config(), {{"sql", "SELECT pg_advisory_lock(4242)"}}),
                      sink, guard_)
                  .ok());
  EXPECT_EQ(connector_.idle_connections(), 1U);
  EXPECT_EQ(server_->query_column(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")[0],
            "0");
}

TEST_F(OdbcPostgresTest, ConnectTimeSqlAndLogAttributesAreRefusedBeforeConnecting) {
  const auto before = server_->query_column("SELECT count(*) FROM shop.orders")[0];
  const std::string base = config("writer", "writer-pw")["connection_string"];
  for (const std::string& extra : std::vector<std::string>{
           "ConnSettings={INSERT INTO shop.orders VALUES (90, 1, 'cs')}",
           "A6={INSERT INTO shop.orders VALUES (91, 1, 'a6')}", "Debug=1", "CommLog=1", "B2=1",
           "B3=1", "CX=1c00", "pqopt={host=127.0.0.2}", "Logdir=/tmp"}) {
    CollectingRows sink;
    auto r = run_job(connector_,
                     job(JobType::kTestConnection, {{"connection_string", base + extra + ";"}}),
                     sink, guard_);
    EXPECT_EQ(code(r), "invalid_job") << extra;
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->message.find("writer-pw"), std::string::npos);
  }
  EXPECT_EQ(guard_.resolve_calls, 0) << "refused before anything was resolved or dialled";
  EXPECT_EQ(server_->query_column("SELECT count(*) FROM shop.orders")[0], before);
}

TEST_F(OdbcPostgresTest, SocketsNoServerAndDsnsGoThroughTheEgressPolicy) {
  TestNetworkGuard deny(true);
  CollectingRows sink;
  const std::string creds = ";Uid=reader;Pwd=reader-pw;Database=postgres";
  for (const std::string& text : std::vector<std::string>{
           "Driver={PostgreSQL Unicode}" + creds,
           "Driver={PostgreSQL Unicode};Server=" + server_->socket_dir().string() + creds}) {
    auto r = run_job(connector_, job(JobType::kTestConnection, {{"connection_string", text}}), sink,
                     deny);
    EXPECT_EQ(code(r), "egress_denied") << text;
  }
  // Allowed, the socket directory works.
  auto via_socket =
      run_job(connector_,
              job(JobType::kQuery,
                  {{"connection_string",
                    "Driver={PostgreSQL Unicode};Server=" + server_->socket_dir().string() +
                        ";Port=" + std::to_string(server_->port()) + creds}},
                  {{"sql", "SELECT 1"}}),
              sink, guard_);
  EXPECT_TRUE(via_socket.ok()) << (via_socket.error ? via_socket.error->message : "");
}

TEST_F(OdbcPostgresTest, HostNamesAreDialledByTheCheckedAddressAndPasswordsStayVerbatim) {
  server_->exec("CREATE ROLE plus LOGIN PASSWORD 'p+w%41 x'");
  CollectingRows sink;
  auto r = run_job(connector_,
                   job(JobType::kQuery,
                       {{"connection_string", "Driver={PostgreSQL Unicode};Server=localhost;Port=" +
                                                  std::to_string(server_->port()) +
                                                  ";Database=postgres;Uid=plus;Pwd=p+w%41 x"}},
                       {{"sql", "SELECT current_user, inet_server_addr()::text"}}),
                   sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(sink.rows[0][0], "plus");
  EXPECT_EQ(guard_.resolve_calls, 1);
}

TEST_F(OdbcPostgresTest, DriverLogsStayOffWhateverOdbcinstIniSays) {
  // Debian's odbcinst.ini ships CommLog=1 for psqlODBC; the agent writes
  // Debug=0;CommLog=0 for every connection. (With no connection open,
  // psqlODBC falls back to the global setting and logs one "PQfinish:
  // <pointer>" line at disconnect: no statement, no credential.)
  {
    OdbcConnector fresh;
    CollectingRows sink;
    ASSERT_TRUE(run_job(fresh,
                        job(JobType::kQuery, config(), {{"sql", "SELECT 'odbc-log-probe-93'"}}),
                        sink, guard_)
                    .ok());
  }
  const std::string suffix = std::to_string(::getpid()) + ".log";
  for (const auto& e : std::filesystem::directory_iterator("/tmp")) {
    const auto name = e.path().filename().string();
    if (!(name.starts_with("psqlodbc_") || name.starts_with("mylog_")) || !name.ends_with(suffix)) {
      continue;
    }
    std::ifstream in(e.path());
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text.find("odbc-log-probe-93"), std::string::npos) << name;
    EXPECT_EQ(text.find("reader-pw"), std::string::npos) << name;
    EXPECT_EQ(text.find("SELECT"), std::string::npos) << name;
  }
}

TEST_F(OdbcPostgresTest, PrivilegedLoginsAreGatedUnlessTheOperatorOptsIn) {
  const auto su = config(PostgresServer::superuser(), server_->superuser_password());
  CollectingRows sink;
  auto t = run_job(connector_, job(JobType::kTestConnection, su), sink, guard_);
  ASSERT_TRUE(t.ok()) << t.error->message;
  EXPECT_EQ(
      t.result["privileges"],
      nlohmann::json::array({"superuser", "pg_execute_server_program", "pg_write_server_files",
                             "pg_read_server_files", "pg_signal_backend"}));
  auto q = run_job(connector_,
                   job(JobType::kQuery, su, {{"sql", "SELECT pg_read_file('/etc/hostname')"}}),
                   sink, guard_);
  EXPECT_EQ(code(q), "permission_denied");
  EXPECT_NE(q.error->message.find("superuser"), std::string::npos);
  EXPECT_EQ(code(run_job(connector_, job(JobType::kMetadata, su), sink, guard_)),
            "permission_denied");
  OperatorPolicy allow;
  allow.allow_privileged_logins = true;
  CancelToken token;
  const auto j = job(JobType::kQuery, su, {{"sql", "SELECT 1"}});
  JobContext ctx{j, sink, token, guard_, Clock::now() + j.timeout, allow};
  EXPECT_TRUE(connector_.run(ctx).ok());
  // The least-privilege reader has none.
  auto r = run_job(connector_, job(JobType::kTestConnection, config()), sink, guard_);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.result["privileges"], nlohmann::json::array());
}

TEST_F(OdbcPostgresTest, LongValuesStopAtTheRowBudget) {
  BudgetRows small(64 * 1024);
  auto r = run_job(connector_,
                   job(JobType::kQuery, config(),
                       {{"sql",
                         "SELECT 1 AS id, repeat('x', 20000000) AS big UNION ALL "
                         "SELECT 2, repeat('y', 1000) ORDER BY 1"}}),
                   small, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(small.dropped, 1) << "the 20 MB value does not fit a 64 KiB budget";
  ASSERT_EQ(small.rows.size(), 0U) << "the sink stops at the first dropped row";
  BudgetRows enough(64 * 1024);
  auto fits =
      run_job(connector_, job(JobType::kQuery, config(), {{"sql", "SELECT repeat('z', 40000)"}}),
              enough, guard_);
  ASSERT_TRUE(fits.ok()) << fits.error->message;
  ASSERT_EQ(enough.rows.size(), 1U);
  EXPECT_EQ(enough.rows[0][0].get<std::string>().size(), 40000U);
}

}  // namespace
}  // namespace outpost::test
