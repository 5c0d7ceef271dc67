// PostgreSQL connector: test_connection, config handling, egress checks.
#include <gtest/gtest.h>

#include "postgres_fixture.hpp"

namespace outpost::test::pg {
namespace {

using connectors::postgres::PostgresConnector;

JobResult test_connection(nlohmann::json config) {
  PostgresConnector connector;
  CollectingSink sink;
  return run(connector, make_job(JobType::kTestConnection, std::move(config)), sink);
}

TEST(PostgresConnection, ReportsVersionLatencyAndReadOnlyRole) {
  const auto r = test_connection(reader_config());
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["ok"], true);
  const auto version = r.result["server_version"].get<std::string>();
  EXPECT_EQ(version.rfind("PostgreSQL 15.", 0), 0u) << version;
  EXPECT_EQ(version.find(' ', 11), std::string::npos) << "no distribution suffix: " << version;
  ASSERT_TRUE(r.result["latency_ms"].is_number_integer());
  EXPECT_GE(r.result["latency_ms"].get<int>(), 0);
  EXPECT_EQ(r.result["role_can_write"], false);
  EXPECT_FALSE(r.result.contains("warnings"));
  EXPECT_EQ(r.result["database"], kDatabase);
  EXPECT_EQ(r.result["user"], "reader");
}

TEST(PostgresConnection, WarnsWhenTheRoleCanWrite) {
  const auto w = test_connection(config_for("writer", kWriterPassword));
  ASSERT_TRUE(w.ok()) << error_text(w);
  EXPECT_EQ(w.result["role_can_write"], true);
  EXPECT_EQ(w.result["write_privileges"], nlohmann::json::array({"table_write"}));
  ASSERT_EQ(w.result["warnings"].size(), 1u);
  EXPECT_NE(w.result["warnings"][0].get<std::string>().find("INSERT"), std::string::npos);

  // The superuser, here to show the report: exactly "superuser" (it implies the rest).
  const auto su = test_connection(config_for("postgres", server().superuser_password()));
  ASSERT_TRUE(su.ok()) << error_text(su);
  EXPECT_EQ(su.result["role_can_write"], true);
  EXPECT_EQ(su.result["write_privileges"], nlohmann::json::array({"superuser"}));
  EXPECT_EQ(su.result["privileges"][0]["name"], "superuser");
}

TEST(PostgresConnection, UnknownRoleIsAuthFailed) {
  const auto r = test_connection(config_for("nobody", "x"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kAuthFailed) << error_text(r);
}

TEST(PostgresConnection, ClosedPortIsUnreachable) {
  auto config = reader_config();
  config["port"] = free_port();
  const auto r = test_connection(config);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kUnreachable) << error_text(r);
  EXPECT_NE(r.error->message.find("refused"), std::string::npos) << r.error->message;
  EXPECT_TRUE(r.error->retryable);
}

TEST(PostgresConnection, WrongDatabaseIsUnreachableWithTheServerMessage) {
  const auto r = test_connection(config_for("reader", kReaderPassword, "no_such_db"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kUnreachable) << error_text(r);
  EXPECT_NE(r.error->message.find("database \"no_such_db\" does not exist"), std::string::npos);
  EXPECT_FALSE(r.error->retryable);
}

TEST(PostgresConnection, MissingConnectPrivilegeIsPermissionDenied) {
  const auto r = test_connection(config_for("noconnect", "nc-pw"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kPermissionDenied) << error_text(r);
}

TEST(PostgresConnection, TlsRequiredOnAPlainServerIsTlsError) {
  auto config = reader_config();
  config["sslmode"] = "require";
  const auto r = test_connection(config);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kTlsError) << error_text(r);
}

TEST(PostgresConnection, UnknownConfigKeyIsInvalidJobWithoutDialling) {
  auto config = reader_config();
  config["passwrod"] = "typo";
  PostgresConnector connector;
  CollectingSink sink;
  AllowingNetworkGuard guard;
  CancelToken cancel;
  const auto r = run(connector, make_job(JobType::kTestConnection, config), sink, guard, cancel);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob);
  EXPECT_NE(r.error->message.find("passwrod"), std::string::npos);
  EXPECT_EQ(guard.resolve_calls.load(), 0);

  for (auto [key, value] : {std::pair<std::string, nlohmann::json>{"port", "abc"},
                            {"port", 70000},
                            {"sslmode", "sometimes"},
                            {"connect_timeout", -1}}) {
    auto bad = reader_config();
    bad[key] = value;
    const auto e = run(connector, make_job(JobType::kTestConnection, bad), sink, guard, cancel);
    ASSERT_FALSE(e.ok()) << key;
    EXPECT_EQ(e.error->code, ErrorCode::kInvalidJob) << key << ": " << error_text(e);
  }
}

TEST(PostgresConnection, EgressDeniedIsReturnedWithoutConnecting) {
  PostgresConnector connector;
  CollectingSink sink;
  DenyingNetworkGuard guard;
  CancelToken cancel;
  const auto before =
      server().query_column("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'")[0];
  for (auto type : {JobType::kTestConnection, JobType::kMetadata, JobType::kQuery}) {
    const auto r =
        run(connector, make_job(type, reader_config(), {{"sql", "SELECT 1"}}), sink, guard, cancel);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->code, ErrorCode::kEgressDenied) << error_text(r);
  }
  EXPECT_EQ(guard.resolve_calls.load(), 3);
  EXPECT_EQ(
      server().query_column("SELECT count(*) FROM pg_stat_activity WHERE usename = 'reader'")[0],
      before);
  // A unix socket host goes through check_local_socket, also refused.
  auto socket_config = reader_config();
  socket_config["host"] = server().socket_dir().string();
  const auto s =
      run(connector, make_job(JobType::kTestConnection, socket_config), sink, guard, cancel);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error->code, ErrorCode::kEgressDenied) << error_text(s);
}

TEST(PostgresConnection, DsnAndUriAreParsedAndTheirHostIsChecked) {
  const auto port = std::to_string(server().port());
  const auto dsn = test_connection(
      {{"dsn", "host=127.0.0.1 port=" + port + " dbname=outpost_test user=reader sslmode=disable"},
       {"password", kReaderPassword}});
  ASSERT_TRUE(dsn.ok()) << error_text(dsn);
  EXPECT_EQ(dsn.result["database"], kDatabase);

  const auto uri =
      test_connection({{"uri", "postgresql://reader:" + std::string(kReaderPassword) +
                                   "@localhost:" + port + "/outpost_test?sslmode=disable"}});
  ASSERT_TRUE(uri.ok()) << error_text(uri);
  EXPECT_EQ(uri.result["user"], "reader");

  PostgresConnector connector;
  CollectingSink sink;
  DenyingNetworkGuard deny;
  CancelToken cancel;
  const auto denied = run(
      connector,
      make_job(JobType::kTestConnection, {{"dsn", "host=127.0.0.1 port=" + port + " user=reader"}}),
      sink, deny, cancel);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error->code, ErrorCode::kEgressDenied);

  for (const char* bad : {"service=prod", "host='unterminated", "nokey"}) {
    const auto r = test_connection({{"dsn", bad}});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error->code, ErrorCode::kInvalidJob) << bad << ": " << error_text(r);
  }
}

TEST(PostgresConnection, ConnectsOverTheUnixSocketWhenAllowed) {
  auto config = config_for("reader", "unused");
  config["host"] = server().socket_dir().string();  // local connections use trust
  const auto r = test_connection(config);
  ASSERT_TRUE(r.ok()) << error_text(r);
  EXPECT_EQ(r.result["user"], "reader");
}

}  // namespace
}  // namespace outpost::test::pg
