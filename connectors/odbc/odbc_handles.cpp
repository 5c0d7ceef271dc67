#include "odbc/odbc_handles.hpp"

#include <utility>

#include "client_libs/libsqlite3.hpp"
#include "common/error_classify.hpp"
#include "odbc/odbc_sqlite_guard.hpp"
#include "odbc/odbc_values.hpp"

namespace outpost::connectors::odbc {
namespace {

bool ok(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

std::string info_string(SQLHDBC dbc, SQLUSMALLINT what) {
  char buffer[256] = {};
  SQLSMALLINT length = 0;
  if (!ok(SQLGetInfo(dbc, what, buffer, sizeof buffer, &length))) return {};
  return std::string(buffer);
}

}  // namespace

Diagnostic diagnose(SQLSMALLINT handle_type, SQLHANDLE handle) {
  Diagnostic out;
  for (SQLSMALLINT i = 1; i <= 5; ++i) {
    SQLCHAR state[6] = {};
    SQLINTEGER native = 0;
    SQLCHAR text[1024] = {};
    SQLSMALLINT length = 0;
    const auto rc =
        SQLGetDiagRec(handle_type, handle, i, state, &native, text, sizeof text, &length);
    if (!ok(rc)) break;
    if (out.sqlstate.empty()) out.sqlstate = reinterpret_cast<const char*>(state);
    if (!out.message.empty()) out.message += "; ";
    out.message += "[" + std::string(reinterpret_cast<const char*>(state)) + "] " +
                   std::string(reinterpret_cast<const char*>(text));
  }
  if (out.message.empty()) out.message = "the ODBC driver reported an error without diagnostics";
  return out;
}

JobError classify(const Diagnostic& d, bool connecting) {
  const auto& s = d.sqlstate;
  const auto& m = d.message;
  auto make = [&](ErrorCode code) { return JobError{code, m, common::retryable(code)}; };
  if (s == "28000" || s == "28P01" || common::contains_icase(m, "password authentication failed") ||
      common::contains_icase(m, "authentication failed") ||
      common::contains_icase(m, "access denied for user")) {
    return make(ErrorCode::kAuthFailed);
  }
  if (s == "25006" || common::is_read_only_refusal(m)) return make(ErrorCode::kReadOnlyViolation);
  if (s == "42501" || common::contains_icase(m, "permission denied") ||
      common::contains_icase(m, "not authorized") || common::contains_icase(m, "unsafe use of")) {
    return make(ErrorCode::kPermissionDenied);
  }
  if (s == "HYT00" || s == "HYT01" || common::contains_icase(m, "statement timeout") ||
      common::contains_icase(m, "query timeout")) {
    return make(ErrorCode::kTimeout);
  }
  if (s == "HY008" || s == "57014") return make(ErrorCode::kCancelled);
  if (common::contains_icase(m, "string or blob too big")) {
    return JobError{ErrorCode::kResultTooLarge, m, false};
  }
  if (s == "IM002" || s == "IM003" || s == "IM007" || s == "IM010" || s == "IM011" ||
      s == "IM012") {
    // Unknown DSN, driver not installed or a malformed string: the config is wrong.
    return JobError{ErrorCode::kInvalidJob, m, false};
  }
  if (common::contains_icase(m, "database \"") && common::contains_icase(m, "does not exist")) {
    return JobError{ErrorCode::kUnreachable, m, false};
  }
  if (auto code = common::classify_network_message(m)) return make(*code);
  if (s.starts_with("08")) return make(ErrorCode::kUnreachable);
  return make(connecting ? ErrorCode::kUnreachable : ErrorCode::kQueryError);
}

OdbcConnection::~OdbcConnection() {
  if (dbc_ != SQL_NULL_HDBC) {
    if (connected_) {
      SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK);
      SQLDisconnect(dbc_);
    }
    SQLFreeHandle(SQL_HANDLE_DBC, dbc_);
  }
  if (env_ != SQL_NULL_HENV) SQLFreeHandle(SQL_HANDLE_ENV, env_);
}

std::optional<JobError> OdbcConnection::execute(const std::string& sql) {
  Statement stmt(dbc_);
  if (!stmt.valid()) return classify(diagnose(SQL_HANDLE_DBC, dbc_), false);
  const auto rc = SQLExecDirect(
      stmt.get(), reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())), SQL_NTS);
  if (!ok(rc) && rc != SQL_NO_DATA) return classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
  return std::nullopt;
}

bool OdbcConnection::rollback() {
  return ok(SQLEndTran(SQL_HANDLE_DBC, dbc_, SQL_ROLLBACK));
}

std::optional<std::vector<std::string>> OdbcConnection::first_row(const std::string& sql) {
  Statement stmt(dbc_);
  if (!stmt.valid()) return std::nullopt;
  if (!ok(SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(const_cast<char*>(sql.c_str())),
                        SQL_NTS))) {
    return std::nullopt;
  }
  SQLSMALLINT width = 0;
  if (!ok(SQLNumResultCols(stmt.get(), &width)) || !ok(SQLFetch(stmt.get()))) return std::nullopt;
  std::vector<std::string> row;
  for (SQLUSMALLINT i = 1; i <= static_cast<SQLUSMALLINT>(width); ++i) {
    char buffer[256] = {};
    SQLLEN indicator = 0;
    if (!ok(SQLGetData(stmt.get(), i, SQL_C_CHAR, buffer, sizeof buffer, &indicator))) {
      return std::nullopt;
    }
    row.emplace_back(indicator == SQL_NULL_DATA ? "" : buffer);
  }
  SQLCloseCursor(stmt.get());
  return row;
}

bool OdbcConnection::still_read_only() {
  std::optional<std::vector<std::string>> row;
  bool good = false;
  switch (dialect_) {
    case SqlDialect::kPostgres:
      row = first_row(
          "SELECT current_setting('transaction_read_only'), "
          "current_setting('standard_conforming_strings'), pg_advisory_unlock_all()");
      good = row && row->size() >= 2 && (*row)[0] == "on" && (*row)[1] == "on";
      break;
    case SqlDialect::kSqlite:
      row = first_row("PRAGMA query_only");
      good = row && !row->empty() && (*row)[0] == "1";
      break;
    default: return false;
  }
  return rollback() && good;
}

bool OdbcConnection::dead() const {
  SQLUINTEGER dead = SQL_CD_FALSE;
  if (!ok(SQLGetConnectAttr(dbc_, SQL_ATTR_CONNECTION_DEAD, &dead, 0, nullptr))) return false;
  return dead == SQL_CD_TRUE;
}

Statement::Statement(SQLHDBC dbc) {
  if (!ok(SQLAllocHandle(SQL_HANDLE_STMT, dbc, &stmt_))) stmt_ = SQL_NULL_HSTMT;
}

Statement::~Statement() {
  if (stmt_ != SQL_NULL_HSTMT) SQLFreeHandle(SQL_HANDLE_STMT, stmt_);
}

std::optional<JobError> check_endpoint(const OdbcConfig& config, const NetworkGuard& network,
                                       std::string& address) {
  address.clear();
  // A DSN's odbc.ini section may name its own host: allowed only where the
  // operator allows the DSN (under an allowlist: listed as dsn:NAME).
  if (!config.dsn.empty()) {
    if (auto error = network.check_dsn(config.dsn)) return error;
  }
  if (config.host.empty()) return std::nullopt;
  if (config.socket) return network.check_local_socket(config.host);
  ResolvedHost resolved = network.resolve(config.host, config.port);
  if (resolved.error) return std::move(resolved.error);
  if (resolved.addresses.empty()) {
    return JobError{ErrorCode::kUnreachable, "host " + config.host + " has no address", true};
  }
  // Every permitted address (libpq tries them in order, as it would have
  // tried the name's), at most 8.
  for (std::size_t i = 0; i < resolved.addresses.size() && i < 8; ++i) {
    if (i > 0) address += ',';
    address += resolved.addresses[i];
  }
  return std::nullopt;
}

// Drivers may accept SQL_MODE_READ_ONLY as a mere hint; where the DBMS is
// known, its own switch makes the refusal real.
std::optional<JobError> OdbcConnection::enter_read_only(const OdbcConfig& config, bool hinted) {
  std::string session;
  dialect_ = dialect_of(dbms_name_);
  switch (dialect_) {
    case SqlDialect::kPostgres:
      session = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY";
      // The statement lexer reads '...' literals as standard strings.
      if (auto error = execute("SET standard_conforming_strings = on")) return error;
      break;
    case SqlDialect::kMysql: session = "SET SESSION TRANSACTION READ ONLY"; break;
    case SqlDialect::kSqlite: session = "PRAGMA query_only = 1"; break;
    case SqlDialect::kGeneric: break;
  }
  if (!session.empty()) {
    // Still in autocommit mode, so the setting is committed for the session.
    if (auto error = execute(session)) return error;
    read_only_mode_ = "enforced by the database (" + session + ")";
    if (config.kind == DriverKind::kSqliteOdbc) read_only_mode_ += " and a read-only open";
  } else {
    read_only_mode_ = hinted ? "SQL_ATTR_ACCESS_MODE read-only (driver-dependent) and rollback"
                             : "rollback only (the driver refused SQL_ATTR_ACCESS_MODE)";
  }
  return std::nullopt;
}

// The privilege gate (issue 14, class 2) on PostgreSQL: a read-only
// transaction does not stop COPY ... TO PROGRAM, pg_read_file() or
// pg_terminate_backend().
void OdbcConnection::read_privileges() {
  static constexpr const char* kRoles[] = {"pg_execute_server_program", "pg_write_server_files",
                                           "pg_read_server_files", "pg_signal_backend"};
  std::string sql = "SELECT r.rolsuper::text";
  for (const char* role : kRoles) {
    sql += std::string(", pg_has_role(current_user, '") + role + "', 'MEMBER')::text";
  }
  sql += " FROM pg_roles r WHERE r.rolname = current_user";
  const auto row = first_row(sql);
  if (!row || row->size() != 5) {
    privileges_.emplace_back("unknown (the role check failed)");
    return;
  }
  if ((*row)[0] == "true") privileges_.emplace_back("superuser");
  for (std::size_t i = 0; i < 4; ++i) {
    if ((*row)[i + 1] == "true") privileges_.emplace_back(kRoles[i]);
  }
}

ConnectOutcome connect(const OdbcConfig& config, const NetworkGuard& network) {
  // Checked before anything is dialled; the driver gets the numeric address.
  std::string address;
  if (auto error = check_endpoint(config, network, address)) return {nullptr, std::move(error)};
  auto c = std::make_unique<OdbcConnection>();
  if (!ok(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env_)) ||
      !ok(SQLSetEnvAttr(c->env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3),
                        0)) ||
      !ok(SQLAllocHandle(SQL_HANDLE_DBC, c->env_, &c->dbc_))) {
    return {nullptr, JobError{ErrorCode::kInternal, "cannot allocate ODBC handles", true}};
  }
  const auto timeout = static_cast<SQLULEN>(config.connect_timeout.count());
  // ODBC passes integer attributes in the SQLPOINTER argument itself.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(timeout), 0);
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_CONNECTION_TIMEOUT, reinterpret_cast<SQLPOINTER>(timeout), 0);
  std::string text = connection_string(config, address);
  // sqliteodbc opens its handle inside SQLDriverConnect: captured to harden it.
  std::optional<SqliteHandleCapture> capture;
  if (config.kind == DriverKind::kSqliteOdbc) {
    // The driver's libsqlite3 is the one the guard is registered with.
    if (const std::string* missing = client_libs::libsqlite3().load()) {
      return {nullptr, JobError{ErrorCode::kUnsupported, "sqliteodbc: " + *missing, false}};
    }
    capture.emplace();
  }
  const auto rc = SQLDriverConnect(c->dbc_, nullptr, reinterpret_cast<SQLCHAR*>(text.data()),
                                   static_cast<SQLSMALLINT>(text.size()), nullptr, 0, nullptr,
                                   SQL_DRIVER_NOPROMPT);
  sqlite3* sqlite = capture ? capture->handle() : nullptr;
  capture.reset();
  // The string holds the password: wipe the copy before it is freed.
  std::fill(text.begin(), text.end(), '\0');
  if (!ok(rc)) return {nullptr, classify(diagnose(SQL_HANDLE_DBC, c->dbc_), true)};
  c->connected_ = true;
  c->dbms_name_ = info_string(c->dbc_, SQL_DBMS_NAME);
  c->dbms_version_ = info_string(c->dbc_, SQL_DBMS_VER);
  c->driver_ = info_string(c->dbc_, SQL_DRIVER_NAME) + " " + info_string(c->dbc_, SQL_DRIVER_VER);

  const bool hinted = ok(SQLSetConnectAttr(c->dbc_, SQL_ATTR_ACCESS_MODE,
                                           reinterpret_cast<SQLPOINTER>(SQL_MODE_READ_ONLY), 0));
  if (auto error = c->enter_read_only(config, hinted)) return {nullptr, std::move(error)};
  if (c->dialect_ == SqlDialect::kPostgres) c->read_privileges();
  if (config.kind == DriverKind::kSqliteOdbc) {
    if (auto why = harden_sqlite(sqlite, static_cast<int>(kMaxValueBytes))) {
      return {nullptr, JobError{ErrorCode::kInternal, "sqliteodbc: " + *why, false}};
    }
    c->read_only_mode_ += "; extension loading off, SQLite authorizer on";
  }
  // Statements run in a transaction that is always rolled back, whatever the
  // driver made of the read-only request above.
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF),
                    0);
  return {std::move(c), std::nullopt};
}

}  // namespace outpost::connectors::odbc
