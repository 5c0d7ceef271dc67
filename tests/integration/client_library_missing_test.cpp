// Each connector opens its client library with dlopen on its first job
// (src/client_libs). When the library cannot be opened, the job fails with
// an `unsupported` error that names the library and the package to install,
// and the agent keeps running. The loaders are pointed at sonames that do
// not exist before anything opens the real ones; this binary links none of
// the client libraries.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <string>

#include "client_libs/libmariadb.hpp"
#include "client_libs/libodbc.hpp"
#include "client_libs/libodbcinst.hpp"
#include "client_libs/libpq.hpp"
#include "client_libs/libsqlite3.hpp"
#include "mysql/mysql_connector.hpp"
#include "odbc/odbc_connector.hpp"
#include "postgres/pg_connector.hpp"
#include "security/conninfo.hpp"
#include "sqlite/sqlite_connector.hpp"
#include "support/collecting_sink.hpp"

namespace outpost::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class ClientLibraryMissingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    client_libs::libpq().override_soname_for_testing("libpq-outpost-missing.so.5");
    client_libs::libmariadb().override_soname_for_testing("libmariadb-outpost-missing.so.3");
    client_libs::libodbc().override_soname_for_testing("libodbc-outpost-missing.so.2");
    client_libs::libodbcinst().override_soname_for_testing("libodbcinst-outpost-missing.so.2");
    client_libs::libsqlite3().override_soname_for_testing("libsqlite3-outpost-missing.so.0");
  }

  JobResult run(Connector& connector, const std::string& type, nlohmann::json config) {
    Job job;
    job.id = "job_1";
    job.type = JobType::kTestConnection;
    job.timeout = 10s;
    job.source.type = type;
    job.source.config = std::move(config);
    CollectingSink sink;
    CancelToken cancel;
    JobContext ctx{job, sink, cancel, guard_, Clock::now() + job.timeout, policy_};
    return connector.run(ctx);
  }

  static void expect_missing(const JobResult& r, const std::string& soname,
                             const std::string& package) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error->code, ErrorCode::kUnsupported);
    EXPECT_NE(r.error->message.find("client library " + soname + " is not installed"),
              std::string::npos)
        << r.error->message;
    EXPECT_NE(r.error->message.find("apt-get install " + package), std::string::npos)
        << r.error->message;
    EXPECT_FALSE(r.error->retryable);
  }

  AllowingNetworkGuard guard_;
  OperatorPolicy policy_;
};

TEST_F(ClientLibraryMissingTest, PostgresJobNamesLibpq) {
  connectors::postgres::PostgresConnector connector;
  const auto r =
      run(connector, "postgres", {{"host", "127.0.0.1"}, {"user", "u"}, {"dbname", "d"}});
  expect_missing(r, "libpq-outpost-missing.so.5", "libpq5");
  // A second job gets the same answer (the load is attempted once).
  expect_missing(run(connector, "postgres", {{"host", "127.0.0.1"}}), "libpq-outpost-missing.so.5",
                 "libpq5");
}

TEST_F(ClientLibraryMissingTest, MysqlJobNamesLibmariadb) {
  connectors::mysql::MysqlConnector connector;
  const auto r = run(connector, "mysql", {{"host", "127.0.0.1"}, {"user", "u"}});
  expect_missing(r, "libmariadb-outpost-missing.so.3", "libmariadb3");
}

TEST_F(ClientLibraryMissingTest, OdbcJobNamesLibodbc) {
  connectors::odbc::OdbcConnector connector;
  const auto r = run(connector, "odbc", {{"driver", "PostgreSQL Unicode"}});
  expect_missing(r, "libodbc-outpost-missing.so.2", "libodbc2");
}

TEST_F(ClientLibraryMissingTest, SqliteJobNamesLibsqlite3) {
  connectors::sqlite::SqliteConnector connector;
  const auto r = run(connector, "sqlite", {{"path", "/nonexistent/app.db"}});
  expect_missing(r, "libsqlite3-outpost-missing.so.0", "libsqlite3-0");
}

TEST_F(ClientLibraryMissingTest, ForwarderCalledWithoutLibraryThrows) {
  // A caller that skipped load(): a C++ exception the job runner reports,
  // never a call through a null pointer.
  char* error = nullptr;
  try {
    (void)PQconninfoParse("host=127.0.0.1", &error);
    FAIL() << "PQconninfoParse returned without libpq";
  } catch (const client_libs::ClientLibraryUnavailable& e) {
    EXPECT_EQ(error, nullptr);
    EXPECT_NE(std::string(e.what()).find("PQconninfoParse: the PostgreSQL client library"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(ClientLibraryMissingTest, ConninfoWithoutLibpqIsNotParsed) {
  EXPECT_FALSE(security::parse_libpq_conninfo("host=h password=p").has_value());
}

}  // namespace
}  // namespace outpost::test
