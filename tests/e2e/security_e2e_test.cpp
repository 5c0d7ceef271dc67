// Issue 6 acceptance with a real hub, real agents and a real PostgreSQL:
// secret references, the egress allowlist, --require-secret-refs, the audit
// log and its verifier, and a leak check of the agents' output.

#include <fstream>

#include "e2e/security_fixture.hpp"
#include "support/postgres_server.hpp"

namespace outpost::test {
namespace {

constexpr const char* kPgPassword = "pg-reader-pw-7Hq2Vx";
constexpr const char* kWrongPassword = "not-the-pw-K4t9Lm";

/// One PostgreSQL cluster for the whole suite (initdb is slow); a role
/// `reader` with kPgPassword. The constructor throws (failing the test) when
/// the server cannot start: no silent skip.
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

class SecurityPgE2E : public SecurityE2E {
 protected:
  void SetUp() override {
    ::unsetenv("PGPASS");
    secret(kPgPassword);
    secret(kWrongPassword);
  }

  std::string pg_source(const std::string& name, const std::string& password,
                        std::optional<std::uint16_t> port = std::nullopt) {
    Json config = pg().source_config("reader", password);
    if (port) config["port"] = *port;
    return admin_json("POST", "/sources",
                      {{"name", name}, {"type", "postgres"}, {"config", config}}, 201)
        .value("id", "");
  }

  /// An agent that may read ${env:PGPASS} (issue 14: --secret-env lists the
  /// variables references may name; none by default).
  Agent agent(const std::string& token, std::vector<std::string> extra = {},
              std::vector<std::pair<std::string, std::string>> env = {},
              std::optional<std::string> url = std::nullopt) {
    extra.insert(extra.end(), {"--secret-env", "PGPASS"});
    return SecurityE2E::agent(token, std::move(extra), std::move(env), std::move(url));
  }

  Json run_job(const std::string& source_id, int timeout_ms = 20000) {
    return wait_finished(create_job(source_id, "SELECT 41 + 1 AS answer", timeout_ms), 40s);
  }
};

TEST_F(SecurityPgE2E, EnvSecretReferenceResolvesOnTheAgentAndFailsWhenUnset) {
  start_hub();
  const std::string token = secret(create_token());
  const auto src = pg_source("pg-env", "${env:PGPASS}");

  {
    Agent a = agent(token, {}, {{"PGPASS", kPgPassword}});
    ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
    const Json ok = run_job(src);
    EXPECT_EQ(ok.value("status", ""), "succeeded") << ok.dump();
    EXPECT_EQ(ok.value("rows", Json()), Json::parse("[[42]]")) << ok.dump();
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  Agent b = agent(token);  // PGPASS not set
  ASSERT_TRUE(b.wait_for_msg("agent started", 20s));
  const Json failed = run_job(src);
  EXPECT_EQ(failed.value("status", ""), "failed") << failed.dump();
  EXPECT_EQ(failed["error"].value("code", ""), "secret_unresolved") << failed.dump();
  // The error names the reference, never a value.
  EXPECT_NE(failed["error"].value("message", "").find("PGPASS"), std::string::npos)
      << failed.dump();
  EXPECT_EQ(failed.dump().find(kPgPassword), std::string::npos);
}

TEST_F(SecurityPgE2E, AllowHostsRefusesLoopbackBeforeAnyConnection) {
  start_hub();
  const std::string token = secret(create_token());
  CountingListener listener;
  const auto src = pg_source("pg-forbidden", "${env:PGPASS}", listener.port());

  Agent a = agent(token, {"--allow-hosts", "10.0.0.0/8"}, {{"PGPASS", kPgPassword}});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  const Json denied = run_job(src);
  EXPECT_EQ(denied.value("status", ""), "failed") << denied.dump();
  EXPECT_EQ(denied["error"].value("code", ""), "egress_denied") << denied.dump();
  EXPECT_NE(denied["error"].value("message", "").find("127.0.0.1"), std::string::npos)
      << denied.dump();
  EXPECT_EQ(listener.accepts(), 0);
  a.process->signal(SIGTERM);
  EXPECT_EQ(exit_status(a), 0);

  // Control: without the allowlist the same job does dial the listener, so a
  // zero above means "never attempted", not "listener broken".
  Agent open = agent(token, {}, {{"PGPASS", kPgPassword}});
  ASSERT_TRUE(open.wait_for_msg("agent started", 20s));
  const Json dialled = run_job(src, 5000);
  EXPECT_EQ(dialled.value("status", ""), "failed") << dialled.dump();
  EXPECT_NE(dialled["error"].value("code", ""), "egress_denied") << dialled.dump();
  EXPECT_GE(listener.accepts(), 1);
}

TEST_F(SecurityPgE2E, RequireSecretRefsRefusesLiteralPasswordAcceptsReference) {
  start_hub();
  const std::string token = secret(create_token());
  const auto literal = pg_source("pg-literal", kPgPassword);
  const auto referenced = pg_source("pg-ref", "${env:PGPASS}");
  // The literal job aims at a counting listener: refused before any connection.
  CountingListener listener;
  const auto literal_listener = pg_source("pg-literal-listener", kPgPassword, listener.port());

  Agent a = agent(token, {"--require-secret-refs"}, {{"PGPASS", kPgPassword}});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  for (const auto& src : {literal, literal_listener}) {
    const Json refused = run_job(src);
    EXPECT_EQ(refused.value("status", ""), "failed") << refused.dump();
    EXPECT_EQ(refused["error"].value("code", ""), "invalid_job") << refused.dump();
    EXPECT_NE(refused["error"].value("message", "").find("password"), std::string::npos)
        << refused.dump();
    EXPECT_EQ(refused["error"].dump().find(kPgPassword), std::string::npos) << refused.dump();
  }
  EXPECT_EQ(listener.accepts(), 0);
  const Json ok = run_job(referenced);
  EXPECT_EQ(ok.value("status", ""), "succeeded") << ok.dump();
  EXPECT_EQ(ok.value("rows", Json()), Json::parse("[[42]]")) << ok.dump();
}

/// Runs `outpost-agent audit-verify path`; returns {exit status, stdout+stderr}.
std::pair<int, std::string> audit_verify(const std::filesystem::path& path) {
  Process p(
      Process::Options{{agent_binary(), "audit-verify", path.string()}, {}, std::nullopt, {}});
  const int status = p.wait(30s).value_or(-1);
  return {status, p.stdout_text() + p.stderr_text()};
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::filesystem::path& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << '\n';
}

TEST_F(SecurityE2E, AuditVerifyAcceptsRealLogAndFindsEditedDeletedSwappedLines) {
  start_hub();
  const std::string token = secret(create_token());
  const auto src = sqlite_source();
  const auto log = dir_.path() / "audit.jsonl";

  Agent a = agent(token, {"--audit-log", log.string()});
  ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
  for (int i = 0; i < 4; ++i) {
    const auto id = create_job(src, "SELECT name FROM items WHERE id <= " + std::to_string(i));
    EXPECT_EQ(wait_finished(id, 30s).value("status", ""), "succeeded");
  }
  a.process->signal(SIGTERM);
  ASSERT_EQ(exit_status(a), 0);

  const auto lines = read_lines(log);
  ASSERT_EQ(lines.size(), 4u);
  for (const auto& l : lines) {
    const Json j = Json::parse(l);
    EXPECT_EQ(j.value("source", ""), "warehouse") << l;
    EXPECT_EQ(j.value("outcome", ""), "succeeded") << l;
    EXPECT_EQ(l.find("SELECT"), std::string::npos) << "statement text in the audit log: " << l;
  }
  const Json second = Json::parse(lines[1]);
  EXPECT_EQ(second.value("rows", -1), 1);

  const auto intact = audit_verify(log);
  EXPECT_EQ(intact.first, 0) << intact.second;
  EXPECT_NE(intact.second.find("ok: 4 lines"), std::string::npos) << intact.second;

  auto check_bad = [&](const std::string& name, std::vector<std::string> altered, int bad_line) {
    const auto path = dir_.path() / name;
    write_lines(path, altered);
    const auto out = audit_verify(path);
    EXPECT_EQ(out.first, 1) << name << ": " << out.second;
    EXPECT_NE(out.second.find("line " + std::to_string(bad_line) + ":"), std::string::npos)
        << name << ": " << out.second;
  };
  auto edited = lines;
  const auto pos = edited[1].find("\"rows\":1,");
  ASSERT_NE(pos, std::string::npos) << edited[1];
  edited[1].replace(pos, 9, "\"rows\":7,");
  check_bad("edited.jsonl", edited, 2);

  auto deleted = lines;
  deleted.erase(deleted.begin() + 1);
  check_bad("deleted.jsonl", deleted, 2);

  auto swapped = lines;
  std::swap(swapped[1], swapped[2]);
  check_bad("swapped.jsonl", swapped, 2);
}

TEST_F(SecurityPgE2E, NoTokenOrPasswordInAnyAgentOutput) {
  start_hub();
  const std::string token = secret(create_token());
  const auto wrong_token = secret("wrong-token-c41f09d2e7");
  const auto good = pg_source("pg-good", "${env:PGPASS}");
  const auto bad = pg_source("pg-bad", kWrongPassword);
  const auto missing = pg_source("pg-missing", "${env:PG_NOT_SET}");
  const auto sqlite = sqlite_source();

  {
    // Debug logging: the most verbose the agent gets.
    Agent a = agent(token, {"--log-level", "debug"}, {{"PGPASS", kPgPassword}});
    ASSERT_TRUE(a.wait_for_msg("agent started", 20s));
    EXPECT_EQ(run_job(good).value("status", ""), "succeeded");
    const Json wrong = run_job(bad);
    EXPECT_EQ(wrong.value("status", ""), "failed") << wrong.dump();
    EXPECT_EQ(wrong["error"].value("code", ""), "auth_failed") << wrong.dump();
    EXPECT_EQ(run_job(missing)["error"].value("code", ""), "secret_unresolved");
    EXPECT_TRUE(query_succeeds(sqlite));
    const auto invalid = create_job(sqlite, "SELECT * FROM no_such_table");
    EXPECT_EQ(wait_finished(invalid, 30s).value("status", ""), "failed");
    a.process->signal(SIGTERM);
    EXPECT_EQ(exit_status(a), 0);
  }
  // A wrong token at start: exit 3, and neither token is echoed.
  Agent refused = agent(wrong_token, {"--log-level", "debug"});
  EXPECT_EQ(exit_status(refused), 3);
  EXPECT_NE(refused.process->stderr_text().find("401"), std::string::npos)
      << refused.process->stderr_text();

  // A TLS failure (nothing speaks TLS there: the hub is plain http).
  const std::string tls_url = "https://127.0.0.1:" + std::to_string(hub_port_) + "/api";
  Agent tls = agent(token, {"--log-level", "debug", "--max-retries", "2"}, {}, tls_url);
  EXPECT_EQ(exit_status(tls), 1);

  // The token given on the command line and through a file: still never printed.
  const auto token_file = dir_.path() / "token";
  std::ofstream(token_file) << wrong_token << "\n";
  Agent from_file = agent("", {"--token-file", token_file.string()});
  EXPECT_EQ(exit_status(from_file), 3);
  // (TearDown greps every agent's stdout and stderr for each secret.)
}

}  // namespace
}  // namespace outpost::test
