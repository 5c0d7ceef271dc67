// Issue 14, classes 3, 4 and 8 through ODBC: a compromised control plane
// attacks a real outpost-agent through a real hub, against a real PostgreSQL
// through psqlODBC and a real SQLite file through sqliteodbc. Every test
// asserts the refusal AND that nothing changed (rows re-read with the
// superuser, files on disk, connections counted, secrets in no output).

#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "e2e/security_fixture.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

namespace fs = std::filesystem;

constexpr const char* kReaderPassword = "odbc-reader-pw-Qz81Lk";
constexpr const char* kAppPassword = "odbc-app-pw-Vb27Xe";

/// One PostgreSQL for the binary: `reader` is the least-privilege login
/// (pg_read_all_data); `app` could write `public.accounts` (it owns it), to
/// show that the session, not the grants, stops the writes.
PostgresServer& pg() {
  static PostgresServer server;
  static const bool ready = [] {
    server.exec(std::string("CREATE ROLE reader LOGIN PASSWORD '") + kReaderPassword +
                "'; GRANT pg_read_all_data TO reader;" + "CREATE ROLE app LOGIN PASSWORD '" +
                kAppPassword +
                "';"
                "CREATE TABLE public.accounts (id int PRIMARY KEY, owner text);"
                "INSERT INTO public.accounts VALUES (1, 'ada'), (2, 'bob'), (3, 'cy');"
                "ALTER TABLE public.accounts OWNER TO app;");
    return true;
  }();
  (void)ready;
  return server;
}

std::string accounts() {
  return pg().query_column("SELECT count(*) FROM public.accounts")[0];
}

/// The regular files directly in `dir`.
std::set<std::string> files_in(const fs::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec)) out.insert(e.path().string());
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class OdbcAttackE2E : public SecurityE2E {
 protected:
  void SetUp() override {
    secret(kReaderPassword);
    secret(kAppPassword);
    sqlite_dir_ = fs::canonical(sqlite_tmp_.path()).string();
    db_ = sqlite_dir_ + "/shop.db";
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db,
                                "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT);"
                                "INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c');",
                                nullptr, nullptr, &error);
    const std::string message = error != nullptr ? error : "";
    sqlite3_free(error);
    sqlite3_close(db);
    ASSERT_EQ(rc, SQLITE_OK) << message;
    tmp_before_ = files_in("/tmp");
    start_hub();
    token_ = secret(create_token());
  }

  /// An agent with --sqlite-dirs (and `extra`), its working directory an
  /// empty directory checked for stray files by the tests.
  Agent odbc_agent(std::vector<std::string> extra = {},
                   std::vector<std::pair<std::string, std::string>> env = {}) {
    Agent a;
    a.health_port = free_port();
    std::vector<std::string> args{agent_binary(),
                                  "-u",
                                  hub_url(),
                                  "--health-addr",
                                  "127.0.0.1:" + std::to_string(a.health_port),
                                  "--backoff-strategy",
                                  "fallback",
                                  "--max-concurrency",
                                  "1",
                                  "--sqlite-dirs",
                                  sqlite_dir_};
    args.insert(args.end(), extra.begin(), extra.end());
    env.emplace_back("AGENT_TOKEN", token_);
    a.process = std::make_shared<Process>(Process::Options{args, env, std::nullopt, cwd_.path()});
    agents_.push_back(a.process);
    keep_logs(a);
    EXPECT_TRUE(a.wait_for_msg("agent started", 20s)) << a.process->stderr_text();
    return a;
  }

  std::string source(const std::string& name, const std::string& connection_string) {
    return admin_json(
               "POST", "/sources",
               {{"name", name},
                {"type", "odbc"},
                {"config", {{"connection_string", connection_string}, {"connect_timeout", 5}}}},
               201)
        .value("id", "");
  }

  static std::string pg_string(const std::string& user = "reader",
                               const std::string& password = kReaderPassword,
                               std::uint16_t port = 0) {
    return "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" +
           std::to_string(port != 0 ? port : pg().port()) + ";Database=postgres;Uid=" + user +
           ";Pwd={" + password + "};";
  }
  std::string sqlite_string(const std::string& path = {}) const {
    return "Driver=SQLite3;Database=" + (path.empty() ? db_ : path) + ";";
  }

  Json run(const std::string& source_id, const std::string& sql) {
    return wait_finished(create_job(source_id, sql, 20000), 40s);
  }
  Json test_connection(const std::string& source_id) {
    return wait_finished(create_job(source_id, "", 20000, "test_connection"), 40s);
  }

  /// The job failed with `code`, and no secret is in what came back.
  static void expect_refused(const Json& done, const std::string& code) {
    EXPECT_EQ(done.value("status", ""), "failed") << done.dump();
    ASSERT_TRUE(done.contains("error")) << done.dump();
    EXPECT_EQ(done["error"].value("code", ""), code) << done.dump();
    EXPECT_EQ(done.dump().find(kReaderPassword), std::string::npos);
    EXPECT_EQ(done.dump().find(kAppPassword), std::string::npos);
  }

  int sqlite_items() const {
    sqlite3* db = nullptr;
    sqlite3_open_v2(db_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    sqlite3_stmt* stmt = nullptr;
    int n = -1;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM items", -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  /// Nothing beside the database appeared in the SQLite directory, nothing in
  /// the agent's working directory, and no new /tmp file holds a password.
  void expect_no_stray_files() {
    EXPECT_EQ(files_in(sqlite_dir_), std::set<std::string>{db_});
    EXPECT_TRUE(files_in(cwd_.path()).empty());
    for (const auto& f : files_in("/tmp")) {
      if (tmp_before_.count(f) != 0) continue;
      const auto text = read_file(f);
      EXPECT_EQ(text.find(kReaderPassword), std::string::npos) << f;
      EXPECT_EQ(text.find(kAppPassword), std::string::npos) << f;
      EXPECT_EQ(f.find("psqlodbc"), std::string::npos) << f;
      EXPECT_EQ(f.find("mylog_"), std::string::npos) << f;
    }
  }

  TempDir sqlite_tmp_;
  TempDir cwd_;
  std::string sqlite_dir_;
  std::string db_;
  std::string token_;
  std::set<std::string> tmp_before_;
};

// --- positive controls ------------------------------------------------------

TEST_F(OdbcAttackE2E, ControlCleanQueriesWorkThroughBothDrivers) {
  odbc_agent();
  const Json pg_done = run(source("pg", pg_string()), "SELECT count(*) AS n FROM public.accounts");
  EXPECT_EQ(pg_done.value("status", ""), "succeeded") << pg_done.dump();
  EXPECT_EQ(pg_done.value("rows", Json()), Json::parse("[[3]]")) << pg_done.dump();
  const Json lite = run(source("lite", sqlite_string()), "SELECT count(*) AS n FROM items;");
  EXPECT_EQ(lite.value("status", ""), "succeeded") << lite.dump();
  EXPECT_EQ(lite.value("rows", Json()), Json::parse("[[3]]")) << lite.dump();
  expect_no_stray_files();
}

// --- class 3: statements ----------------------------------------------------

TEST_F(OdbcAttackE2E, CommitSetTransactionReadWriteInsertIsRefusedAndSessionStaysReadOnly) {
  odbc_agent();
  const auto before = accounts();
  const auto src = source("pg-app", pg_string("app", kAppPassword));
  expect_refused(run(src,
                     "COMMIT; SET TRANSACTION READ WRITE; INSERT INTO public.accounts VALUES (9, "
                     "'mallory')"),
                 "invalid_job");
  EXPECT_EQ(accounts(), before);
  // The next job (on the pooled connection) is still read-only.
  const Json mode = run(src, "SELECT current_setting('transaction_read_only')");
  EXPECT_EQ(mode.value("rows", Json()), Json::parse(R"([["on"]])")) << mode.dump();
  expect_refused(run(src, "INSERT INTO public.accounts VALUES (10, 'eve')"), "read_only_violation");
  EXPECT_EQ(accounts(), before);
}

TEST_F(OdbcAttackE2E, SessionCharacteristicsAndPragmaAreRefused) {
  odbc_agent();
  const auto src = source("pg-app", pg_string("app", kAppPassword));
  for (const char* sql :
       {"SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
        "set default_transaction_read_only = off", "RESET ALL", "START TRANSACTION READ WRITE",
        "/* c */ SAVEPOINT s", "PREPARE TRANSACTION 'x'"}) {
    expect_refused(run(src, sql), "invalid_job");
  }
  const Json mode = run(src, "SELECT current_setting('default_transaction_read_only')");
  EXPECT_EQ(mode.value("rows", Json()), Json::parse(R"([["on"]])")) << mode.dump();
  const auto lite = source("lite", sqlite_string());
  expect_refused(run(lite, "PRAGMA query_only = 0"), "invalid_job");
  expect_refused(run(lite, "DELETE FROM items"), "read_only_violation");
  EXPECT_EQ(sqlite_items(), 3);
}

TEST_F(OdbcAttackE2E, SuperuserLoginThroughOdbcIsGated) {
  secret(pg().superuser_password());
  odbc_agent();
  const auto src =
      source("pg-su", pg_string(PostgresServer::superuser(), pg().superuser_password()));
  const Json read = run(src, "SELECT pg_read_file('postgresql.conf')");
  expect_refused(read, "permission_denied");
  EXPECT_NE(read["error"].value("message", "").find("superuser"), std::string::npos);
  EXPECT_FALSE(read.contains("rows") && !read["rows"].empty()) << read.dump().substr(0, 300);
  const auto marker = (cwd_.path() / "ran").string();
  // The gate comes first (the lexer refuses COPY for every login too).
  expect_refused(run(src, "COPY (SELECT 1) TO PROGRAM 'touch " + marker + "'"),
                 "permission_denied");
  EXPECT_FALSE(fs::exists(marker));
}

// --- class 3: connection-string attributes (psqlODBC) ------------------------

TEST_F(OdbcAttackE2E, ConnSettingsRunsNoSql) {
  odbc_agent();
  const auto before = accounts();
  expect_refused(
      test_connection(source("pg-cs", pg_string("app", kAppPassword) +
                                          "ConnSettings={INSERT INTO public.accounts VALUES "
                                          "(20, 'cs')};")),
      "invalid_job");
  EXPECT_EQ(accounts(), before);
}

TEST_F(OdbcAttackE2E, A6AbbreviationRunsNoSql) {
  odbc_agent();
  const auto before = accounts();
  const Json done =
      test_connection(source("pg-a6", pg_string("app", kAppPassword) +
                                          "A6={INSERT INTO public.accounts VALUES (21, 'a6')};"));
  expect_refused(done, "invalid_job");
  EXPECT_NE(done["error"].value("message", "").find("A6"), std::string::npos) << done.dump();
  EXPECT_EQ(accounts(), before);
}

TEST_F(OdbcAttackE2E, DebugAndCommLogWriteNoLogFile) {
  odbc_agent();
  for (const char* extra : {"Debug=1;", "CommLog=1;", "B2=1;B3=1;", "CX=1c00;"}) {
    expect_refused(test_connection(source("pg-log", pg_string() + extra)), "invalid_job");
  }
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, DriverGivenAsALibraryPathIsNotLoaded) {
  CountingListener listener;
  odbc_agent();
  const Json done = test_connection(
      source("pg-lib", "Driver=/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so;Server=127.0.0.1;Port=" +
                           std::to_string(listener.port()) + ";Uid=reader;Pwd=" + kReaderPassword));
  expect_refused(done, "invalid_job");
  EXPECT_NE(done["error"].value("message", "").find("odbcinst.ini"), std::string::npos);
  EXPECT_EQ(listener.accepts(), 0);
}

// --- class 3: sqliteodbc ----------------------------------------------------

TEST_F(OdbcAttackE2E, SqliteLoadExtAttributeLoadsNothing) {
  Agent a = odbc_agent();
  expect_refused(test_connection(source("lite-ext", sqlite_string() + "LoadExt=/tmp/evil.so;")),
                 "invalid_job");
  EXPECT_EQ(a.health("/healthz").status, 200) << "the agent is still up";
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, SqliteLoadExtensionInSqlIsRefused) {
  Agent a = odbc_agent();
  const auto src = source("lite", sqlite_string());
  for (const char* sql : {"SELECT load_extension('/lib/x86_64-linux-gnu/libc.so.6')",
                          "SELECT \"load_extension\"('/tmp/evil.so', 'init')",
                          "SELECT [load_extension]/**/('/tmp/evil.so')"}) {
    expect_refused(run(src, sql), "invalid_job");
  }
  EXPECT_EQ(a.health("/healthz").status, 200);
  const Json control = run(src, "SELECT 'load_extension(x)' AS text");
  EXPECT_EQ(control.value("status", ""), "succeeded") << control.dump();
}

TEST_F(OdbcAttackE2E, SqliteBlobFunctionsReadAndWriteNoAgentFile) {
  odbc_agent();
  const auto src = source("lite", sqlite_string());
  const auto target = (cwd_.path() / "exfil.bin").string();
  expect_refused(run(src, "SELECT blob_export(x'4142', '" + target + "')"), "invalid_job");
  expect_refused(run(src, "SELECT blob_import('/proc/self/environ')"), "invalid_job");
  EXPECT_FALSE(fs::exists(target));
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, SqliteViewCallingFileFunctionsIsRefusedByTheAuthorizer) {
  // The job's SQL is clean; the code is in a view of the file (the lexer
  // cannot see it): the authorizer on sqliteodbc's handle refuses it.
  const auto target = (cwd_.path() / "from-view.bin").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(db_.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "CREATE VIEW v_export AS SELECT blob_export(x'41', '" + target +
        "') AS x; CREATE VIEW v_ext AS SELECT load_extension('/tmp/evil.so') AS x;";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  Agent a = odbc_agent();
  const auto src = source("lite", sqlite_string());
  expect_refused(run(src, "SELECT * FROM v_export"), "permission_denied");
  expect_refused(run(src, "SELECT * FROM v_ext"), "permission_denied");
  EXPECT_FALSE(fs::exists(target));
  EXPECT_EQ(a.health("/healthz").status, 200);
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, SetConfigInASelectDoesNotOutliveTheJob) {
  odbc_agent();
  const auto before = accounts();
  const auto src = source("pg-app", pg_string("app", kAppPassword));
  const Json flip = run(src, "SELECT set_config('default_transaction_read_only', 'off', false)");
  EXPECT_EQ(flip.value("status", ""), "succeeded") << flip.dump();
  expect_refused(run(src, "INSERT INTO public.accounts VALUES (30, 'trudy')"),
                 "read_only_violation");
  const Json mode = run(src, "SELECT current_setting('default_transaction_read_only')");
  EXPECT_EQ(mode.value("rows", Json()), Json::parse(R"([["on"]])")) << mode.dump();
  EXPECT_EQ(accounts(), before);
}

TEST_F(OdbcAttackE2E, SqliteNoTxnIsRefused) {
  odbc_agent();
  expect_refused(test_connection(source("lite-notxn", sqlite_string() + "NoTXN=1;")),
                 "invalid_job");
  EXPECT_EQ(sqlite_items(), 3);
}

TEST_F(OdbcAttackE2E, SqliteTracefileWritesNothing) {
  odbc_agent();
  const auto trace = sqlite_dir_ + "/trace.log";
  expect_refused(test_connection(source("lite-trace", sqlite_string() + "Tracefile=" + trace)),
                 "invalid_job");
  EXPECT_FALSE(fs::exists(trace));
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, SqliteJournalModeWalCreatesNoWalFile) {
  odbc_agent();
  expect_refused(test_connection(source("lite-wal", sqlite_string() + "JournalMode=WAL;")),
                 "invalid_job");
  const Json done = run(source("lite", sqlite_string()), "SELECT count(*) FROM items");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_FALSE(fs::exists(db_ + "-wal"));
  expect_no_stray_files();
}

TEST_F(OdbcAttackE2E, SqliteDatabaseOutsideSqliteDirsIsRefusedAlike) {
  odbc_agent();
  TempDir elsewhere;
  const auto existing = (elsewhere.path() / "secret.db").string();
  { std::ofstream(existing) << "SQLite format 3"; }
  const auto missing = (elsewhere.path() / "missing.db").string();
  const Json a = test_connection(source("lite-out1", sqlite_string(existing)));
  const Json b = test_connection(source("lite-out2", sqlite_string(missing)));
  const Json c = test_connection(source("lite-out3", sqlite_string(sqlite_dir_ + "/../x.db")));
  expect_refused(a, "invalid_job");
  expect_refused(b, "invalid_job");
  expect_refused(c, "invalid_job");
  EXPECT_EQ(a["error"].value("message", ""), b["error"].value("message", ""))
      << "the error does not tell whether a file outside --sqlite-dirs exists";
  EXPECT_FALSE(fs::exists(missing));
  EXPECT_EQ(read_file(existing), "SQLite format 3");
}

// --- class 4: where the driver would dial -----------------------------------

TEST_F(OdbcAttackE2E, PqoptHostDialsNothing) {
  CountingListener listener;
  odbc_agent();
  const Json done = test_connection(source("pg-pqopt", pg_string() + "pqopt={host=127.0.0.1 port=" +
                                                           std::to_string(listener.port()) + "};"));
  expect_refused(done, "invalid_job");
  EXPECT_EQ(listener.accepts(), 0);
}

TEST_F(OdbcAttackE2E, NoServerUnderAnAllowlistDialsNoSocket) {
  odbc_agent({"--allow-hosts", "10.0.0.0/8"});
  expect_refused(test_connection(source("pg-noserver",
                                        "Driver={PostgreSQL Unicode};Database=postgres;Uid="
                                        "reader;Pwd=" +
                                            std::string(kReaderPassword))),
                 "egress_denied");
  expect_refused(test_connection(source("pg-socket", "Driver={PostgreSQL Unicode};Server=" +
                                                         pg().socket_dir().string() +
                                                         ";Uid=reader;Pwd=" + kReaderPassword)),
                 "egress_denied");
}

TEST_F(OdbcAttackE2E, DsnUnderAnAllowlistDialsNothing) {
  CountingListener listener;
  const auto ini =
      cwd_.path().parent_path() / ("odbc-attack-" + std::to_string(::getpid()) + ".ini");
  {
    std::ofstream out(ini);
    out << "[attack_dsn]\nDriver=PostgreSQL Unicode\nServername=127.0.0.1\nPort=" << listener.port()
        << "\nDatabase=postgres\n";
  }
  odbc_agent({"--allow-hosts", "10.0.0.0/8"}, {{"ODBCINI", ini.string()}});
  const auto src = admin_json("POST", "/sources",
                              {{"name", "pg-dsn"},
                               {"type", "odbc"},
                               {"config",
                                {{"dsn", "attack_dsn"},
                                 {"user", "reader"},
                                 {"password", kReaderPassword},
                                 {"connect_timeout", 5}}}},
                              201)
                       .value("id", "");
  expect_refused(test_connection(src), "egress_denied");
  EXPECT_EQ(listener.accepts(), 0);
  fs::remove(ini);
}

TEST_F(OdbcAttackE2E, CheckedHostIsDialledByItsAddress) {
  // Control for the class-4 tests: allowed, the job reaches the server
  // through the address the policy checked.
  odbc_agent({"--allow-hosts", "127.0.0.1"});
  const Json done = run(source("pg", pg_string()), "SELECT inet_server_addr()::text");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_EQ(done.value("rows", Json()), Json::parse(R"([["127.0.0.1/32"]])")) << done.dump();
}

// --- class 8: one huge value --------------------------------------------------

TEST_F(OdbcAttackE2E, HugeValueIsNotCopiedPastTheResultBudget) {
  odbc_agent({"--max-result-bytes", "1MiB"});
  const Json done = run(source("pg", pg_string()), "SELECT repeat('x', 50000000) AS big");
  // The row cannot fit: the result comes back without it, truncated or
  // refused as too large, and the agent survives.
  const auto status = done.value("status", "");
  if (status == "succeeded") {
    EXPECT_EQ(done.value("rows", Json::array()).size(), 0U) << done.dump().substr(0, 500);
  } else {
    EXPECT_EQ(done["error"].value("code", ""), "result_too_large") << done.dump().substr(0, 500);
  }
  const Json after = run(source("pg2", pg_string()), "SELECT 1");
  EXPECT_EQ(after.value("status", ""), "succeeded") << after.dump();
}

}  // namespace
}  // namespace outpost::test
