// MySQL/MariaDB connector against a real, throwaway MariaDB server: the three
// job types, every failure class, read-only refusal, cancellation, pooling.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

#include "integration/mysql_fixture.hpp"

namespace outpost::test {
namespace {

TEST_F(MysqlConnectorTest, RegistersAsMysqlAndMariadb) {
  ConnectorRegistry registry;
  connectors::mysql::register_connector(registry);
  ASSERT_NE(registry.find("mysql"), nullptr);
  EXPECT_EQ(registry.find("mysql"), registry.find("mariadb"));
  EXPECT_EQ(registry.all().size(), 1U);
}

TEST_F(MysqlConnectorTest, TestConnectionReportsVersionLatencyAndReadOnlyLogin) {
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, config()), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result["ok"], true);
  EXPECT_EQ(r.result["server_version"].get<std::string>().rfind("MariaDB 10.", 0), 0U)
      << r.result.dump();
  EXPECT_GE(r.result["latency_ms"].get<int>(), 0);
  EXPECT_EQ(r.result["role_can_write"], false);
  EXPECT_EQ(r.result["database"], "shop");
  EXPECT_EQ(r.result["user"], "reader@127.0.0.1");
  EXPECT_FALSE(r.result.contains("warnings"));
}

TEST_F(MysqlConnectorTest, TestConnectionWarnsWhenTheLoginCanWrite) {
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, config("writer", "writer-pw")), sink,
                   guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result["role_can_write"], true);
  EXPECT_EQ(r.result["warnings"].size(), 1U);
  EXPECT_EQ(r.result["write_privileges"][0], "ALL PRIVILEGES ON `shop`.*") << r.result.dump();
}

TEST_F(MysqlConnectorTest, ClosedPortIsUnreachable) {
  auto source = config();
  source["port"] = free_port();
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_EQ(code(r), "unreachable") << (r.error ? r.error->message : "");
  EXPECT_TRUE(r.error->retryable);
}

TEST_F(MysqlConnectorTest, UnknownDatabaseIsReported) {
  // A login with global SELECT learns that the database does not exist (1049);
  // reported as the postgres connector does: unreachable, not retryable.
  auto source = config("auditor", "auditor-pw");
  source["database"] = "no_such_db";
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_EQ(code(r), "unreachable") << (r.error ? r.error->message : "");
  EXPECT_FALSE(r.error->retryable);
  EXPECT_NE(r.error->message.find("1049"), std::string::npos) << r.error->message;
}

TEST_F(MysqlConnectorTest, DatabaseWithoutGrantIsPermissionDenied) {
  auto source = config("limited", "limited-pw");
  source["database"] = "other";
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_EQ(code(r), "permission_denied") << (r.error ? r.error->message : "");
  EXPECT_NE(r.error->message.find("1044"), std::string::npos);
}

TEST_F(MysqlConnectorTest, TableWithoutGrantIsPermissionDenied) {
  CollectingRows sink;
  auto r = query("SELECT * FROM shop.secret", sink, config("limited", "limited-pw"));
  ASSERT_EQ(code(r), "permission_denied") << (r.error ? r.error->message : "");
  EXPECT_NE(r.error->message.find("1142"), std::string::npos);
}

TEST_F(MysqlConnectorTest, SilentServerIsTimeout) {
  // A socket that completes the TCP handshake (backlog) but never greets.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto source = config();
  source["port"] = ntohs(addr.sin_port);
  source["connect_timeout"] = 1;
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ::close(fd);
  ASSERT_EQ(code(r), "timeout") << (r.error ? r.error->message : "");
}

TEST_F(MysqlConnectorTest, RequiredTlsAgainstPlainServerIsTlsError) {
  auto source = config();
  source["ssl_mode"] = "required";
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_EQ(code(r), "tls_error") << (r.error ? r.error->message : "");
}

TEST_F(MysqlConnectorTest, VerifiedTlsAgainstPlainServerIsTlsError) {
  auto source = config();
  source["ssl_mode"] = "verify_identity";
  source["ssl_ca"] = "/etc/ssl/certs/ca-certificates.crt";
  source["host"] = "localhost";
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_EQ(code(r), "tls_error") << (r.error ? r.error->message : "");
}

TEST_F(MysqlConnectorTest, PreferredTlsFallsBackToPlain) {
  auto source = config();
  source["ssl_mode"] = "preferred";
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, source), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
}

TEST_F(MysqlConnectorTest, BadConfigIsInvalidJob) {
  CollectingRows sink;
  auto typo = config();
  typo["passwrod"] = "x";
  auto r = run_job(connector_, job(JobType::kQuery, typo, {{"sql", "SELECT 1"}}), sink, guard_);
  ASSERT_EQ(code(r), "invalid_job");
  EXPECT_NE(r.error->message.find("passwrod"), std::string::npos);
  auto no_host = config();
  no_host.erase("host");
  EXPECT_EQ(
      code(run_job(connector_, job(JobType::kQuery, no_host, {{"sql", "SELECT 1"}}), sink, guard_)),
      "invalid_job");
  auto bad_mode = config();
  bad_mode["ssl_mode"] = "sometimes";
  EXPECT_EQ(code(run_job(connector_, job(JobType::kTestConnection, bad_mode), sink, guard_)),
            "invalid_job");
}

TEST_F(MysqlConnectorTest, EgressPolicyIsAppliedBeforeDialling) {
  TestNetworkGuard deny(true);
  CollectingRows sink;
  auto r = run_job(connector_, job(JobType::kTestConnection, config()), sink, deny);
  ASSERT_EQ(code(r), "egress_denied");
}

TEST_F(MysqlConnectorTest, MetadataListsTablesViewsAndColumns) {
  CollectingRows sink;
  auto r =
      run_job(connector_, job(JobType::kMetadata, config("reader", "reader-pw")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(r.result["database"], "shop");
  for (const auto& t : sink.tables) {
    EXPECT_NE(t["schema"], "mysql");
    EXPECT_NE(t["schema"], "information_schema");
    EXPECT_NE(t["schema"], "performance_schema");
  }
  const auto orders = sink.table("shop", "orders");
  ASSERT_FALSE(orders.is_null()) << nlohmann::json(sink.tables).dump();
  EXPECT_EQ(orders["kind"], "table");
  EXPECT_TRUE(orders["row_estimate"].is_number());
  ASSERT_EQ(orders["columns"].size(), 3U);
  EXPECT_EQ(orders["columns"][0], (nlohmann::json{{"name", "id"},
                                                  {"type", "int(11)"},
                                                  {"nullable", false},
                                                  {"ordinal", 1},
                                                  {"generated", false}}));
  EXPECT_EQ(orders["columns"][1]["type"], "decimal(10,2)");
  EXPECT_EQ(orders["columns"][2]["nullable"], true);
  const auto view = sink.table("shop", "big_orders");
  ASSERT_FALSE(view.is_null());
  EXPECT_EQ(view["kind"], "view");
  EXPECT_TRUE(view["row_estimate"].is_null());
  EXPECT_EQ(view["columns"].size(), 2U);
  const auto types = sink.table("shop", "types");
  ASSERT_FALSE(types.is_null());
  EXPECT_EQ(types["columns"].size(), 28U);
  EXPECT_EQ(types["columns"][6]["type"], "bigint(20) unsigned");
  EXPECT_EQ(types["columns"][27]["ordinal"], 28);
  // The reader login cannot see schema `other`, so it is simply absent.
  EXPECT_TRUE(sink.table("other", "hidden").is_null());
}

TEST_F(MysqlConnectorTest, MetadataHonoursSchemaFilterAndIncludeViews) {
  CollectingRows sink;
  auto params = nlohmann::json{{"schemas", {"shop"}}, {"include_views", false}};
  // root-equivalent visibility is not needed: `reader` sees shop only anyway,
  // so filter on a schema it cannot see to check the filter empties the list.
  auto r = run_job(connector_, job(JobType::kMetadata, config("reader", "reader-pw"), params), sink,
                   guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_EQ(sink.tables.size(), 3U);  // orders, secret, types
  EXPECT_TRUE(sink.table("shop", "big_orders").is_null());
  CollectingRows none;
  auto r2 =
      run_job(connector_,
              job(JobType::kMetadata, config("reader", "reader-pw"), {{"schemas", {"nowhere"}}}),
              none, guard_);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(none.tables.empty());
}

}  // namespace
}  // namespace outpost::test
