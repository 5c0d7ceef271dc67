// Issue 14 attacks on the MySQL/MariaDB connector through a real hub and a
// real agent: a rogue MySQL server pulling agent-side files (LOAD DATA
// LOCAL), privileged and least-privilege MariaDB logins trying to write
// files, change the server's configuration, kill connections, shut the
// server down or read its files, escapes from the egress allowlist, a lock
// left on an idle pooled session and a value far past the byte budget. Each
// test asserts the refusal and that nothing changed.

#include <mysql.h>

#include <filesystem>
#include <fstream>

#include "e2e/security_fixture.hpp"
#include "support/mariadb_server.hpp"
#include "support/rogue_mysql_server.hpp"

namespace outpost::test {
namespace {

constexpr const char* kReaderPassword = "my-reader-pw-Qx81Zt";
constexpr const char* kPowerPassword = "my-power-pw-Lm42Vw";
constexpr const char* kFileSecret = "SERVER-SIDE-SECRET-5d1f0c";

/// One MariaDB for the binary: a least-privilege `reader` (SELECT, SHOW VIEW
/// on shop.*) and a privileged `power` (ALL PRIVILEGES ON *.*, as a careless
/// operator would configure). The constructor throws when the server cannot
/// start: no silent skip.
MariaDbServer& db() {
  static MariaDbServer server;
  static const bool ready = [] {
    server.execute(
        std::string("CREATE DATABASE shop; CREATE TABLE shop.items (id INT PRIMARY KEY, name "
                    "VARCHAR(20)); INSERT INTO shop.items VALUES (1,'alpha'),(2,'beta'),(3,"
                    "'gamma'); CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY '") +
        kReaderPassword +
        "'; GRANT SELECT, SHOW VIEW ON shop.* TO 'reader'@'127.0.0.1'; "
        "CREATE USER 'power'@'127.0.0.1' IDENTIFIED BY '" +
        kPowerPassword +
        "'; GRANT ALL PRIVILEGES ON *.* TO 'power'@'127.0.0.1' WITH GRANT OPTION; "
        "CREATE ROLE shop_writer; GRANT INSERT, DELETE ON shop.* TO shop_writer; "
        "CREATE USER 'roled'@'127.0.0.1' IDENTIFIED BY '" +
        kReaderPassword +
        "'; GRANT SELECT, SHOW VIEW ON shop.* TO 'roled'@'127.0.0.1'; "
        "GRANT shop_writer TO 'roled'@'127.0.0.1'; "
        "SET DEFAULT ROLE shop_writer FOR 'roled'@'127.0.0.1'; "
        "SET GLOBAL max_allowed_packet = 268435456;");
    std::ofstream(server.dir() / "server-secret.txt") << kFileSecret;
    return true;
  }();
  (void)ready;
  return server;
}

/// A connection the attacks try to kill, held by the test.
class Victim {
 public:
  Victim() {
    handle_ = mysql_init(nullptr);
    if (mysql_real_connect(handle_, "localhost", "root", nullptr, nullptr, 0,
                           db().socket_path().c_str(), 0) == nullptr) {
      throw std::runtime_error(std::string("victim login failed: ") + mysql_error(handle_));
    }
  }
  ~Victim() { mysql_close(handle_); }
  Victim(const Victim&) = delete;
  Victim& operator=(const Victim&) = delete;
  [[nodiscard]] unsigned long id() const { return mysql_thread_id(handle_); }
  [[nodiscard]] bool alive() const { return mysql_query(handle_, "SELECT 1") == 0 && drain(); }

 private:
  bool drain() const {
    if (MYSQL_RES* r = mysql_store_result(handle_)) mysql_free_result(r);
    return true;
  }
  MYSQL* handle_ = nullptr;
};

class AttackMysqlE2E : public SecurityE2E {
 protected:
  void SetUp() override {
    secret(kReaderPassword);
    secret(kPowerPassword);
    ASSERT_NO_THROW(db());
  }

  Json mysql_config(const std::string& user, const std::string& password) {
    return {{"host", db().host()},  {"port", db().port()},    {"database", "shop"},  {"user", user},
            {"password", password}, {"ssl_mode", "disabled"}, {"connect_timeout", 5}};
  }
  std::string source(const Json& config, const std::string& name) {
    return admin_json("POST", "/sources", {{"name", name}, {"type", "mysql"}, {"config", config}},
                      201)
        .value("id", "");
  }
  std::string reader() { return source(mysql_config("reader", kReaderPassword), "reader"); }
  std::string power() { return source(mysql_config("power", kPowerPassword), "power"); }

  /// Starts the hub and one agent (extra flags appended).
  Agent up(std::vector<std::string> extra = {},
           std::vector<std::pair<std::string, std::string>> env = {}) {
    start_hub();
    token_ = secret(create_token());
    Agent a = agent(token_, std::move(extra), std::move(env));
    EXPECT_TRUE(a.wait_for_msg("agent started", 20s));
    return a;
  }

  Json run(const std::string& source_id, const std::string& sql, int timeout_ms = 20000) {
    return wait_finished(create_job(source_id, sql, timeout_ms), 60s);
  }

  static void expect_failed(const Json& done, const std::string& code,
                            const std::string& message_part = {}) {
    EXPECT_EQ(done.value("status", ""), "failed") << done.dump();
    EXPECT_EQ(done["error"].value("code", ""), code) << done.dump();
    if (!message_part.empty()) {
      EXPECT_NE(done["error"].value("message", "").find(message_part), std::string::npos)
          << done.dump();
    }
  }

  std::string token_;
};

// ---- class 1: a rogue server asking for agent-side files -------------------

TEST_F(AttackMysqlE2E, RogueServerCannotPullTheAgentTokenFile) {
  start_hub();
  const std::string token = secret(create_token());
  const auto token_file = dir_.path() / "agent.token";
  std::ofstream(token_file) << token;
  std::filesystem::permissions(
      token_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  RogueMysqlServer rogue(token_file.string());
  Agent a = agent("", {"--token-file", token_file.string()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  Json config = mysql_config("x", "y");
  config["port"] = rogue.port();
  const Json done = run(source(config, "rogue"), "SELECT 1");
  expect_failed(done, "permission_denied", "LOAD DATA LOCAL");
  EXPECT_GE(rogue.requests_sent(), 1);
  ASSERT_TRUE(rogue.wait_for_close(10s));
  EXPECT_EQ(rogue.received_after_request().find(token), std::string::npos);
  EXPECT_EQ(done.dump().find(token), std::string::npos);
}

TEST_F(AttackMysqlE2E, RogueServerCannotPullProcSelfEnviron) {
  const std::string canary = secret("ENV-CANARY-b71e0f99d2");
  RogueMysqlServer rogue("/proc/self/environ");
  Agent a = up({}, {{"OUTPOST_E2E_CANARY", canary}});
  Json config = mysql_config("x", "y");
  config["port"] = rogue.port();
  const Json done = run(source(config, "rogue"), "SELECT 1");
  expect_failed(done, "permission_denied", "LOAD DATA LOCAL");
  ASSERT_TRUE(rogue.wait_for_close(10s));
  const std::string received = rogue.received_after_request();
  EXPECT_EQ(received.find(canary), std::string::npos);
  EXPECT_EQ(received.find("AGENT_TOKEN"), std::string::npos);
  EXPECT_EQ(received.find(token_), std::string::npos);
}

// ---- class 2: privileged logins refused by the gate; least privilege refused
// ---- by the guard or the server; nothing changes ----------------------------

TEST_F(AttackMysqlE2E, IntoOutfileOnAPrivilegedLoginIsRefusedByTheGate) {
  Agent a = up();
  const auto file = db().dir() / "tmp" / "outfile-power.txt";
  const Json done = run(power(), "SELECT name FROM items INTO OUTFILE '" + file.string() + "'");
  expect_failed(done, "permission_denied", "ALL PRIVILEGES ON *.*");
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(AttackMysqlE2E, WritePrivilegeThroughADefaultRoleIsRefusedByTheGate) {
  // The login itself holds only SELECT, SHOW VIEW; its default role can write.
  Agent a = up();
  const Json done = run(source(mysql_config("roled", kReaderPassword), "roled"),
                        "INSERT INTO items VALUES (9, 'planted')");
  expect_failed(done, "permission_denied", "INSERT ON `shop`.* (via role `shop_writer`)");
  EXPECT_EQ(db().scalar("SELECT COUNT(*) FROM shop.items"), "3");
}

TEST_F(AttackMysqlE2E, IntoDumpfileOnALeastPrivilegeLoginIsRefusedAndNoFileAppears) {
  Agent a = up();
  const auto file = db().dir() / "tmp" / "dumpfile-reader.txt";
  const Json done =
      run(reader(), "SELECT name FROM items LIMIT 1 /*! INTO DUMPFILE '" + file.string() + "' */");
  expect_failed(done, "read_only_violation", "INTO DUMPFILE");
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST_F(AttackMysqlE2E, SetGlobalGeneralLogFileOnAPrivilegedLoginIsRefused) {
  Agent a = up();
  const std::string before = db().scalar("SELECT @@global.general_log_file");
  const Json done = run(power(), "SET GLOBAL general_log_file = '/tmp/outpost-pwned.log'");
  expect_failed(done, "permission_denied", "ALL PRIVILEGES ON *.*");
  EXPECT_EQ(db().scalar("SELECT @@global.general_log_file"), before);
}

TEST_F(AttackMysqlE2E, SetGlobalInitConnectOnALeastPrivilegeLoginIsRefused) {
  Agent a = up();
  const std::string before = db().scalar("SELECT @@global.init_connect");
  const Json done = run(reader(), "SET @@global.init_connect = 'DROP DATABASE shop'");
  expect_failed(done, "read_only_violation", "SET GLOBAL");
  EXPECT_EQ(db().scalar("SELECT @@global.init_connect"), before);
}

TEST_F(AttackMysqlE2E, SetGlobalHiddenInAnExecutableCommentIsRefused) {
  Agent a = up();
  const std::string before = db().scalar("SELECT @@global.max_connections");
  const Json done = run(reader(), "/*!SET GLOBAL max_connections = 1 */");
  expect_failed(done, "read_only_violation", "SET GLOBAL");
  EXPECT_EQ(db().scalar("SELECT @@global.max_connections"), before);
}

TEST_F(AttackMysqlE2E, KillAnotherConnectionOnAPrivilegedLoginIsRefused) {
  Agent a = up();
  Victim victim;
  const Json done = run(power(), "KILL " + std::to_string(victim.id()));
  expect_failed(done, "permission_denied", "GRANT OPTION ON *.*");
  EXPECT_TRUE(victim.alive());
}

TEST_F(AttackMysqlE2E, KillAnotherConnectionOnALeastPrivilegeLoginIsRefusedByTheServer) {
  Agent a = up();
  Victim victim;
  const Json done = run(reader(), "KILL " + std::to_string(victim.id()));
  expect_failed(done, "permission_denied", "1095");
  EXPECT_TRUE(victim.alive());
}

TEST_F(AttackMysqlE2E, ShutdownOnAPrivilegedLoginIsRefused) {
  Agent a = up();
  const Json done = run(power(), "SHUTDOWN");
  expect_failed(done, "permission_denied", "GRANT OPTION ON *.*");
  EXPECT_EQ(db().scalar("SELECT 1"), "1");
}

TEST_F(AttackMysqlE2E, ShutdownOnALeastPrivilegeLoginIsRefusedByTheServer) {
  Agent a = up();
  const Json done = run(reader(), "SHUTDOWN");
  expect_failed(done, "permission_denied", "1227");
  EXPECT_EQ(db().scalar("SELECT 1"), "1");
}

TEST_F(AttackMysqlE2E, LoadFileOnAPrivilegedLoginIsRefused) {
  Agent a = up();
  const auto file = db().dir() / "server-secret.txt";
  const Json done = run(power(), "SELECT LOAD_FILE('" + file.string() + "') AS f");
  expect_failed(done, "permission_denied", "ALL PRIVILEGES ON *.*");
  EXPECT_EQ(done.dump().find(kFileSecret), std::string::npos);
}

TEST_F(AttackMysqlE2E, LoadFileOnALeastPrivilegeLoginReadsNothing) {
  Agent a = up();
  const auto file = db().dir() / "server-secret.txt";
  const Json done = run(reader(), "SELECT LOAD_FILE('" + file.string() + "') AS f");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_EQ(done.value("rows", Json()), Json::parse("[[null]]")) << done.dump();
  EXPECT_EQ(done.dump().find(kFileSecret), std::string::npos);
}

TEST_F(AttackMysqlE2E, IntoOutfileInsideALiteralStillRuns) {
  Agent a = up();
  const Json done = run(reader(),
                        "SELECT 'x INTO OUTFILE ''/tmp/y''' AS s, `name` FROM items "
                        "WHERE id = 1 -- INTO OUTFILE '/tmp/z'\n");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_EQ(done.value("rows", Json()), Json::parse(R"([["x INTO OUTFILE '/tmp/y'", "alpha"]])"))
      << done.dump();
}

// ---- class 4: allowlist ------------------------------------------------------

TEST_F(AttackMysqlE2E, VerifyCaToAForbiddenAddressMakesNoConnection) {
  Agent a = up({"--allow-hosts", "10.0.0.0/8"});
  CountingListener listener;
  for (const auto& [host, mode] : {std::pair<std::string, std::string>{"127.0.0.1", "verify_ca"},
                                   {"localhost", "verify_identity"}}) {
    Json config = mysql_config("reader", kReaderPassword);
    config["host"] = host;
    config["port"] = listener.port();
    config["ssl_mode"] = mode;
    config["ssl_ca"] = "/etc/ssl/certs/ca-certificates.crt";
    const Json done = run(source(config, "tls-" + mode), "SELECT 1");
    expect_failed(done, "egress_denied");
  }
  EXPECT_EQ(listener.accepts(), 0);
}

TEST_F(AttackMysqlE2E, UnixSocketUnderAnAllowlistIsRefused) {
  Agent a = up({"--allow-hosts", "10.0.0.0/8"});
  const auto before =
      std::stoll(db().scalar("SELECT VARIABLE_VALUE FROM "
                             "information_schema.GLOBAL_STATUS WHERE "
                             "VARIABLE_NAME = 'CONNECTIONS'"));
  Json config = mysql_config("reader", kReaderPassword);
  config["host"] = db().socket_path().string();
  const Json done = run(source(config, "socket"), "SELECT 1");
  expect_failed(done, "invalid_job");
  const auto after =
      std::stoll(db().scalar("SELECT VARIABLE_VALUE FROM "
                             "information_schema.GLOBAL_STATUS WHERE "
                             "VARIABLE_NAME = 'CONNECTIONS'"));
  EXPECT_EQ(after - before, 1) << "only the test's own re-read connected";
}

// ---- pooled sessions and memory ----------------------------------------------

TEST_F(AttackMysqlE2E, LockTakenByAJobIsFreeOnceTheJobEnds) {
  Agent a = up();
  const Json done = run(reader(), "SELECT GET_LOCK('outpost_attack_lock', 0) AS got");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_EQ(done.value("rows", Json()), Json::parse("[[1]]")) << done.dump();
  EXPECT_EQ(db().scalar("SELECT IS_FREE_LOCK('outpost_attack_lock')"), "1");
}

TEST_F(AttackMysqlE2E, HugeValueUnderASmallByteBudgetIsTruncatedInBoundedMemory) {
  Agent a = up({"--max-result-bytes", "1MiB"});
  const Json small = run(reader(), "SELECT 1 AS warm_up");
  EXPECT_EQ(small.value("status", ""), "succeeded") << small.dump();
  [[maybe_unused]] const auto baseline_kib = a.process->peak_rss_kib();
  const Json done = run(reader(), "SELECT REPEAT('x', 200 * 1024 * 1024) AS v", 60000);
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump().substr(0, 2000);
  EXPECT_EQ(done["result"].value("truncated", false), true) << done.dump().substr(0, 2000);
  EXPECT_EQ(done["result"].value("row_count", -1), 0) << done.dump().substr(0, 2000);
  const auto peak_kib = a.process->peak_rss_kib();
  // The 200 MiB value is never held (before issue 14: about four copies,
  // 780 MiB): the driver refuses its packet past 16 MiB. (Sanitizer builds
  // keep freed memory resident: the bound says nothing there.)
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(peak_kib - baseline_kib, 24U * 1024U)
      << "agent peak RSS " << peak_kib << " KiB, " << baseline_kib << " KiB before";
  EXPECT_LT(peak_kib, 96U * 1024U) << "agent peak RSS " << peak_kib << " KiB";
#endif
  EXPECT_GT(peak_kib, 0U);
}

}  // namespace
}  // namespace outpost::test
