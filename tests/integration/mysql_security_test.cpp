// Issue 14 mechanisms of the MySQL/MariaDB connector, in process: LOAD DATA
// LOCAL against a rogue server, the privilege gate (direct, column-level and
// role grants), the statement guard, the reset of pooled sessions, and the
// bound on one row packet.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <limits>

#include "integration/mysql_fixture.hpp"
#include "mysql/mysql_privileges.hpp"
#include "mysql/mysql_sql_guard.hpp"
#include "support/rogue_mysql_server.hpp"

namespace outpost::test {
namespace {

using connectors::mysql::forbidden_statement;
using connectors::mysql::parse_grant_line;
using connectors::mysql::PrivilegeReport;

/// A sink with a byte budget, like the runtime's: a row past it is dropped
/// and the result truncated.
class BudgetRows final : public ResultSink {
 public:
  explicit BudgetRows(std::size_t budget) : budget_(budget) {}
  void set_columns(std::vector<Column>) override {}
  RowWriter& begin_row() override {
    buffer_.clear();
    writer_.open(budget_ - std::min(budget_, used_));
    return writer_;
  }
  bool end_row() override {
    writer_.close();
    if (writer_.over_limit() || used_ + buffer_.size() > budget_) {
      truncated = true;
      return false;
    }
    used_ += buffer_.size();
    ++rows;
    return true;
  }
  bool add_table(const Table&) override { return true; }
  [[nodiscard]] std::uint64_t count() const override { return rows; }

  std::uint64_t rows = 0;
  bool truncated = false;

 private:
  std::size_t budget_;
  std::size_t used_ = 0;
  std::string buffer_;
  RowWriter writer_{buffer_};
};

TEST(MysqlSqlGuard, RefusesWhatEscapesATransaction) {
  for (const std::string sql : {
           "SELECT 1 INTO OUTFILE '/tmp/x'",
           "select * from t into\n  dumpfile '/tmp/x'",
           "SELECT 1 /*! INTO OUTFILE '/tmp/x' */",
           "SELECT 1 /*!50110 INTO */ OUTFILE '/tmp/x'",
           "SELECT 1 /*M!100000 INTO OUTFILE '/tmp/x' */",
           "SELECT 1 INTO /* a comment */ OUTFILE '/tmp/x'",
           "SET GLOBAL general_log_file = '/tmp/x'",
           "set @@global.init_connect = 'x'",
           "SET @@GLOBAL . init_connect = 'x'",
           "SET PERSIST max_connections = 1",
           "SET PERSIST_ONLY max_connections = 1",
           "SET SESSION a = 1, GLOBAL b = 2",
           "SET STATEMENT max_statement_time = 1 FOR SET GLOBAL x = 1",
           // Under NO_BACKSLASH_ESCAPES the first string ends at the backslash.
           "SELECT 'a\\' INTO OUTFILE '/tmp/x' -- '",
           // Under ANSI_QUOTES "…" is an identifier without backslash escapes.
           "SELECT \"a\\\" INTO OUTFILE '/tmp/x' -- \"",
           // "--1" is not a comment: minus minus one.
           "SELECT 1 --1 INTO OUTFILE '/tmp/x'",
           "EXECUTE IMMEDIATE 'SELECT 1'",
           "PREPARE s FROM 'SET GLOBAL x = 1'",
       }) {
    EXPECT_TRUE(forbidden_statement(sql).has_value()) << sql;
  }
}

TEST(MysqlSqlGuard, LiteralsCommentsAndReadsStillRun) {
  for (const std::string sql : {
           "SELECT 'INTO OUTFILE'",
           "SELECT \"INTO DUMPFILE\"",
           "SELECT 'it''s INTO OUTFILE'",
           "SELECT `into outfile` FROM t",
           "SELECT 1 -- INTO OUTFILE '/tmp/x'\n",
           "SELECT 1 # INTO DUMPFILE '/tmp/x'",
           "SELECT 1 /* INTO OUTFILE '/tmp/x' */",
           "SELECT @@global.max_connections",
           "SHOW GLOBAL STATUS LIKE 'Uptime'",
           "SET SESSION sql_mode = 'GLOBAL'",
           "SELECT outfile, into_x FROM global_stats",
       }) {
    EXPECT_FALSE(forbidden_statement(sql).has_value()) << sql;
  }
}

TEST(MysqlGrantParser, NamesEveryPrivilegeBeyondReading) {
  PrivilegeReport report;
  std::vector<std::string> roles;
  for (const char* line : {
           "GRANT SELECT, SHOW VIEW ON `shop`.* TO `u`@`h`",
           "GRANT USAGE ON *.* TO `u`@`h` IDENTIFIED BY PASSWORD '*ABCDEF'",
           "GRANT SELECT (`a`), UPDATE (`a`, `b`) ON `shop`.`t` TO `u`@`h`",
           "GRANT FILE, PROCESS ON *.* TO `u`@`h`",
           "GRANT `r_outer` TO `u`@`h`",
           "GRANT SELECT ON `a TO b`.* TO `u`@`h` WITH GRANT OPTION",
           "GRANT SYSTEM_VARIABLES_ADMIN,CONNECTION_ADMIN ON *.* TO `u`@`%`",
           "GRANT EXECUTE ON PROCEDURE `shop`.`p` TO `u`@`h`",
           "GRANT INSERT ON `shop`.* TO `r_write`",
       }) {
    parse_grant_line(line, report, &roles, nullptr);
  }
  std::vector<std::string> named;
  for (const auto& p : report.privileged) named.push_back(p.describe());
  EXPECT_EQ(named, (std::vector<std::string>{
                       "UPDATE ON `shop`.`t` (`a`, `b`)", "FILE ON *.*", "PROCESS ON *.*",
                       "GRANT OPTION ON `a TO b`.*", "SYSTEM_VARIABLES_ADMIN ON *.*",
                       "CONNECTION_ADMIN ON *.*", "EXECUTE ON PROCEDURE `shop`.`p`",
                       "INSERT ON `shop`.* (via role `r_write`)"}));
  EXPECT_EQ(roles, std::vector<std::string>{"`r_outer`"});
  ASSERT_EQ(report.writes.size(), 3U);  // UPDATE, FILE, INSERT
  for (const auto& p : report.privileged) {
    EXPECT_EQ(p.describe().find("ABCDEF"), std::string::npos) << "password hash leaked";
  }
}

class MysqlSecurityTest : public MysqlConnectorTest {};

TEST_F(MysqlSecurityTest, GateRefusesPrivilegedLoginsNamingThePrivilege) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"writer", "ALL PRIVILEGES ON `shop`.*"},
      {"filer", "FILE ON *.*"},
      {"roled", "INSERT ON `shop`.* (via role `r_write`)"},
      {"colwriter", "UPDATE ON `shop`.`orders` (`note`)"}};
  for (const auto& [user, privilege] : cases) {
    for (const auto type : {JobType::kQuery, JobType::kMetadata}) {
      CollectingRows sink;
      auto r = run_job(connector_, job(type, config(user, user + "-pw"), {{"sql", "SELECT 1"}}),
                       sink, guard_);
      ASSERT_EQ(code(r), "permission_denied") << user;
      EXPECT_NE(r.error->message.find(privilege), std::string::npos) << r.error->message;
      EXPECT_TRUE(sink.rows.empty());
      EXPECT_TRUE(sink.tables.empty());
    }
  }
  CollectingRows ok;
  ASSERT_TRUE(query("SELECT 1", ok).ok());
}

TEST_F(MysqlSecurityTest, OperatorOrSourcesFileOptInLetsAPrivilegedLoginRun) {
  CollectingRows a;
  auto r = run_with_policy(job(JobType::kQuery, config("filer", "filer-pw"), {{"sql", "SELECT 1"}}),
                           a, allow_privileged());
  ASSERT_TRUE(r.ok()) << r.error->message;
  // A sources-file source (ref set) may opt in alone; an inline one may not.
  auto source = config("filer", "filer-pw");
  source["allow_privileged_login"] = true;
  auto from_file = job(JobType::kQuery, source, {{"sql", "SELECT 1"}});
  from_file.source.ref = "warehouse";
  CollectingRows b;
  r = run_job(connector_, from_file, b, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  auto inline_job = from_file;
  inline_job.source.ref.clear();
  CollectingRows c;
  EXPECT_EQ(code(run_job(connector_, inline_job, c, guard_)), "permission_denied");
}

TEST_F(MysqlSecurityTest, TestConnectionReportsPrivilegesAndRolesPrecisely) {
  CollectingRows sink;
  auto r =
      run_job(connector_, job(JobType::kTestConnection, config("roled", "roled-pw")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result["privileged"], true) << r.result.dump();
  EXPECT_EQ(r.result["role_can_write"], true);
  EXPECT_EQ(r.result["privileges"],
            nlohmann::json::parse(R"j(["INSERT ON `shop`.* (via role `r_write`)"])j"));
  EXPECT_EQ(r.result["roles"], nlohmann::json::parse(R"(["`r_outer`", "`r_write`"])"));
  EXPECT_EQ(r.result["privileged_login_allowed"], false);
  ASSERT_EQ(r.result["warnings"].size(), 1U);

  CollectingRows reader_sink;
  auto plain = run_job(connector_, job(JobType::kTestConnection, config()), reader_sink, guard_);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain.result["privileged"], false);
  EXPECT_EQ(plain.result["privileges"], nlohmann::json::array());
  EXPECT_FALSE(plain.result.contains("warnings"));
}

TEST_F(MysqlSecurityTest, GateRestoresTheRoleItActivated) {
  // With the opt-in the gate does not run; run it via test_connection first,
  // whose session is pooled and then reused by the query.
  CollectingRows first;
  ASSERT_TRUE(run_with_policy(job(JobType::kTestConnection, config("roled", "roled-pw")), first,
                              allow_privileged())
                  .ok());
  CollectingRows sink;
  auto r = run_with_policy(
      job(JobType::kQuery, config("roled", "roled-pw"), {{"sql", "SELECT CURRENT_ROLE()"}}), sink,
      allow_privileged());
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_TRUE(sink.rows.at(0).at(0).is_null()) << sink.rows[0].dump();
}

TEST_F(MysqlSecurityTest, VerdictIsReadOncePerSession) {
  const auto before = std::stoll(server_->scalar(
      "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
      "'COM_SHOW_GRANTS'"));
  MysqlConnector fresh;
  for (int i = 0; i < 3; ++i) {
    CollectingRows sink;
    ASSERT_TRUE(
        run_job(fresh, job(JobType::kQuery, config(), {{"sql", "SELECT 1"}}), sink, guard_).ok());
  }
  const auto after = std::stoll(server_->scalar(
      "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
      "'COM_SHOW_GRANTS'"));
  EXPECT_EQ(after - before, 1);
}

TEST_F(MysqlSecurityTest, GuardRefusesIntoOutfileEvenWithOptInButLiteralsRun) {
  const auto file = server_->dir() / "tmp" / "outfile.txt";
  CollectingRows sink;
  auto r =
      run_with_policy(job(JobType::kQuery, config("filer", "filer-pw"),
                          {{"sql", "SELECT * FROM orders INTO OUTFILE '" + file.string() + "'"}}),
                      sink, allow_privileged());
  EXPECT_EQ(code(r), "read_only_violation") << (r.error ? r.error->message : "");
  EXPECT_FALSE(std::filesystem::exists(file));
  CollectingRows literal;
  ASSERT_TRUE(query("SELECT 'INTO OUTFILE' AS s", literal).ok());
  EXPECT_EQ(literal.rows.at(0).at(0), "INTO OUTFILE");
}

TEST_F(MysqlSecurityTest, IdlePooledSessionHoldsNoUserLock) {
  CollectingRows sink;
  auto r = query("SELECT GET_LOCK('outpost_left_over', 0)", sink);
  ASSERT_TRUE(r.ok()) << r.error->message;
  ASSERT_EQ(sink.rows.at(0).at(0), 1);
  ASSERT_EQ(connector_.idle_sessions(), 1U) << "the session should be idle in the pool";
  EXPECT_EQ(server_->scalar("SELECT IS_FREE_LOCK('outpost_left_over')"), "1");
}

TEST_F(MysqlSecurityTest, LocalInfileFromARealServerIsRefused) {
  CollectingRows sink;
  auto r =
      run_with_policy(job(JobType::kQuery, config("writer", "writer-pw"),
                          {{"sql", "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE orders"}}),
                      sink, allow_privileged());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(server_->scalar("SELECT COUNT(*) FROM shop.orders"), "3");
}

class MysqlRogueServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    secret_path_ = dir_.path() / "agent-token";
    std::ofstream(secret_path_) << kSecret;
  }
  nlohmann::json source(std::uint16_t port) const {
    return {{"host", "127.0.0.1"}, {"port", port},           {"user", "x"},
            {"password", "y"},     {"ssl_mode", "disabled"}, {"connect_timeout", 5}};
  }
  void expect_refused(JobType type, const OperatorPolicy& policy) {
    RogueMysqlServer rogue(secret_path_.string());
    Job j;
    j.id = "job_rogue";
    j.type = type;
    j.timeout = 20s;
    j.source = Source{"src_rogue", "rogue", "mysql", source(rogue.port()), ""};
    outpost::test::set_params(j, nlohmann::json{{"sql", "SELECT 1"}});
    CollectingRows sink;
    CancelToken token;
    TestNetworkGuard guard;
    JobContext ctx{j, sink, token, guard, std::chrono::steady_clock::now() + j.timeout, policy};
    const auto r = connector_.run(ctx);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(to_string(r.error->code), std::string("permission_denied")) << r.error->message;
    EXPECT_EQ(r.error->message.find(kSecret), std::string::npos);
    EXPECT_GE(rogue.requests_sent(), 1);
    ASSERT_TRUE(rogue.wait_for_close(10s)) << "the session talking to a rogue server was pooled";
    const std::string received = rogue.received_after_request();
    EXPECT_EQ(received.find(kSecret), std::string::npos) << "the file's contents were sent";
    EXPECT_EQ(received.find("OUTPOST"), std::string::npos);
    // The refusal is the empty packet (length 0) that ends a LOCAL INFILE exchange.
    EXPECT_EQ(received.substr(0, 3), std::string("\0\0\0", 3));
    EXPECT_EQ(connector_.idle_sessions(), 0U);
  }

  static constexpr const char* kSecret = "OUTPOST-TOKEN-9f27c3e1d8b54a60";
  TempDir dir_;
  std::filesystem::path secret_path_;
  MysqlConnector connector_;
};

TEST_F(MysqlRogueServerTest, QueryJobNeverSendsTheFile) {
  expect_refused(JobType::kQuery, default_operator_policy());
}

TEST_F(MysqlRogueServerTest, QueryJobWithPrivilegedOptInNeverSendsTheFile) {
  OperatorPolicy policy;
  policy.allow_privileged_logins = true;
  expect_refused(JobType::kQuery, policy);
}

TEST_F(MysqlRogueServerTest, TestConnectionNeverSendsTheFile) {
  expect_refused(JobType::kTestConnection, default_operator_policy());
}

TEST_F(MysqlSecurityTest, HugeValueIsRefusedAtTheDriverAndReportedTruncated) {
  // 80 MiB > the 16 MiB row-packet bound: Connector/C refuses the packet
  // before allocating past the bound, and the 1 MiB budget makes it a
  // truncation.
  BudgetRows sink(1 << 20);
  auto j = job(JobType::kQuery, config(), {{"sql", "SELECT REPEAT('x', 80 * 1024 * 1024) AS v"}});
  j.timeout = 60s;
  const auto rss_before = self_peak_rss_kib();
  auto r = run_job(connector_, j, sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result.value("truncated", false), true) << r.result.dump();
  EXPECT_EQ(sink.rows, 0U);
  if (kRssIsMeaningful) {
    EXPECT_LT(self_peak_rss_kib() - rss_before, 24U * 1024U);
  }
  EXPECT_EQ(connector_.idle_sessions(), 0U);

  // Under the bound, the value reaches the client once and is refused by
  // the budget before conversion: truncated by the sink.
  BudgetRows small(1 << 20);
  auto r2 = run_job(
      connector_, job(JobType::kQuery, config(), {{"sql", "SELECT REPEAT('y', 8 * 1024 * 1024)"}}),
      small, guard_);
  ASSERT_TRUE(r2.ok()) << r2.error->message;
  EXPECT_TRUE(small.truncated);
  EXPECT_EQ(small.rows, 0U);
}

}  // namespace
}  // namespace outpost::test
