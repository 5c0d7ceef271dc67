// Issue 14 attack suite, PostgreSQL: a compromised control plane (jobs and
// source configs through the real hub's admin API) against a real agent and
// a real PostgreSQL. Each attempt asserts the refusal AND that nothing
// changed, re-read with the superuser from the test itself: files on disk,
// rows, large objects, other backends, checkpoints, locks, connections.

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fstream>

#include "e2e/security_fixture.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

constexpr const char* kRolesSql = R"SQL(
CREATE ROLE reader LOGIN PASSWORD 'reader-pw-Qd81';
GRANT pg_read_all_data TO reader;
CREATE ROLE writer LOGIN PASSWORD 'writer-pw-Ze42';
CREATE ROLE progrunner LOGIN NOINHERIT PASSWORD 'progrunner-pw-Lx07';
GRANT pg_execute_server_program TO progrunner;
CREATE ROLE filewriter LOGIN PASSWORD 'filewriter-pw-Ba55';
GRANT pg_write_server_files TO filewriter;
CREATE ROLE filereader LOGIN PASSWORD 'filereader-pw-Jc93';
GRANT pg_read_server_files TO filereader;
CREATE ROLE signaller LOGIN PASSWORD 'signaller-pw-Wu26';
GRANT pg_signal_backend TO signaller;
CREATE ROLE checkpointer LOGIN PASSWORD 'checkpointer-pw-Hn64';
GRANT pg_checkpoint TO checkpointer;
CREATE ROLE lister LOGIN PASSWORD 'lister-pw-Rv18';
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text) TO lister;
CREATE TABLE public.ledger (id int PRIMARY KEY, note text);
INSERT INTO public.ledger VALUES (1, 'a'), (2, 'b'), (3, 'c');
GRANT INSERT, UPDATE, DELETE ON public.ledger TO writer;
GRANT SELECT ON public.ledger TO writer;
)SQL";

/// One cluster for the whole binary (initdb is slow); the constructor throws
/// (failing the test) when it cannot start.
PostgresServer& pg() {
  static PostgresServer server;
  static const bool ready = [] {
    server.exec(kRolesSql);
    return true;
  }();
  (void)ready;
  return server;
}

std::string password_of(const std::string& role) {
  if (role == "postgres") return pg().superuser_password();
  static const std::map<std::string, std::string> kPasswords = {
      {"reader", "reader-pw-Qd81"},
      {"writer", "writer-pw-Ze42"},
      {"progrunner", "progrunner-pw-Lx07"},
      {"filewriter", "filewriter-pw-Ba55"},
      {"filereader", "filereader-pw-Jc93"},
      {"signaller", "signaller-pw-Wu26"},
      {"checkpointer", "checkpointer-pw-Hn64"},
      {"lister", "lister-pw-Rv18"}};
  return kPasswords.at(role);
}

std::string scalar(const std::string& sql) {
  return pg().query_column(sql)[0];
}

/// A path in /tmp (where the postgres OS user could write, so a file there
/// would really appear if the attack worked); removed on destruction.
class Marker {
 public:
  explicit Marker(const std::string& name)
      : path_("/tmp/outpost-attack-" + name + "-" + std::to_string(::getpid())) {
    std::filesystem::remove(path_);
  }
  ~Marker() { std::filesystem::remove(path_); }
  Marker(const Marker&) = delete;
  Marker& operator=(const Marker&) = delete;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }
  [[nodiscard]] bool exists() const { return std::filesystem::exists(path_); }

 private:
  std::string path_;
};

/// Counts connections accepted on an address of the loopback range other
/// than 127.0.0.1, or on a unix socket path: proof that nothing dialled it.
class Listener {
 public:
  static std::unique_ptr<Listener> tcp(const char* address) {
    auto l = std::unique_ptr<Listener>(new Listener());
    l->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    ::inet_pton(AF_INET, address, &addr.sin_addr);
    socklen_t len = sizeof addr;
    if (l->fd_ < 0 || ::bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(l->fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error("bind failed");
    }
    l->port_ = ntohs(addr.sin_port);
    l->start();
    return l;
  }
  static std::unique_ptr<Listener> unix_socket(const std::string& path) {
    auto l = std::unique_ptr<Listener>(new Listener());
    l->fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    if (l->fd_ < 0 || ::bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind failed: " + path);
    }
    l->start();
    return l;
  }
  ~Listener() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] int accepts() const noexcept { return accepts_; }

 private:
  Listener() = default;
  void start() {
    if (::listen(fd_, 16) != 0) throw std::runtime_error("listen failed");
    thread_ = std::thread([this] {
      for (;;) {
        pollfd pfd{fd_, POLLIN, 0};
        if (::poll(&pfd, 1, 50) <= 0) {
          if (stop_) return;
          continue;
        }
        const int conn = ::accept(fd_, nullptr, nullptr);
        if (conn >= 0) {
          ++accepts_;
          ::close(conn);
        } else if (stop_) {
          return;
        }
      }
    });
  }
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<int> accepts_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class AttackPg : public SecurityE2E {
 protected:
  void SetUp() override {
    pg();
    for (const char* role : {"reader", "writer", "progrunner", "filewriter", "filereader",
                             "signaller", "checkpointer", "lister"}) {
      secret(password_of(role));
    }
    secret(pg().superuser_password());
  }

  /// A hub and one agent with `extra` options.
  Agent start(std::vector<std::string> extra = {}) {
    start_hub();
    token_ = secret(create_token());
    Agent a = agent(token_, std::move(extra));
    EXPECT_TRUE(a.wait_for_msg("agent started", 20s));
    return a;
  }

  /// A source through the admin API (what a control plane sends).
  std::string source(const Json& config) {
    return admin_json("POST", "/sources",
                      {{"name", "pg-" + std::to_string(++sources_)},
                       {"type", "postgres"},
                       {"config", config}},
                      201)
        .value("id", "");
  }
  std::string login(const std::string& role) {
    return source(pg().source_config(role, password_of(role)));
  }

  Json query(const std::string& source_id, const std::string& sql, int timeout_ms = 20000) {
    return wait_finished(create_job(source_id, sql, timeout_ms),
                         std::chrono::milliseconds(timeout_ms) + 20s);
  }
  Json job_of_type(const std::string& source_id, const std::string& type) {
    return wait_finished(create_job(source_id, "", 20000, type), 40s);
  }

  /// Asserts a failed job with `code` whose message contains `needle`.
  static void expect_refused(const Json& done, const std::string& code,
                             const std::string& needle = {}) {
    EXPECT_EQ(done.value("status", ""), "failed") << done.dump();
    ASSERT_TRUE(done.contains("error")) << done.dump();
    EXPECT_EQ(done["error"].value("code", ""), code) << done.dump();
    EXPECT_NE(done["error"].value("message", "").find(needle), std::string::npos) << done.dump();
  }

  static std::string ledger() { return scalar("SELECT count(*) || ':' || max(id) FROM ledger"); }

  std::string token_;
  int sources_ = 0;
};

// ---- class 2: the privilege gate

TEST_F(AttackPg, CopyToProgramAsSuperuserIsRefused) {
  start();
  Marker marker("su-program");
  const Json done =
      query(login("postgres"), "COPY (SELECT 1) TO PROGRAM 'touch " + marker.path() + "'");
  expect_refused(done, "permission_denied", "superuser");
  EXPECT_FALSE(marker.exists());
}

TEST_F(AttackPg, CopyToProgramAsProgramRoleMemberIsRefused) {
  start();
  Marker marker("role-program");
  const Json done =
      query(login("progrunner"), "COPY (SELECT 1) TO PROGRAM 'touch " + marker.path() + "'");
  expect_refused(done, "permission_denied", "pg_execute_server_program");
  EXPECT_FALSE(marker.exists());
}

TEST_F(AttackPg, CopyToServerFileIsRefused) {
  start();
  Marker marker("copy-file");
  const Json done = query(login("filewriter"), "COPY (SELECT 'pwned') TO '" + marker.path() + "'");
  expect_refused(done, "permission_denied", "pg_write_server_files");
  EXPECT_FALSE(marker.exists());
}

TEST_F(AttackPg, CopyInsideADoBlockAfterSetRoleIsRefused) {
  start();
  Marker marker("do-block");
  // NOINHERIT: the role's power needs SET ROLE first, which a DO block can do.
  const Json done = query(login("progrunner"),
                          "DO $$ BEGIN EXECUTE 'SET ROLE pg_execute_server_program'; "
                          "EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch " +
                              marker.path() + "'''; END $$");
  expect_refused(done, "permission_denied", "pg_execute_server_program");
  EXPECT_FALSE(marker.exists());
}

TEST_F(AttackPg, PgReadFileOfEtcPasswdIsRefused) {
  start();
  const Json done = query(login("filereader"), "SELECT pg_read_file('/etc/passwd')");
  expect_refused(done, "permission_denied", "pg_read_server_files");
  EXPECT_EQ(done.dump().find("root:"), std::string::npos) << "file content in the job";
  EXPECT_FALSE(done.contains("rows") && !done["rows"].empty()) << done.dump();
}

TEST_F(AttackPg, PgLsDirIsRefused) {
  start();
  const Json done = query(login("lister"), "SELECT pg_ls_dir('/etc')");
  expect_refused(done, "permission_denied", "execute:pg_ls_dir");
  EXPECT_EQ(done.dump().find("passwd"), std::string::npos) << done.dump();
}

TEST_F(AttackPg, LargeObjectImportExportIsRefused) {
  start();
  Marker marker("lo-export");
  const auto objects = scalar("SELECT count(*) FROM pg_largeobject_metadata");
  const Json done = query(login("postgres"),
                          "SELECT lo_export(lo_import('/etc/passwd'), '" + marker.path() + "')");
  expect_refused(done, "permission_denied", "superuser");
  EXPECT_FALSE(marker.exists());
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_largeobject_metadata"), objects);
}

TEST_F(AttackPg, TerminatingAnotherBackendIsRefusedAndItLives) {
  start();
  // The victim: a connection of the test's own, as the superuser.
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(pg().port()) +
      " dbname=postgres user=postgres password=" + pg().superuser_password();
  std::unique_ptr<PGconn, decltype(&PQfinish)> victim(PQconnectdb(conninfo.c_str()), &PQfinish);
  ASSERT_EQ(PQstatus(victim.get()), CONNECTION_OK) << PQerrorMessage(victim.get());
  const int pid = PQbackendPID(victim.get());
  const Json done =
      query(login("signaller"), "SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
  expect_refused(done, "permission_denied", "pg_signal_backend");
  std::unique_ptr<PGresult, decltype(&PQclear)> alive(PQexec(victim.get(), "SELECT 1"), &PQclear);
  EXPECT_EQ(PQresultStatus(alive.get()), PGRES_TUPLES_OK) << "the victim backend was killed";
}

TEST_F(AttackPg, CheckpointIsRefused) {
  start();
  const auto before = scalar("SELECT checkpoints_req FROM pg_stat_bgwriter");
  const Json done = query(login("checkpointer"), "CHECKPOINT");
  expect_refused(done, "permission_denied", "pg_checkpoint");
  EXPECT_EQ(scalar("SELECT checkpoints_req FROM pg_stat_bgwriter"), before);
}

TEST_F(AttackPg, SuperuserLoginIsRefusedForQueryAndMetadataAndReportedPrecisely) {
  start();
  const auto src = login("postgres");
  expect_refused(query(src, "SELECT 1"), "permission_denied", "superuser");
  expect_refused(job_of_type(src, "metadata"), "permission_denied", "superuser");
  const Json tc = job_of_type(src, "test_connection");
  ASSERT_EQ(tc.value("status", ""), "succeeded") << tc.dump();
  EXPECT_EQ(tc["result"]["role_can_write"], true) << tc.dump();
  EXPECT_EQ(tc["result"]["write_privileges"], Json::array({"superuser"})) << tc.dump();
  EXPECT_EQ(tc["result"]["privileged_login_allowed"], false) << tc.dump();
}

TEST_F(AttackPg, WriterLoginIsRefusedAndTheLedgerUnchanged) {
  start();
  const auto before = ledger();
  const Json done = query(login("writer"), "INSERT INTO ledger VALUES (50, 'x')");
  expect_refused(done, "permission_denied", "table_write");
  EXPECT_EQ(ledger(), before);
}

TEST_F(AttackPg, InlineSourceCannotOptIntoPrivilegedLogins) {
  start();
  Marker marker("inline-optin");
  Json config = pg().source_config("postgres", pg().superuser_password());
  config["allow_privileged_login"] = true;
  const Json done =
      query(source(config), "COPY (SELECT 1) TO PROGRAM 'touch " + marker.path() + "'");
  expect_refused(done, "invalid_job", "allow_privileged_login");
  EXPECT_FALSE(marker.exists());
}

// ---- positive controls: least privilege works; the operator's opt-ins work

TEST_F(AttackPg, ReadAllDataLoginRunsQueriesAndMetadata) {
  start();
  const auto src = login("reader");
  const Json done = query(src, "SELECT count(*) AS n FROM ledger");
  ASSERT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_EQ(done["rows"], Json::parse("[[3]]"));
  EXPECT_EQ(job_of_type(src, "metadata").value("status", ""), "succeeded");
  const Json tc = job_of_type(src, "test_connection");
  EXPECT_EQ(tc["result"]["role_can_write"], false) << tc.dump();
  EXPECT_EQ(tc["result"]["privileges"], Json::array()) << tc.dump();
}

TEST_F(AttackPg, AllowPrivilegedLoginsFlagRunsTheSuperuserAndIsLoggedAtStart) {
  Agent a = start({"--allow-privileged-logins"});
  EXPECT_NE(a.process->stdout_text().find("--allow-privileged-logins"), std::string::npos)
      << "no start-up line for the opt-in";
  Marker marker("flag-control");
  // What the gate stops by default really happens once the operator opts in
  // (so the refusals above are the gate's doing, not a broken attack).
  const Json done =
      query(login("postgres"), "COPY (SELECT 1) TO PROGRAM 'touch " + marker.path() + "'");
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump();
  EXPECT_TRUE(marker.exists());
}

TEST_F(AttackPg, SourcesFileOptInAppliesToThatSourceOnly) {
  const auto path = dir_.path() / "sources.yaml";
  {
    std::ofstream out(path);
    for (const char* name : {"ops", "ops_locked"}) {
      out << (name == std::string("ops") ? "sources:\n" : "") << "  " << name
          << ":\n    type: postgres\n    config:\n      host: 127.0.0.1\n      port: "
          << pg().port() << "\n      database: postgres\n      user: postgres\n"
          << "      password: \"" << pg().superuser_password() << "\"\n      sslmode: disable\n";
      if (name == std::string("ops")) out << "      allow_privileged_login: true\n";
    }
  }
  start({"--sources-file", path.string()});
  auto run_ref = [&](const std::string& ref) {
    const auto id = admin_json("POST", "/jobs",
                               {{"source", {{"ref", ref}}},
                                {"type", "query"},
                                {"params", {{"sql", "SELECT current_user"}}}},
                               201)
                        .value("id", "");
    return wait_finished(id, 40s);
  };
  const Json ok = run_ref("ops");
  EXPECT_EQ(ok.value("status", ""), "succeeded") << ok.dump();
  EXPECT_EQ(ok["rows"], Json::parse(R"([["postgres"]])"));
  expect_refused(run_ref("ops_locked"), "permission_denied", "superuser");
}

// ---- the read-only transaction and the pooled session

TEST_F(AttackPg, SessionCharacteristicsThenInsertStaysReadOnly) {
  // Even with privileged logins allowed (so the gate lets the writer in),
  // the READ ONLY transaction holds and no setting outlives its job.
  start({"--allow-privileged-logins"});
  const auto before = ledger();
  const auto src = login("writer");
  const Json multi = query(src,
                           "SET default_transaction_read_only = off; COMMIT; "
                           "INSERT INTO ledger VALUES (60, 'x')");
  expect_refused(multi, "query_error", "multiple commands");
  EXPECT_EQ(query(src, "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE").value("status", ""),
            "succeeded");
  expect_refused(query(src, "INSERT INTO ledger VALUES (61, 'x')"), "read_only_violation");
  expect_refused(query(src, "COMMIT"), "read_only_violation", "transaction");
  expect_refused(query(src, "UPDATE ledger SET note = 'y'"), "read_only_violation");
  EXPECT_EQ(ledger(), before);
  EXPECT_EQ(scalar("SELECT string_agg(note, '' ORDER BY id) FROM ledger"), "abc");
}

TEST_F(AttackPg, TempTableCannotLeakAcrossJobs) {
  start();
  const auto src = login("reader");
  expect_refused(query(src, "CREATE TEMP TABLE leak AS SELECT 1 AS a"), "read_only_violation");
  expect_refused(query(src, "SELECT * FROM pg_temp.leak"), "query_error", "leak");
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_class WHERE relname = 'leak'"), "0");
}

TEST_F(AttackPg, AdvisoryLockIsNotKeptByTheIdleSession) {
  start();
  const auto src = login("reader");
  const Json done = query(src, "SELECT pg_advisory_lock(4242), pg_advisory_lock_shared(4243)");
  ASSERT_EQ(done.value("status", ""), "succeeded") << done.dump();
  // The agent's session is idle in its pool now, holding nothing.
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), "0");
  EXPECT_EQ(scalar("SELECT pg_try_advisory_lock(4242) AND pg_try_advisory_lock(4243)"), "t");
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'"), "1")
      << "the session should be pooled (this proves the reset, not a disconnect)";
}

// ---- class 4: every address checked before the first packet

TEST_F(AttackPg, HostListWithAForbiddenSecondHostIsRefusedBeforeDialling) {
  auto forbidden = Listener::tcp("127.0.0.2");
  start({"--allow-hosts", "127.0.0.1/32"});
  const auto before = scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'");
  Json config = pg().source_config("reader", password_of("reader"));
  config.erase("host");
  config.erase("port");
  config["dsn"] = "host=127.0.0.1,127.0.0.2 port=" + std::to_string(pg().port()) + "," +
                  std::to_string(forbidden->port());
  expect_refused(query(source(config), "SELECT 1"), "egress_denied", "127.0.0.2");
  EXPECT_EQ(forbidden->accepts(), 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'"), before)
      << "the allowed first host was dialled although the job was refused";
}

TEST_F(AttackPg, HostaddrToAForbiddenAddressIsRefused) {
  auto forbidden = Listener::tcp("127.0.0.2");
  start({"--allow-hosts", "127.0.0.1/32"});
  Json config = pg().source_config("reader", password_of("reader"));
  config.erase("host");
  config.erase("port");
  config["dsn"] = "host=127.0.0.1 hostaddr=127.0.0.2 port=" + std::to_string(forbidden->port());
  expect_refused(query(source(config), "SELECT 1"), "egress_denied", "127.0.0.2");
  EXPECT_EQ(forbidden->accepts(), 0);
}

TEST_F(AttackPg, SocketDirectoryUnderAnAllowlistIsRefused) {
  const auto socket_dir = dir_.path() / "sock";
  std::filesystem::create_directories(socket_dir);
  auto socket = Listener::unix_socket((socket_dir / ".s.PGSQL.5432").string());
  Json config = pg().source_config("reader", password_of("reader"));
  config["host"] = socket_dir.string();
  config["port"] = 5432;
  {
    Agent a = start({"--allow-hosts", "127.0.0.1/32"});
    expect_refused(query(source(config), "SELECT 1"), "egress_denied", "socket");
    EXPECT_EQ(socket->accepts(), 0);
    // A uri naming the socket directory in its query string: the same.
    Json uri = {{"uri", "postgresql:///postgres?host=" + socket_dir.string() + "&user=reader"}};
    expect_refused(query(source(uri), "SELECT 1"), "egress_denied", "socket");
    EXPECT_EQ(socket->accepts(), 0);
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  // Control: without an allowlist the same source does dial that socket.
  Agent open = agent(token_);
  ASSERT_TRUE(open.wait_for_msg("agent started", 20s));
  const Json dialled = query(source(config), "SELECT 1");
  EXPECT_EQ(dialled.value("status", ""), "failed") << dialled.dump();
  EXPECT_GE(socket->accepts(), 1);
}

TEST_F(AttackPg, ServicePassfileAndClientKeyInADsnAreRefused) {
  auto listener = Listener::tcp("127.0.0.1");
  start();
  for (const char* extra : {"service=prod", "passfile=/root/.pgpass",
                            "sslkey=/etc/outpost/agent.key sslcert=/etc/outpost/agent.pem",
                            "replication=database", "krbsrvname=HTTP"}) {
    Json config = {{"dsn", "host=127.0.0.1 port=" + std::to_string(listener->port()) +
                               " user=reader " + extra}};
    expect_refused(query(source(config), "SELECT 1"), "invalid_job");
  }
  EXPECT_EQ(listener->accepts(), 0);
}

// ---- class 8: one huge value under a small result budget

TEST_F(AttackPg, HugeValueUnderASmallBudgetIsRefusedInBoundedMemory) {
  Agent a = start({"--max-result-bytes", "1MiB"});
  const auto src = login("reader");
  // 64 MiB of bytea: 128 MiB of hex text on the wire. libpq holds the row
  // twice (its input buffer and the row's PGresult); the connector must not
  // add a hex-decoded copy and a base64 copy on top.
  const Json done =
      query(src, "SELECT 1 AS n, decode(repeat('ab', 67108864), 'hex') AS blob", 90000);
  EXPECT_EQ(done.value("status", ""), "succeeded") << done.dump().substr(0, 2000);
  EXPECT_EQ(done.value("truncated", false) || done["result"].value("truncated", false), true)
      << done.dump().substr(0, 2000);
  EXPECT_EQ(done.value("rows", Json::array()), Json::array());
  const auto peak_mib = a.process->peak_rss_kib() / 1024;
  std::printf("agent peak RSS with a 128 MiB row: %ld MiB\n", static_cast<long>(peak_mib));
  // Sanitizer builds quarantine libpq's freed buffers (each growth of the
  // input buffer) and add shadow memory: the bound holds for real builds.
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(peak_mib, 330) << "more than libpq's two copies of the row";
#endif
}

}  // namespace
}  // namespace outpost::test
