// PostgreSQL connector, issue 14: the privilege gate, what a pooled session
// keeps between jobs, every address checked before the first packet, the
// dsn/uri keyword allow-list, and values refused before conversion.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>

#include "postgres/pg_config.hpp"
#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::parse_config;
using connectors::postgres::PostgresConnector;
using nlohmann::json;

// Logins with one privilege each (besides CONNECT), made once per process.
// Passwords are the role names.
constexpr const char* kRolesSql = R"SQL(
CREATE ROLE progrunner LOGIN NOINHERIT PASSWORD 'progrunner';
GRANT pg_execute_server_program TO progrunner;
CREATE ROLE filewriter LOGIN PASSWORD 'filewriter';
GRANT pg_write_server_files TO filewriter;
CREATE ROLE filereader LOGIN PASSWORD 'filereader';
GRANT pg_read_server_files TO filereader;
CREATE ROLE signaller LOGIN PASSWORD 'signaller';
GRANT pg_signal_backend TO signaller;
CREATE ROLE checkpointer LOGIN PASSWORD 'checkpointer';
GRANT pg_checkpoint TO checkpointer;
CREATE ROLE lister LOGIN PASSWORD 'lister';
CREATE ROLE rolemaker LOGIN CREATEROLE PASSWORD 'rolemaker';
CREATE ROLE replicator LOGIN REPLICATION PASSWORD 'replicator';
CREATE ROLE colwriter LOGIN PASSWORD 'colwriter';
CREATE ROLE seqwriter LOGIN PASSWORD 'seqwriter';
CREATE ROLE schemawriter LOGIN PASSWORD 'schemawriter';
CREATE ROLE schemaowner LOGIN PASSWORD 'schemaowner';
CREATE ROLE observer LOGIN PASSWORD 'observer';
GRANT pg_read_all_data TO observer;
CREATE ROLE bypasser LOGIN BYPASSRLS PASSWORD 'bypasser';
)SQL";

constexpr const char* kGrantsSql = R"SQL(
GRANT CONNECT ON DATABASE outpost_test TO progrunner, filewriter, filereader, signaller,
  checkpointer, lister, rolemaker, replicator, colwriter, seqwriter, schemawriter, schemaowner,
  observer, bypasser;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text) TO lister;
GRANT USAGE ON SCHEMA app, other TO colwriter, seqwriter, schemawriter;
GRANT UPDATE (c_text) ON app.all_types TO colwriter;
GRANT USAGE ON SEQUENCE other.events_id_seq TO seqwriter;
GRANT CREATE ON SCHEMA app TO schemawriter;
CREATE SCHEMA owned AUTHORIZATION schemaowner;
REVOKE CREATE ON SCHEMA owned FROM schemaowner;
)SQL";

PostgresServer& cluster() {
  static std::once_flag once;
  std::call_once(once, [] {
    server().exec(kRolesSql);
    server().exec(kGrantsSql, kDatabase);
  });
  return server();
}

json login(const std::string& role) {
  cluster();
  return config_for(role, role);
}

JobResult run_job(PostgresConnector& connector, JobType type, const json& config,
                  const std::string& sql = "SELECT 1",
                  const OperatorPolicy& policy = default_operator_policy()) {
  CollectingSink sink;
  return run(connector, make_job(type, config, {{"sql", sql}}), sink, policy);
}

struct GateCase {
  const char* role;
  const char* privilege;  // the name the refusal and test_connection give
};

void PrintTo(const GateCase& c, std::ostream* os) {
  *os << c.role;
}

class PostgresGate : public ::testing::TestWithParam<GateCase> {};

TEST_P(PostgresGate, QueryAndMetadataAreRefusedNamingThePrivilege) {
  const auto& c = GetParam();
  const json config = std::string(c.role) == "postgres"
                          ? (cluster(), config_for("postgres", server().superuser_password()))
                          : login(c.role);
  PostgresConnector connector;
  for (auto type : {JobType::kQuery, JobType::kMetadata}) {
    const auto r = run_job(connector, type, config);
    ASSERT_FALSE(r.ok()) << c.role;
    EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << error_text(r);
    EXPECT_NE(r.error->message.find(c.privilege), std::string::npos) << error_text(r);
    EXPECT_NE(r.error->message.find("--allow-privileged-logins"), std::string::npos);
  }
  // The refused session was pooled with its verdict: the second job reused it.
  EXPECT_EQ(connector.pool().idle_count(), 1u);

  const auto t = run_job(connector, JobType::kTestConnection, config);
  ASSERT_TRUE(t.ok()) << error_text(t);
  EXPECT_EQ(t.result["role_can_write"], true);
  EXPECT_EQ(t.result["privileged_login_allowed"], false);
  const auto names = t.result["write_privileges"];
  EXPECT_NE(std::find(names.begin(), names.end(), c.privilege), names.end()) << t.result.dump();
  ASSERT_EQ(t.result["privileges"].size(), names.size());
  EXPECT_FALSE(t.result["privileges"][0].value("detail", "").empty());
  EXPECT_NE(t.result["warnings"][0].get<std::string>().find("refused"), std::string::npos);

  // The operator's flag lets the same login run.
  const auto allowed = run_job(connector, JobType::kQuery, config, "SELECT 1", privileged_policy());
  EXPECT_TRUE(allowed.ok()) << error_text(allowed);
}

INSTANTIATE_TEST_SUITE_P(
    Logins, PostgresGate,
    ::testing::Values(
        GateCase{"postgres", "superuser"}, GateCase{"progrunner", "pg_execute_server_program"},
        GateCase{"filewriter", "pg_write_server_files"},
        GateCase{"filereader", "pg_read_server_files"}, GateCase{"signaller", "pg_signal_backend"},
        GateCase{"checkpointer", "pg_checkpoint"}, GateCase{"lister", "execute:pg_ls_dir"},
        GateCase{"rolemaker", "createrole"}, GateCase{"replicator", "replication"},
        GateCase{"colwriter", "table_write"}, GateCase{"seqwriter", "sequence_write"},
        GateCase{"schemawriter", "schema_create"}, GateCase{"schemaowner", "owner"}),
    [](const auto& p) { return std::string(p.param.role); });

TEST(PostgresGateReaders, ReadOnlyLoginsRunAndReportNoPrivileges) {
  PostgresConnector connector;
  for (const auto& config : {login("observer"), reader_config(), login("bypasser")}) {
    const auto q = run_job(connector, JobType::kQuery, config, "SELECT 1");
    EXPECT_TRUE(q.ok()) << error_text(q);
    const auto t = run_job(connector, JobType::kTestConnection, config);
    ASSERT_TRUE(t.ok()) << error_text(t);
    EXPECT_EQ(t.result["role_can_write"], false) << t.result.dump();
    EXPECT_EQ(t.result["privileges"], json::array()) << t.result.dump();
  }
  // pg_read_all_data reads everything; BYPASSRLS is a note, not a refusal.
  CollectingSink sink;
  ASSERT_TRUE(run(connector,
                  make_job(JobType::kQuery, login("observer"),
                           {{"sql", "SELECT count(*) FROM other.events"}}),
                  sink)
                  .ok());
  EXPECT_EQ(sink.rows()[0][0], 100);
  const auto b = run_job(connector, JobType::kTestConnection, login("bypasser"));
  EXPECT_EQ(b.result["notes"], json::array({"bypassrls"}));
}

TEST(PostgresGateReaders, OnlyASourcesFileSourceOptsInAlone) {
  PostgresConnector connector;
  auto config = login("progrunner");
  config[kAllowPrivilegedLoginKey] = true;
  CollectingSink sink;
  // Inline (no ref): the key is read as a boolean and ignored (the runtime
  // refuses it earlier as invalid_job).
  auto inline_job = make_job(JobType::kQuery, config, {{"sql", "SELECT 1"}});
  const auto refused = run(connector, inline_job, sink);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error->code, ErrorCode::kPermissionDenied) << error_text(refused);
  auto file_job = inline_job;
  file_job.source.ref = "ops";
  const auto ok = run(connector, file_job, sink);
  EXPECT_TRUE(ok.ok()) << error_text(ok);
  const auto t = run(connector, make_job(JobType::kTestConnection, config), sink);
  EXPECT_EQ(t.result["privileged_login_allowed"], false);
}

// ---- what a pooled session keeps between jobs

bool lock_is_free(int key) {
  // A new connection of its own: the lock is free when it can take it (and
  // it lets go when that connection closes).
  return server().query_column("SELECT pg_try_advisory_lock(" + std::to_string(key) + ")",
                               kDatabase)[0] == "t";
}

TEST(PostgresReset, AdvisoryLocksAreReleasedWhenTheJobEnds) {
  PostgresConnector connector;
  ASSERT_TRUE(
      run_job(connector, JobType::kQuery, reader_config(), "SELECT pg_advisory_lock(42)").ok());
  EXPECT_EQ(connector.pool().idle_count(), 1u);  // pooled, yet holding nothing
  EXPECT_TRUE(lock_is_free(42));
  // Also when the statement fails after taking it, and for shared locks.
  const auto failed = run_job(connector, JobType::kQuery, reader_config(),
                              "SELECT pg_advisory_lock(43), pg_advisory_lock_shared(44), 1/0");
  EXPECT_EQ(failed.error->code, ErrorCode::kQueryError) << error_text(failed);
  EXPECT_TRUE(lock_is_free(43));
  EXPECT_TRUE(lock_is_free(44));
}

TEST(PostgresReset, PreparedStatementsListenAndSettingsDoNotSurvive) {
  PostgresConnector connector;
  for (const char* sql : {"PREPARE leftover AS SELECT 1", "LISTEN leftover",
                          "SELECT set_config('search_path', 'other', false)"}) {
    CollectingSink sink;
    const auto r = run(connector, make_job(JobType::kQuery, reader_config(), {{"sql", sql}}), sink);
    EXPECT_TRUE(r.ok()) << sql << ": " << error_text(r);
  }
  CollectingSink sink;
  const auto r = run(connector,
                     make_job(JobType::kQuery, reader_config(),
                              {{"sql",
                                "SELECT (SELECT count(*) FROM pg_prepared_statements), "
                                "(SELECT count(*) FROM pg_listening_channels()), "
                                "current_setting('search_path'), pg_backend_pid()"}}),
                     sink);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(sink.rows()[0][0], 0);
  EXPECT_EQ(sink.rows()[0][1], 0);
  EXPECT_EQ(sink.rows()[0][2], "\"$user\", public");
  EXPECT_EQ(connector.pool().idle_count(), 1u);  // the same, reused session
}

TEST(PostgresReset, EndingTheReadOnlyTransactionIsRefusedAndTheSessionClosed) {
  PostgresConnector connector;
  for (const char* sql : {"COMMIT", "ROLLBACK"}) {
    const auto r = run_job(connector, JobType::kQuery, reader_config(), sql);
    ASSERT_FALSE(r.ok()) << sql;
    EXPECT_EQ(r.error->code, ErrorCode::kReadOnlyViolation) << error_text(r);
    EXPECT_EQ(connector.pool().idle_count(), 0u) << sql;
  }
  // A temp table cannot be made to leak: the read-only transaction refuses it.
  const auto t =
      run_job(connector, JobType::kQuery, reader_config(), "CREATE TEMP TABLE t (a int)");
  EXPECT_EQ(t.error->code, ErrorCode::kReadOnlyViolation) << error_text(t);
}

// ---- every address checked before the first packet

/// Allows only the listed numeric addresses; remembers every socket path asked.
class ListGuard final : public NetworkGuard {
 public:
  explicit ListGuard(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {}
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t) const override {
    ResolvedHost out;
    if (std::find(allowed_.begin(), allowed_.end(), host) == allowed_.end()) {
      out.error = JobError{ErrorCode::kEgressDenied, "host " + std::string(host) + " refused"};
    } else {
      out.addresses.emplace_back(host);
    }
    return out;
  }
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view path) const override {
    sockets.emplace_back(path);
    return JobError{ErrorCode::kEgressDenied, "socket refused"};
  }
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view) const override {
    return JobError{ErrorCode::kEgressDenied, "dsn refused"};
  }
  mutable std::vector<std::string> sockets;

 private:
  std::vector<std::string> allowed_;
};

std::string backends(const std::string& user) {
  return server().query_column("SELECT count(*) FROM pg_stat_activity WHERE usename = '" + user +
                               "'")[0];
}

TEST(PostgresEgress, EveryHostAddressAndSocketIsCheckedFirst) {
  const auto port = std::to_string(server().port());
  const auto before = backends("reader");
  PostgresConnector connector;
  ListGuard guard({"127.0.0.1"});
  CancelToken cancel;
  CollectingSink sink;
  const std::vector<json> attempts = {
      // The allowed host first: libpq would never even try the second.
      {{"dsn", "host=127.0.0.1,127.0.0.2 port=" + port + "," + port + " dbname=outpost_test"}},
      {{"dsn", "host=127.0.0.1 hostaddr=127.0.0.2 port=" + port}},
      {{"uri", "postgresql://127.0.0.1:" + port + ",127.0.0.3:" + port + "/outpost_test"}},
      {{"uri", "postgresql:///outpost_test?host=" + server().socket_dir().string()}},
      {{"host", "127.0.0.1,"}, {"port", server().port()}},  // empty = default socket dir
      {{"host", server().socket_dir().string()}},
  };
  for (auto config : attempts) {
    config["user"] = "reader";
    config["password"] = kReaderPassword;
    const auto r = run(connector, make_job(JobType::kQuery, config, {{"sql", "SELECT 1"}}), sink,
                       guard, cancel);
    ASSERT_FALSE(r.ok()) << config.dump();
    EXPECT_EQ(r.error->code, ErrorCode::kEgressDenied) << config.dump() << ": " << error_text(r);
  }
  EXPECT_EQ(guard.sockets,
            (std::vector<std::string>{server().socket_dir().string() + "/.s.PGSQL.5432",
                                      "/var/run/postgresql/.s.PGSQL." + port,
                                      server().socket_dir().string() + "/.s.PGSQL.5432"}));
  EXPECT_EQ(backends("reader"), before);
  // Control: the allowed host alone connects through the same guard.
  const auto ok = run(connector, make_job(JobType::kQuery, reader_config(), {{"sql", "SELECT 1"}}),
                      sink, guard, cancel);
  EXPECT_TRUE(ok.ok()) << error_text(ok);
}

TEST(PostgresEgress, DsnKeywordsAreAnAllowList) {
  for (const char* dsn :
       {"host=127.0.0.1 service=prod", "host=127.0.0.1 passfile=/root/.pgpass",
        "host=127.0.0.1 sslkey=/etc/outpost/agent.key", "host=127.0.0.1 sslcert=/tmp/c.pem",
        "host=127.0.0.1 sslcrl=/etc/shadow", "host=127.0.0.1 krbsrvname=HTTP",
        "host=127.0.0.1 replication=database", "host=127.0.0.1 requirepeer=root"}) {
    const auto parsed = parse_config({{"dsn", dsn}});
    ASSERT_TRUE(parsed.error.has_value()) << dsn;
    EXPECT_EQ(parsed.error->code, ErrorCode::kInvalidJob) << dsn;
  }
  // The operator's sources file may name client certificates and a passfile,
  // never a service file or a replication session.
  EXPECT_FALSE(parse_config({{"dsn", "host=db sslcert=/etc/c.pem sslkey=/etc/k.pem"}}, true).error);
  EXPECT_FALSE(parse_config({{"dsn", "host=db passfile=/etc/pgpass"}}, true).error);
  EXPECT_TRUE(parse_config({{"dsn", "host=db service=prod"}}, true).error);
  EXPECT_TRUE(parse_config({{"dsn", "host=db replication=true"}}, true).error);
  // Ordinary network keywords pass, and so does the privileged-login opt-in.
  const auto ok =
      parse_config({{"dsn", "host=db port=5433 sslmode=verify-full target_session_attrs=read-only"},
                    {kAllowPrivilegedLoginKey, true}});
  EXPECT_FALSE(ok.error) << ok.error->message;
  EXPECT_TRUE(parse_config({{kAllowPrivilegedLoginKey, "yes please"}}).error);
}

TEST(PostgresEgress, AnInlineSourceNeverReadsThePasswordFile) {
  const auto passfile =
      std::filesystem::temp_directory_path() / ("outpost-pgpass-" + std::to_string(::getpid()));
  {
    std::ofstream out(passfile);
    out << "*:*:*:reader:" << kReaderPassword << "\n";
  }
  std::filesystem::permissions(
      passfile, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  ::setenv("PGPASSFILE", passfile.c_str(), 1);
  auto config = reader_config();
  config.erase("password");
  PostgresConnector connector;
  CollectingSink sink;
  auto job = make_job(JobType::kTestConnection, config);
  const auto inline_result = run(connector, job, sink);
  ASSERT_FALSE(inline_result.ok());
  EXPECT_EQ(inline_result.error->code, ErrorCode::kAuthFailed) << error_text(inline_result);
  job.source.ref = "local";  // the same config from the operator's sources file
  const auto operator_result = run(connector, job, sink);
  EXPECT_TRUE(operator_result.ok()) << error_text(operator_result);
  ::unsetenv("PGPASSFILE");
  std::filesystem::remove(passfile);
}

// ---- class 8: a value past the row's byte limit is refused, not converted

class LimitedSink final : public ResultSink {
 public:
  explicit LimitedSink(std::size_t limit) : limit_(limit), writer_(buffer_) {}
  void set_columns(std::vector<Column>) override {}
  RowWriter& begin_row() override {
    buffer_.clear();
    writer_.open(limit_);
    return writer_;
  }
  [[nodiscard]] bool end_row() override {
    writer_.close();
    if (writer_.over_limit()) {
      refused_ = true;
      return false;
    }
    ++count_;
    return true;
  }
  [[nodiscard]] bool add_table(const Table&) override { return true; }
  [[nodiscard]] std::uint64_t count() const override { return count_; }
  [[nodiscard]] bool refused() const noexcept { return refused_; }

 private:
  std::size_t limit_;
  std::string buffer_;
  RowWriter writer_;
  std::uint64_t count_ = 0;
  bool refused_ = false;
};

JobResult run_limited(PostgresConnector& connector, LimitedSink& sink, const std::string& sql) {
  AllowingNetworkGuard guard;
  CancelToken cancel;
  return run(connector, make_job(JobType::kQuery, reader_config(), {{"sql", sql}}), sink, guard,
             cancel);
}

TEST(PostgresValues, ValuesPastTheRowLimitAreRefused) {
  PostgresConnector connector;
  for (const char* sql : {"SELECT 1, decode(repeat('ab', 3000000), 'hex')",
                          "SELECT 1, ('[\"' || repeat('x', 3000000) || '\"]')::jsonb",
                          "SELECT 1, now() - interval '1 day', repeat('y', 3000000)"}) {
    LimitedSink sink(1 << 20);
    const auto r = run_limited(connector, sink, sql);
    EXPECT_TRUE(r.ok()) << error_text(r);
    EXPECT_TRUE(sink.refused()) << sql;
    EXPECT_EQ(sink.count(), 0u);
  }
}

TEST(PostgresValues, ASessionThatCarriedAHugeRowIsNotPooled) {
  PostgresConnector connector;
  LimitedSink small(1 << 20);
  ASSERT_TRUE(run_limited(connector, small, "SELECT repeat('s', 1000)").ok());
  EXPECT_EQ(connector.pool().idle_count(), 1u);
  // Accepted (the limit allows it), but libpq's input buffer grew past 8 MiB
  // for it and would keep that memory while idle: the session is closed.
  LimitedSink large(64 << 20);
  const auto r = run_limited(connector, large, "SELECT repeat('y', 10000000)");
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(large.count(), 1u);
  EXPECT_EQ(connector.pool().idle_count(), 0u);
}

}  // namespace
}  // namespace outpost::test::pg
