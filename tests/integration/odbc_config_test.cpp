// Pure checks of the ODBC connector's config, attribute allow-lists, SQL
// statement lexer and text handling (no driver, a fake driver catalog).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "odbc/odbc_attributes.hpp"
#include "odbc/odbc_config.hpp"
#include "odbc/odbc_sql_guard.hpp"
#include "odbc/odbc_values.hpp"
#include "support/process.hpp"

namespace outpost::connectors::odbc {
namespace {

class FakeCatalog final : public DriverCatalog {
 public:
  [[nodiscard]] std::optional<DriverEntry> driver(std::string_view name) const override {
    for (const auto& d : drivers) {
      if (odbc_key(d.name) == odbc_key(name)) return d;
    }
    return std::nullopt;
  }
  [[nodiscard]] std::optional<DsnEntry> dsn(std::string_view name) const override {
    for (const auto& d : dsns) {
      if (d.name == name) return d;
    }
    return std::nullopt;
  }
  std::vector<DriverEntry> drivers{
      {"PostgreSQL Unicode", "psqlodbcw.so", DriverKind::kPsqlOdbc},
      {"SQLite3", "/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so", DriverKind::kSqliteOdbc},
      {"Other", "libother.so", DriverKind::kOther}};
  std::vector<DsnEntry> dsns{
      {"pgdsn",
       "PostgreSQL Unicode",
       DriverKind::kPsqlOdbc,
       {{"Servername", "db.internal", false}, {"Port", "5433", false}}},
      {"evil",
       "PostgreSQL Unicode",
       DriverKind::kPsqlOdbc,
       {{"Servername", "db.internal", false}, {"ConnSettings", "DELETE FROM t", false}}}};
};

class OdbcConfigTest : public ::testing::Test {
 protected:
  OdbcConfigTest() {
    policy_.sqlite_dirs.push_back(std::filesystem::canonical(dir_.path()).string());
    db_ = policy_.sqlite_dirs[0] + "/shop.db";
    std::ofstream(db_) << "";
  }
  ParsedConfig parse(const std::string& text) {
    return parse_config({{"connection_string", text}}, catalog_, policy_);
  }
  std::string refusal(const std::string& text) {
    auto r = parse(text);
    EXPECT_FALSE(r.config) << text;
    return r.error;
  }

  test::TempDir dir_;
  test::TempDir outside_;
  FakeCatalog catalog_;
  OperatorPolicy policy_;
  std::string db_;
};

TEST_F(OdbcConfigTest, PsqlOdbcStringIsRebuiltWithTheCheckedAddress) {
  auto r = parse("Driver={postgresql unicode};SERVER=db.internal;Port=5433;Uid=u;Pwd={a;b}");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->kind, DriverKind::kPsqlOdbc);
  EXPECT_EQ(r.config->host, "db.internal");
  EXPECT_EQ(r.config->port, 5433);
  // The name stays for TLS; libpq dials the checked address (hostaddr).
  EXPECT_EQ(connection_string(*r.config, "10.0.0.5"),
            "Driver=PostgreSQL Unicode;Server=db.internal;pqopt={hostaddr=10.0.0.5};Port=5433;"
            "Uid=u;Pwd={a;b};Debug=0;CommLog=0;UseDeclareFetch=1;Fetch=1000;BoolsAsChar=0;");
  auto numeric = parse("Driver={PostgreSQL Unicode};Server=10.0.0.5;Pwd=a+b%41");
  ASSERT_TRUE(numeric.config) << numeric.error;
  EXPECT_EQ(connection_string(*numeric.config, "10.0.0.5"),
            "Driver=PostgreSQL Unicode;Server=10.0.0.5;Port=5432;Pwd={a+b%41};"
            "Debug=0;CommLog=0;UseDeclareFetch=1;Fetch=1000;BoolsAsChar=0;")
      << "a bare password would be URL-decoded by psqlODBC";
}

TEST_F(OdbcConfigTest, PsqlOdbcWithoutServerMeansTheDefaultSocketDirectory) {
  auto r = parse("Driver={PostgreSQL Unicode};Uid=u");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_TRUE(r.config->socket);
  EXPECT_EQ(r.config->host, "/var/run/postgresql");
  auto dir = parse("Driver={PostgreSQL Unicode};Server=/tmp/pg");
  ASSERT_TRUE(dir.config) << dir.error;
  EXPECT_TRUE(dir.config->socket);
  EXPECT_NE(refusal("Driver={PostgreSQL Unicode};Server=a,b").find("one host"), std::string::npos);
}

TEST_F(OdbcConfigTest, PsqlOdbcAllowListRefusesDangerousKeysAndAbbreviations) {
  for (const std::string key : {"ConnSettings",
                                "A6",
                                "a6",
                                "pqopt",
                                "D5",
                                "Debug",
                                "B2",
                                "CommLog",
                                "B3",
                                "CX",
                                "AB",
                                "Logdir",
                                "Protocol",
                                "A1",
                                "ReadOnly",
                                "A0",
                                "UseDeclareFetch",
                                "FILEDSN",
                                "SAVEFILE",
                                "Servername2"}) {
    const auto error = refusal("Driver={PostgreSQL Unicode};Server=h;" + key + "=1");
    EXPECT_NE(error.find("\"" + key + "\""), std::string::npos) << key << ": " << error;
    EXPECT_NE(error.find("not allowed"), std::string::npos) << error;
  }
  EXPECT_NE(refusal("Driver={PostgreSQL Unicode};Server=h;A6={SELECT 1}").find("SQL at connect"),
            std::string::npos);
}

TEST_F(OdbcConfigTest, DriverMustBeARegisteredSectionNeverAPath) {
  EXPECT_NE(refusal("Driver=/tmp/evil.so;Server=x").find("not a path"), std::string::npos);
  EXPECT_NE(refusal("Driver={../evil.so};Server=x").find("not a path"), std::string::npos);
  EXPECT_NE(refusal("Driver=evil.so;Server=x").find("not registered"), std::string::npos);
  EXPECT_NE(refusal("Server=x").find("Driver="), std::string::npos);
  EXPECT_NE(refusal("Driver=Other;DSN=pgdsn").find("not both"), std::string::npos);
}

TEST_F(OdbcConfigTest, DuplicatesAndAliasesOfOneSettingAreRefused) {
  EXPECT_NE(refusal("Driver={PostgreSQL Unicode};Server=a;server=b").find("twice"),
            std::string::npos);
  EXPECT_NE(refusal("Driver={PostgreSQL Unicode};Server=a;Servername=b").find("second time"),
            std::string::npos);
  EXPECT_NE(refusal("Driver={PostgreSQL Unicode};Server=a;PWD=x;Password=y").find("second"),
            std::string::npos);
}

TEST_F(OdbcConfigTest, ValuesAreChecked) {
  EXPECT_FALSE(parse("Driver={PostgreSQL Unicode};Server=h;Port=0").config);
  EXPECT_FALSE(parse("Driver={PostgreSQL Unicode};Server=h;SSLmode=bogus").config);
  EXPECT_FALSE(parse("Driver={PostgreSQL Unicode};Server=h;Fetch=-1").config);
  auto leaked = parse("Driver={PostgreSQL Unicode};Pwd=s3cr3t;Port=abc");
  ASSERT_FALSE(leaked.config);
  EXPECT_EQ(leaked.error.find("s3cr3t"), std::string::npos);
  auto broken = parse("Driver={PostgreSQL Unicode};Pwd={s3cr3t");
  ASSERT_FALSE(broken.config);
  EXPECT_EQ(broken.error.find("s3cr3t"), std::string::npos);
  EXPECT_NE(broken.error.find("never closed"), std::string::npos);
}

TEST_F(OdbcConfigTest, SqliteDatabaseMustBeUnderSqliteDirsAndOpensReadOnly) {
  auto r = parse("Driver=SQLite3;Database=" + db_ + ";Timeout=1000");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->sqlite_path, db_);
  EXPECT_EQ(connection_string(*r.config, ""),
            "Driver=SQLite3;Database=file:" + db_ + "?mode=ro;NoCreat=1;Timeout=1000;");
  // Outside, existing or not: the same message.
  const auto existing = (outside_.path() / "x.db").string();
  std::ofstream(existing) << "";
  const auto a = refusal("Driver=SQLite3;Database=" + existing);
  const auto b = refusal("Driver=SQLite3;Database=" + (outside_.path() / "nope.db").string());
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find("--sqlite-dirs"), std::string::npos);
  EXPECT_EQ(refusal("Driver=SQLite3;Database=" + policy_.sqlite_dirs[0] + "/../x.db"), a);
  EXPECT_NE(refusal("Driver=SQLite3;Database=file:" + db_ + "?mode=rwc").find("absolute"),
            std::string::npos);
  // A link inside the directory to a file outside it.
  std::filesystem::create_symlink(existing, policy_.sqlite_dirs[0] + "/link.db");
  EXPECT_EQ(refusal("Driver=SQLite3;Database=" + policy_.sqlite_dirs[0] + "/link.db"), a);
  OperatorPolicy none;
  EXPECT_FALSE(
      parse_config({{"connection_string", "Driver=SQLite3;Database=" + db_}}, catalog_, none)
          .config);
}

TEST_F(OdbcConfigTest, SqliteAllowListRefusesCodeLoadingLoggingAndWrites) {
  for (const std::string key :
       {"LoadExt", "Tracefile", "NoTXN", "JournalMode", "SyncPragma", "NoCreat", "PWD", "OEMCP"}) {
    const auto error = refusal("Driver=SQLite3;Database=" + db_ + ";" + key + "=1");
    EXPECT_NE(error.find("\"" + key + "\""), std::string::npos) << key << ": " << error;
  }
  EXPECT_FALSE(parse("Driver=SQLite3;Database=" + db_ + ";Timeout={1;LoadExt=x}").config);
  EXPECT_FALSE(parse("Driver=SQLite3;Database=" + db_ + ";StepAPI=2").config);
}

TEST_F(OdbcConfigTest, DsnSectionsAreCheckedToo) {
  auto ok = parse_config({{"dsn", "pgdsn"}, {"user", "u"}, {"password", "p;w"}}, catalog_, policy_);
  ASSERT_TRUE(ok.config) << ok.error;
  EXPECT_EQ(ok.config->dsn, "pgdsn");
  EXPECT_EQ(ok.config->host, "db.internal") << "the DSN's server is checked like any other";
  EXPECT_EQ(ok.config->port, 5433);
  EXPECT_EQ(connection_string(*ok.config, "10.1.1.1"),
            "DSN=pgdsn;Server=db.internal;pqopt={hostaddr=10.1.1.1};Port=5433;UID=u;PWD={p;w};"
            "Debug=0;CommLog=0;UseDeclareFetch=1;Fetch=1000;BoolsAsChar=0;");
  auto evil = parse_config({{"dsn", "evil"}}, catalog_, policy_);
  ASSERT_FALSE(evil.config);
  EXPECT_NE(evil.error.find("odbc.ini"), std::string::npos) << evil.error;
  EXPECT_NE(evil.error.find("ConnSettings"), std::string::npos) << evil.error;
  EXPECT_FALSE(parse_config({{"dsn", "nope"}}, catalog_, policy_).config);
  EXPECT_FALSE(
      parse_config({{"dsn", "pgdsn"}, {"attributes", {{"A6", "x"}}}}, catalog_, policy_).config);
}

TEST_F(OdbcConfigTest, OtherDriversGetTheGenericListAndMustNameTheServer) {
  auto r = parse("Driver=Other;Server=sql.internal,1444;UID=u");
  ASSERT_TRUE(r.config) << r.error;
  EXPECT_EQ(r.config->host, "sql.internal");
  EXPECT_EQ(r.config->port, 1444);
  EXPECT_EQ(connection_string(*r.config, "10.0.0.5"), "Driver=Other;Server=10.0.0.5,1444;UID=u;");
  EXPECT_FALSE(parse("Driver=Other;Database=x").config);
  EXPECT_FALSE(parse("Driver=Other;Server=h;INITSTMT=x").config);
}

TEST_F(OdbcConfigTest, ConfigKeysAreStrict) {
  EXPECT_FALSE(parse_config(nlohmann::json::object(), catalog_, policy_).config);
  EXPECT_FALSE(parse_config({{"connection_string", "Driver=Other;Server=h"}, {"dsn", "pgdsn"}},
                            catalog_, policy_)
                   .config);
  EXPECT_FALSE(parse_config({{"conection_string", "x"}}, catalog_, policy_).config);
  EXPECT_TRUE(parse_config({{"connection_string", "Driver=Other;Server=h"},
                            {"allow_privileged_login", true},
                            {"pin_address", true}},
                           catalog_, policy_)
                  .config);
}

TEST(OdbcSqliteUri, PathIsEscapedForTheUri) {
  EXPECT_EQ(sqlite_readonly_uri("/d/a?b#c%d e.db"), "file:/d/a%3Fb%23c%25d%20e.db?mode=ro");
}

// --- statement lexer -------------------------------------------------------

std::optional<std::string> refused(std::string_view sql, SqlDialect d = SqlDialect::kPostgres) {
  return check_statement(sql, d).refusal;
}

TEST(OdbcStatement, OneStatementOnlyWithLiteralsCommentsAndDollarQuotesRespected) {
  EXPECT_TRUE(refused("COMMIT; SET TRANSACTION READ WRITE; INSERT INTO t VALUES (1)"));
  EXPECT_TRUE(refused("SELECT 1; SELECT 2"));
  EXPECT_TRUE(refused("SELECT 1;DELETE FROM t"));
  EXPECT_FALSE(refused("SELECT 'a;b', \"c;d\" FROM t -- x; y\n"));
  EXPECT_FALSE(refused("SELECT $$a;COMMIT$$, $tag$ ; $x$ ; $tag$"));
  EXPECT_FALSE(refused("SELECT /* ; COMMIT */ 1;"));
  EXPECT_FALSE(refused("SELECT 'it''s; fine'"));
  EXPECT_TRUE(refused("SELECT E'\\''; COMMIT; --'"));
  EXPECT_FALSE(refused("SELECT E'\\'; x'"));
  EXPECT_TRUE(refused("SELECT '\\'; COMMIT; --'")) << "standard strings: the backslash is a char";
  EXPECT_TRUE(refused("SELECT /* /* */ 1; COMMIT */"));
  EXPECT_TRUE(refused("SELECT 'unterminated"));
  EXPECT_TRUE(refused("SELECT $$unterminated"));
  EXPECT_TRUE(refused(";"));
  EXPECT_TRUE(refused("-- only a comment"));
  EXPECT_EQ(check_statement("  -- lead\n SELECT 1 ; -- trail", SqlDialect::kPostgres).sql,
            "SELECT 1");
  EXPECT_EQ(check_statement("SELECT $1::int", SqlDialect::kPostgres).sql, "SELECT $1::int");
}

TEST(OdbcStatement, TransactionControlAndSessionStatementsAreRefused) {
  for (const char* sql : {"COMMIT",
                          "commit work",
                          "ROLLBACK",
                          "BEGIN",
                          "START TRANSACTION READ WRITE",
                          "END",
                          "ABORT",
                          "SAVEPOINT a",
                          "RELEASE a",
                          "PREPARE TRANSACTION 'x'",
                          "COMMIT PREPARED 'x'",
                          "SET TRANSACTION READ WRITE",
                          "SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE",
                          "set default_transaction_read_only = off",
                          "RESET ALL",
                          "DISCARD ALL",
                          "LOAD 'x'",
                          "(COMMIT)",
                          "LOCK TABLE t",
                          "DECLARE c CURSOR WITH HOLD FOR SELECT 1"}) {
    EXPECT_TRUE(refused(sql)) << sql;
  }
  for (const char* sql : {"PRAGMA query_only = 0", "ATTACH '/etc/x.db' AS x", "DETACH x",
                          "VACUUM INTO '/tmp/copy.db'", "pragma journal_mode=wal"}) {
    EXPECT_TRUE(refused(sql, SqlDialect::kSqlite)) << sql;
  }
  EXPECT_FALSE(refused("SELECT settings FROM t WHERE x = 'COMMIT'"));
  EXPECT_FALSE(refused("SELECT \"commit\" FROM t"));
  EXPECT_FALSE(refused("WITH x AS (SELECT 1) SELECT * FROM x"));
  EXPECT_FALSE(refused("SHOW transaction_read_only"));
}

TEST(OdbcStatement, CodeLoadingFunctionsAreRefusedHoweverQuoted) {
  for (const char* sql :
       {"SELECT load_extension('/tmp/x.so')", "SELECT LOAD_EXTENSION ('/tmp/x.so')",
        "SELECT \"load_extension\"('/tmp/x.so')", "SELECT [load_extension]('x')",
        "SELECT `load_extension`('x')", "SELECT load_extension/**/('x')",
        "SELECT blob_import('/etc/passwd')", "SELECT blob_export(x'00', '/tmp/x')",
        "SELECT writefile('/tmp/x', 'y')"}) {
    EXPECT_TRUE(refused(sql, SqlDialect::kSqlite)) << sql;
  }
  EXPECT_FALSE(refused("SELECT 'load_extension(1)'", SqlDialect::kSqlite));
  EXPECT_FALSE(refused("SELECT load_extension FROM t", SqlDialect::kSqlite));
}

TEST(OdbcStatement, AmbiguousTextIsRefusedForMysqlAndGeneric) {
  EXPECT_TRUE(refused("SELECT '\\''; DELETE FROM t; -- '", SqlDialect::kMysql));
  EXPECT_TRUE(refused("SELECT 1 /*! ; DELETE FROM t */", SqlDialect::kMysql));
  EXPECT_FALSE(refused("SELECT 1 # ; DELETE", SqlDialect::kMysql));
  EXPECT_TRUE(refused("SELECT 1--1; DELETE FROM t", SqlDialect::kMysql));
  EXPECT_TRUE(refused("SELECT 1 # x", SqlDialect::kGeneric));
  EXPECT_TRUE(refused("SELECT 1--x", SqlDialect::kGeneric));
  EXPECT_FALSE(refused("SELECT 1 -- x", SqlDialect::kGeneric));
}

TEST(OdbcText, Utf16ToUtf8IncludingSplitSurrogates) {
  std::string out;
  char32_t pending = 0;
  const SQLWCHAR first[] = {0x0068, 0x00E9, 0xD83D};  // "hé" + high surrogate of U+1F600
  const SQLWCHAR second[] = {0xDE00, 0xDC00};         // its low half, then a lone low surrogate
  append_utf8(out, first, 3, pending);
  append_utf8(out, second, 2, pending);
  EXPECT_EQ(out, "h\xC3\xA9\xF0\x9F\x98\x80\xEF\xBF\xBD");
  EXPECT_EQ(pending, 0U);
}

}  // namespace
}  // namespace outpost::connectors::odbc
