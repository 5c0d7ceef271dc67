// MySQL connector TLS modes against a MariaDB serving a certificate from a
// throwaway CA (made with the openssl CLI).
#include <gtest/gtest.h>

#include <fstream>

#include "integration/mysql_test_support.hpp"
#include "mysql/mysql_connector.hpp"
#include "support/mariadb_server.hpp"
#include "support/process.hpp"

namespace outpost::test {
namespace {

using namespace std::chrono_literals;
using connectors::mysql::MysqlConnector;

void run_openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  Process p(Process::Options{argv, {}, std::nullopt, {}});
  if (p.wait(60s) != 0) throw std::runtime_error("openssl failed: " + p.stderr_text());
}

class MysqlTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      certs_ = new TempDir();
      const auto d = certs_->path();
      auto f = [&](const char* name) { return (d / name).string(); };
      run_openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("ca.key"), "-out",
                   f("ca.pem"), "-days", "2", "-subj", "/CN=outpost test CA"});
      run_openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("server.key"), "-out",
                   f("server.csr"), "-subj", "/CN=localhost"});
      std::ofstream(f("ext.cnf")) << "subjectAltName=DNS:localhost\n";
      run_openssl({"x509", "-req", "-in", f("server.csr"), "-CA", f("ca.pem"), "-CAkey",
                   f("ca.key"), "-CAcreateserial", "-out", f("server.pem"), "-days", "2",
                   "-extfile", f("ext.cnf")});
      server_ = new MariaDbServer({"--ssl-ca=" + f("ca.pem"), "--ssl-cert=" + f("server.pem"),
                                   "--ssl-key=" + f("server.key")});
      server_->execute(
          "CREATE USER 'reader'@'127.0.0.1' IDENTIFIED BY 'reader-pw';"
          "GRANT SELECT ON *.* TO 'reader'@'127.0.0.1';");
    } catch (const std::exception& e) {
      start_error_ = new std::string(e.what());
    }
  }
  static void TearDownTestSuite() {
    delete server_;
    delete certs_;
    server_ = nullptr;
    certs_ = nullptr;
  }
  void SetUp() override {
    ASSERT_EQ(start_error_, nullptr) << *start_error_;
    ASSERT_NE(server_, nullptr);
  }
  static Job job(nlohmann::json config) {
    Job j;
    j.id = "job_tls";
    j.type = JobType::kQuery;
    j.timeout = 30s;
    j.source = Source{"src_tls", "tls", "mysql", std::move(config), ""};
    outpost::test::set_params(j, nlohmann::json{{"sql", "SHOW SESSION STATUS LIKE 'Ssl_cipher'"}});
    return j;
  }
  static nlohmann::json config(const std::string& mode, const std::string& host = "127.0.0.1") {
    nlohmann::json c{{"host", host},     {"port", server_->port()},
                     {"user", "reader"}, {"password", "reader-pw"},
                     {"ssl_mode", mode}, {"connect_timeout", 5}};
    if (mode.rfind("verify", 0) == 0) c["ssl_ca"] = (certs_->path() / "ca.pem").string();
    return c;
  }
  static std::string cipher(const CollectingRows& sink) {
    return sink.rows.empty() ? "" : sink.rows[0][1].get<std::string>();
  }

  static inline MariaDbServer* server_ = nullptr;
  static inline TempDir* certs_ = nullptr;
  static inline std::string* start_error_ = nullptr;
  MysqlConnector connector_;
  TestNetworkGuard guard_;
};

TEST_F(MysqlTlsTest, RequiredUsesTls) {
  CollectingRows sink;
  auto r = run_job(connector_, job(config("required")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_FALSE(cipher(sink).empty());
}

TEST_F(MysqlTlsTest, PreferredUsesTlsWhenOffered) {
  CollectingRows sink;
  auto r = run_job(connector_, job(config("preferred")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_FALSE(cipher(sink).empty());
}

TEST_F(MysqlTlsTest, DisabledStaysPlain) {
  CollectingRows sink;
  auto r = run_job(connector_, job(config("disabled")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_TRUE(cipher(sink).empty());
}

TEST_F(MysqlTlsTest, VerifyIdentityAcceptsTheRightCaAndName) {
  CollectingRows sink;
  auto r = run_job(connector_, job(config("verify_identity", "localhost")), sink, guard_);
  ASSERT_TRUE(r.ok()) << r.error->message;
  EXPECT_FALSE(cipher(sink).empty());
}

TEST_F(MysqlTlsTest, VerifyIdentityRefusesAnotherCa) {
  auto c = config("verify_identity", "localhost");
  c["ssl_ca"] = "/etc/ssl/certs/ca-certificates.crt";
  CollectingRows sink;
  auto r = run_job(connector_, job(c), sink, guard_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error->code), "tls_error") << r.error->message;
}

TEST_F(MysqlTlsTest, VerifyIdentityRefusesANameTheCertificateLacks) {
  // The certificate names "localhost" only; 127.0.0.1 is not in it.
  CollectingRows sink;
  auto r = run_job(connector_, job(config("verify_identity", "127.0.0.1")), sink, guard_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error->code), "tls_error") << r.error->message;
}

/// Permits exactly one address for every name, as an egress policy would.
class FixedGuard final : public NetworkGuard {
 public:
  explicit FixedGuard(std::string address) : address_(std::move(address)) {}
  [[nodiscard]] ResolvedHost resolve(std::string_view, std::uint16_t) const override {
    return ResolvedHost{{address_}, std::nullopt};
  }
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view) const override {
    return std::nullopt;
  }
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view) const override {
    return std::nullopt;
  }

 private:
  std::string address_;
};

TEST_F(MysqlTlsTest, VerifyIdentityDialsOnlyTheAddressThePolicyPermitted) {
  // The policy says "localhost" is 127.0.0.2, where nothing listens. Before
  // issue 14, Connector/C resolved the name itself and reached 127.0.0.1;
  // now only the permitted address is dialled, and the name is only what the
  // certificate must match.
  const auto connections = [] {
    return std::stoll(server_->scalar(
        "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = "
        "'CONNECTIONS'"));
  };
  const auto before = connections();
  FixedGuard guard("127.0.0.2");
  CollectingRows sink;
  auto r = run_job(connector_, job(config("verify_identity", "localhost")), sink, guard);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(to_string(r.error->code), std::string("unreachable")) << r.error->message;
  EXPECT_EQ(connections() - before, 1) << "only the re-read itself connected";
  // The same policy pointing at the server's address works, name verified.
  FixedGuard right("127.0.0.1");
  CollectingRows ok;
  auto good = run_job(connector_, job(config("verify_identity", "localhost")), ok, right);
  ASSERT_TRUE(good.ok()) << good.error->message;
  EXPECT_FALSE(cipher(ok).empty());
}

}  // namespace
}  // namespace outpost::test
