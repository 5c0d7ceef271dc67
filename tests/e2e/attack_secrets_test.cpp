// Issue 14, classes 5 and 6, as an attacker holding the control plane: a real
// outpost-hub, real outpost-agent processes and a real PostgreSQL. Each test
// is one attempt to make the agent hand a secret of its host to a database
// (or back through a reflected setting), and asserts both the refusal and
// that nothing leaked: no connection made where one would carry the secret,
// the secret in no agent output (SecurityE2E::TearDown) and nowhere in what
// the hub stored for the job.

#include <fstream>

#include "e2e/security_fixture.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

constexpr const char* kPgPassword = "attack-reader-pw-Q8vN3x";

/// One PostgreSQL cluster for the binary; a least-privilege login `reader`.
PostgresServer& pg() {
  static PostgresServer server;
  static const bool ready = [] {
    server.exec(std::string("CREATE ROLE reader LOGIN PASSWORD '") + kPgPassword +
                "'; GRANT pg_read_all_data TO reader;");
    return true;
  }();
  (void)ready;
  return server;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

class AttackSecrets : public SecurityE2E {
 protected:
  void SetUp() override {
    pg();
    secret(kPgPassword);
    std::filesystem::create_directory(secrets_dir());
    write_file(secrets_dir() / "pg-password", std::string(kPgPassword) + "\n");
  }

  /// The operator's --secret-dirs for every agent here.
  std::filesystem::path secrets_dir() const { return dir_.path() / "secrets"; }

  /// A postgres source config for `reader` with `password`; `port` aims it
  /// elsewhere (a CountingListener) when the attempt must not connect at all.
  static Json pg_config(const std::string& password, std::optional<std::uint16_t> port = {}) {
    Json config = pg().source_config("reader", password);
    if (port) config["port"] = *port;
    return config;
  }

  std::string source(const std::string& name, const Json& config) {
    return admin_json("POST", "/sources",
                      {{"name", name}, {"type", "postgres"}, {"config", config}}, 201)
        .value("id", "");
  }

  /// An agent with the operator's secret options (plus `extra`), started.
  Agent started(std::vector<std::string> extra = {},
                std::vector<std::pair<std::string, std::string>> env = {}, std::string token = {}) {
    if (token.empty()) token = token_;
    std::vector<std::string> args{"--secret-dirs", secrets_dir().string(), "--secret-env",
                                  "PGPASS"};
    args.insert(args.end(), extra.begin(), extra.end());
    env.emplace_back("PGPASS", kPgPassword);
    Agent a = agent(token, args, env);
    EXPECT_TRUE(a.wait_for_msg("agent started", 20s)) << a.process->stdout_text();
    return a;
  }

  void start() {
    start_hub();
    token_ = secret(create_token());
  }

  Json run(const std::string& source_id, const std::string& sql = "SELECT 41 + 1 AS answer") {
    return wait_finished(create_job(source_id, sql, 20000), 40s);
  }

  /// The job failed with `code` and a message holding `why`, and neither the
  /// job as the hub stored it nor its error holds any registered secret.
  void expect_refused(const Json& done, const std::string& code, const std::string& why) {
    EXPECT_EQ(done.value("status", ""), "failed") << done.dump();
    EXPECT_EQ(done["error"].value("code", ""), code) << done.dump();
    EXPECT_NE(done["error"].value("message", "").find(why), std::string::npos) << done.dump();
    expect_not_stored(done);
  }

  void expect_not_stored(const Json& done) {
    const std::string stored = done.dump();
    for (const auto& s : secrets_) {
      EXPECT_EQ(stored.find(s), std::string::npos)
          << "the hub holds a secret of length " << s.size() << ": " << stored;
    }
  }

  std::string token_;
};

// --- ${file:…}: the agent's own files, /proc, and paths outside --secret-dirs

TEST_F(AttackSecrets, FileRefToTheAgentsOwnTokenFileInsideSecretDirs) {
  start();
  // The operator keeps the token in the very directory references may read.
  const auto token_file = secrets_dir() / "agent-token";
  write_file(token_file, token_ + "\n");
  CountingListener db;
  const auto src =
      source("token-file", pg_config("${file:" + token_file.string() + "}", db.port()));
  Agent a = SecurityE2E::agent(
      "", {"--token-file", token_file.string(), "--secret-dirs", secrets_dir().string()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s)) << a.process->stdout_text();
  expect_refused(run(src), "secret_unresolved", "own credentials");
  EXPECT_EQ(db.accepts(), 0) << "the token was offered to a database as a password";
}

TEST_F(AttackSecrets, FileRefToTheTokenFileThroughASymlinkInSecretDirs) {
  start();
  const auto token_file = secrets_dir() / "agent-token";
  write_file(token_file, token_ + "\n");
  std::filesystem::create_symlink(token_file, secrets_dir() / "db-password");
  CountingListener db;
  const auto src =
      source("token-link",
             pg_config("${file:" + (secrets_dir() / "db-password").string() + "}", db.port()));
  Agent a = SecurityE2E::agent(
      "", {"--token-file", token_file.string(), "--secret-dirs", secrets_dir().string()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  expect_refused(run(src), "secret_unresolved", "own credentials");
  EXPECT_EQ(db.accepts(), 0);
}

TEST_F(AttackSecrets, FileRefToTheTokenFileThroughProcSelfRoot) {
  start();
  const auto token_file = dir_.path() / "agent-token";  // outside --secret-dirs
  write_file(token_file, token_ + "\n");
  CountingListener db;
  const auto src = source(
      "proc-root", pg_config("${file:/proc/self/root" + token_file.string() + "}", db.port()));
  Agent a = SecurityE2E::agent(
      "", {"--token-file", token_file.string(), "--secret-dirs", secrets_dir().string()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  expect_refused(run(src), "secret_unresolved", "--secret-dirs");
  EXPECT_EQ(db.accepts(), 0);
}

TEST_F(AttackSecrets, FileRefToProcSelfEnvironEvenWithProcListed) {
  start();
  CountingListener db;
  const auto src = source("environ", pg_config("${file:/proc/self/environ}", db.port()));
  // Even an operator who lists /proc gets no /proc file into a job.
  Agent a = started({"--secret-dirs", secrets_dir().string() + ",/proc"});
  expect_refused(run(src), "secret_unresolved", "/proc and /sys");
  EXPECT_EQ(db.accepts(), 0);
}

TEST_F(AttackSecrets, FileRefOutsideSecretDirs) {
  start();
  const auto elsewhere = dir_.path() / "not-a-secret-dir";
  std::filesystem::create_directory(elsewhere);
  const std::string outside = secret("outside-file-secret-5Rt2");
  write_file(elsewhere / "pw", outside + "\n");
  CountingListener db;
  const auto src =
      source("outside", pg_config("${file:" + (elsewhere / "pw").string() + "}", db.port()));
  Agent a = started();
  const Json done = run(src);
  expect_refused(done, "secret_unresolved", "--secret-dirs");
  EXPECT_EQ(db.accepts(), 0);
  // A missing file there answers the same: no probing for what exists.
  const auto probe =
      source("probe", pg_config("${file:" + (elsewhere / "nope").string() + "}", db.port()));
  expect_refused(run(probe), "secret_unresolved", "--secret-dirs");
}

TEST_F(AttackSecrets, FileRefToTheSourcesFileInsideSecretDirs) {
  start();
  const auto sources = secrets_dir() / "sources.yaml";
  const std::string operator_pw = secret("operator-sources-pw-8Kd1");
  write_file(sources,
             "version: 1\nsources:\n  other:\n    type: postgres\n    config:\n"
             "      host: 127.0.0.1\n      password: " +
                 operator_pw + "\n");
  CountingListener db;
  const auto src = source("sources", pg_config("${file:" + sources.string() + "}", db.port()));
  Agent a = started({"--sources-file", sources.string()});
  expect_refused(run(src), "secret_unresolved", "own credentials");
  EXPECT_EQ(db.accepts(), 0);
}

// --- ${env:…}: only what --secret-env lists, never AGENT_* or proxies

TEST_F(AttackSecrets, EnvRefToAgentTokenEvenWhenListed) {
  start();
  CountingListener db;
  const auto src = source("agent-token", pg_config("${env:AGENT_TOKEN}", db.port()));
  Agent a = started({"--secret-env", "PGPASS,AGENT_*"});
  EXPECT_TRUE(a.wait_for_msg(
      "--secret-env lists AGENT_* or proxy variables: those are never given to jobs, whatever "
      "the list says",
      5s));
  expect_refused(run(src), "secret_unresolved", "never given to jobs");
  EXPECT_EQ(db.accepts(), 0);
}

TEST_F(AttackSecrets, EnvRefToHttpsProxyWithItsPassword) {
  start();
  const std::string proxy_pw = secret("proxy-password-3Hw9");
  CountingListener db;
  const auto src = source("proxy", pg_config("${env:HTTPS_PROXY}", db.port()));
  const auto lower = source("proxy-lower", pg_config("${env:https_proxy}", db.port()));
  Agent a = started({"--secret-env", "PGPASS,HTTPS_PROXY,https_proxy"},
                    {{"HTTPS_PROXY", "http://u:" + proxy_pw + "@127.0.0.1:9"},
                     {"https_proxy", "http://u:" + proxy_pw + "@127.0.0.1:9"}});
  expect_refused(run(src), "secret_unresolved", "never given to jobs");
  expect_refused(run(lower), "secret_unresolved", "never given to jobs");
  EXPECT_EQ(db.accepts(), 0);
}

TEST_F(AttackSecrets, EnvRefToAnUnlistedVariable) {
  start();
  const std::string other = secret("unlisted-env-secret-7Yp4");
  CountingListener db;
  const auto src = source("unlisted", pg_config("${env:DEPLOY_KEY}", db.port()));
  const auto listed = source("listed", pg_config("${env:PGPASS}"));
  Agent a = started({}, {{"DEPLOY_KEY", other}});
  expect_refused(run(src), "secret_unresolved", "--secret-env does not list DEPLOY_KEY");
  EXPECT_EQ(db.accepts(), 0);
  // Control: the listed variable resolves, so the refusal above is the list.
  const Json ok = run(listed);
  EXPECT_EQ(ok.value("status", ""), "succeeded") << ok.dump();
  EXPECT_EQ(ok.value("rows", Json()), Json::parse("[[42]]")) << ok.dump();
}

// --- A reference where the server echoes it back

TEST_F(AttackSecrets, ReferenceInApplicationNameReflectedByCurrentSettingIsRefused) {
  start();
  Json config = pg_config("${env:PGPASS}");
  config["application_name"] = "${env:PGPASS}";
  const auto reflected = source("reflect-app-name", config);
  const auto plain = source("plain", pg_config("${env:PGPASS}"));
  Agent a = started();
  const Json done = run(reflected, "SELECT current_setting('application_name') AS v");
  expect_refused(done, "invalid_job", "'application_name'");
  EXPECT_FALSE(done.contains("rows") && !done["rows"].is_null()) << done.dump();
  // Control: the same reference as the password alone runs.
  const Json ok = run(plain, "SELECT current_setting('application_name') AS v");
  EXPECT_EQ(ok.value("status", ""), "succeeded") << ok.dump();
  expect_not_stored(ok);
}

TEST_F(AttackSecrets, ReferenceInServerOptionsIsRefused) {
  start();
  Json config = pg_config("${env:PGPASS}");
  config["options"] = "-c application_name=${env:PGPASS}";
  const auto src = source("reflect-options", config);
  Agent a = started();
  expect_refused(run(src, "SELECT current_setting('application_name') AS v"), "invalid_job",
                 "'options'");
}

TEST_F(AttackSecrets, ReferenceAsTheUserOfADsnIsRefused) {
  start();
  // current_user would hand the "user name" back in a row.
  const std::string dsn =
      "postgresql://${env:PGPASS}:${env:PGPASS}@127.0.0.1:" + std::to_string(pg().port()) +
      "/postgres?sslmode=disable";
  const auto src = source("dsn-user", Json{{"dsn", dsn}});
  Agent a = started();
  expect_refused(run(src, "SELECT current_user AS u"), "invalid_job", "'dsn'");
}

TEST_F(AttackSecrets, SourcesFileReferenceReflectedInARowComesBackRedacted) {
  start();
  // The operator may put a reference anywhere in the sources file; a long
  // one is truncated to 63 bytes by the server, and that prefix is redacted too.
  const std::string app_secret =
      secret(std::string("reflected-app-secret-") + std::string(59, 'z') + "-tail");  // 85 bytes
  secret(app_secret.substr(0, 63));
  const auto sources = dir_.path() / "sources.yaml";
  write_file(sources,
             "version: 1\nsources:\n  warehouse:\n    type: postgres\n    config:\n"
             "      host: 127.0.0.1\n      port: " +
                 std::to_string(pg().port()) +
                 "\n      user: reader\n      database: postgres\n      sslmode: disable\n"
                 "      password: ${env:PGPASS}\n"
                 "      application_name: ${env:APP_SECRET}\n");
  Agent a = started({"--sources-file", sources.string(), "--secret-env", "PGPASS,APP_SECRET"},
                    {{"APP_SECRET", app_secret}});
  const auto id = admin_json("POST", "/jobs",
                             {{"source", {{"ref", "warehouse"}}},
                              {"type", "query"},
                              {"params",
                               {{"sql",
                                 "SELECT current_setting('application_name') AS v, "
                                 "'plain' AS w"}}}},
                             201)
                      .value("id", "");
  const Json done = wait_finished(id, 40s);
  ASSERT_EQ(done.value("status", ""), "succeeded") << done.dump();
  ASSERT_TRUE(done["rows"].is_array() && done["rows"].size() == 1) << done.dump();
  EXPECT_NE(done["rows"][0][0].get<std::string>().find("[REDACTED]"), std::string::npos)
      << done.dump();
  EXPECT_EQ(done["rows"][0][1], "plain");
  expect_not_stored(done);
}

// --- Class 6: --require-secret-refs reads a URI as libpq does

TEST_F(AttackSecrets, PercentEncodedPasswordKeyUnderRequireSecretRefs) {
  start();
  CountingListener db;
  const std::string dsn = "postgresql://reader@127.0.0.1:" + std::to_string(db.port()) +
                          "/postgres?pass%77ord=" + kPgPassword;
  const auto src = source("pct-password", Json{{"dsn", dsn}});
  Agent a = started({"--require-secret-refs"});
  expect_refused(run(src), "invalid_job", "literal secret");
  EXPECT_EQ(db.accepts(), 0) << "the literal password was sent to a database";
}

}  // namespace
}  // namespace outpost::test
