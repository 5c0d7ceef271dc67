#include "odbc/odbc_handles.hpp"

#include <utility>

#include "common/error_classify.hpp"

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
  if (s == "42501" || common::contains_icase(m, "permission denied")) {
    return make(ErrorCode::kPermissionDenied);
  }
  if (s == "HYT00" || s == "HYT01" || common::contains_icase(m, "statement timeout") ||
      common::contains_icase(m, "query timeout")) {
    return make(ErrorCode::kTimeout);
  }
  if (s == "HY008" || s == "57014") return make(ErrorCode::kCancelled);
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

ConnectOutcome connect(const OdbcConfig& config, const NetworkGuard& network) {
  std::string pinned;
  if (!config.host.empty()) {
    ResolvedHost resolved = network.resolve(config.host, config.port);
    if (resolved.error) return {nullptr, std::move(resolved.error)};
    if (resolved.addresses.empty()) {
      return {nullptr,
              JobError{ErrorCode::kUnreachable, "host " + config.host + " has no address", true}};
    }
    if (config.pin_address) pinned = resolved.addresses.front();
  }
  auto c = std::make_unique<OdbcConnection>();
  if (!ok(SQLAllocHandle(SQL_HANDLE_ENV, SQL_NULL_HANDLE, &c->env_)) ||
      !ok(SQLSetEnvAttr(c->env_, SQL_ATTR_ODBC_VERSION, reinterpret_cast<SQLPOINTER>(SQL_OV_ODBC3),
                        0)) ||
      !ok(SQLAllocHandle(SQL_HANDLE_DBC, c->env_, &c->dbc_))) {
    return {nullptr, JobError{ErrorCode::kInternal, "cannot allocate ODBC handles", true}};
  }
  const auto timeout = static_cast<SQLULEN>(config.connect_timeout.count());
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_LOGIN_TIMEOUT, reinterpret_cast<SQLPOINTER>(timeout), 0);
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_CONNECTION_TIMEOUT, reinterpret_cast<SQLPOINTER>(timeout), 0);
  std::string text = connection_string(config, pinned);
  const auto rc = SQLDriverConnect(c->dbc_, nullptr, reinterpret_cast<SQLCHAR*>(text.data()),
                                   static_cast<SQLSMALLINT>(text.size()), nullptr, 0, nullptr,
                                   SQL_DRIVER_NOPROMPT);
  // The string holds the password: wipe the copy before it is freed.
  std::fill(text.begin(), text.end(), '\0');
  if (!ok(rc)) return {nullptr, classify(diagnose(SQL_HANDLE_DBC, c->dbc_), true)};
  c->connected_ = true;
  c->dbms_name_ = info_string(c->dbc_, SQL_DBMS_NAME);
  c->dbms_version_ = info_string(c->dbc_, SQL_DBMS_VER);
  c->driver_ = info_string(c->dbc_, SQL_DRIVER_NAME) + " " + info_string(c->dbc_, SQL_DRIVER_VER);

  const bool hinted = ok(SQLSetConnectAttr(c->dbc_, SQL_ATTR_ACCESS_MODE,
                                           reinterpret_cast<SQLPOINTER>(SQL_MODE_READ_ONLY), 0));
  // Drivers may accept SQL_MODE_READ_ONLY as a mere hint; where the DBMS is
  // known, its own switch makes the refusal real.
  std::string session;
  const auto& dbms = c->dbms_name_;
  if (common::contains_icase(dbms, "postgres")) {
    session = "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY";
  } else if (common::contains_icase(dbms, "mysql") || common::contains_icase(dbms, "mariadb")) {
    session = "SET SESSION TRANSACTION READ ONLY";
  } else if (common::contains_icase(dbms, "sqlite")) {
    session = "PRAGMA query_only = 1";
  }
  if (!session.empty()) {
    // Still in autocommit mode, so the setting is committed for the session.
    if (auto error = c->execute(session)) return {nullptr, std::move(error)};
    c->read_only_mode_ = "enforced by the database (" + session + ")";
  } else {
    c->read_only_mode_ = hinted ? "SQL_ATTR_ACCESS_MODE read-only (driver-dependent) and rollback"
                                : "rollback only (the driver refused SQL_ATTR_ACCESS_MODE)";
  }
  // Statements run in a transaction that is always rolled back, whatever the
  // driver made of the read-only request above.
  SQLSetConnectAttr(c->dbc_, SQL_ATTR_AUTOCOMMIT, reinterpret_cast<SQLPOINTER>(SQL_AUTOCOMMIT_OFF),
                    0);
  return {std::move(c), std::nullopt};
}

}  // namespace outpost::connectors::odbc
