#pragma once

#include <sql.h>
#include <sqlext.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "odbc/odbc_config.hpp"
#include "odbc/odbc_sql_guard.hpp"
#include "outpost/errors.hpp"
#include "outpost/network_guard.hpp"

namespace outpost::connectors::odbc {

/// The diagnostic records of a failed call, joined ("[SQLSTATE] message").
struct Diagnostic {
  std::string sqlstate;  ///< of the first record
  std::string message;
};
Diagnostic diagnose(SQLSMALLINT handle_type, SQLHANDLE handle);

/// Maps a diagnostic to a protocol error. `connecting` selects the defaults
/// for a failed SQLDriverConnect (unreachable) versus a statement (query_error).
JobError classify(const Diagnostic& diagnostic, bool connecting);

struct ConnectOutcome;
class OdbcConnection;
ConnectOutcome connect(const OdbcConfig& config, const NetworkGuard& network);

/// Checks where `config` would connect, before any packet is sent: a DSN
/// through check_dsn, a socket directory through check_local_socket, a host
/// through resolve (every address). `address` gets the numeric addresses to
/// dial, comma-separated (empty for sockets, DSNs without a host and SQLite).
std::optional<JobError> check_endpoint(const OdbcConfig& config, const NetworkGuard& network,
                                       std::string& address);

/// One ODBC connection (its own environment and connection handles).
/// Not thread safe, except that `cancel()` on the current statement may be
/// called from another thread (SQLCancel is specified for that).
class OdbcConnection {
 public:
  OdbcConnection() = default;
  ~OdbcConnection();
  OdbcConnection(const OdbcConnection&) = delete;
  OdbcConnection& operator=(const OdbcConnection&) = delete;

  [[nodiscard]] SQLHDBC dbc() const noexcept { return dbc_; }
  [[nodiscard]] const std::string& dbms_name() const noexcept { return dbms_name_; }
  [[nodiscard]] const std::string& dbms_version() const noexcept { return dbms_version_; }
  [[nodiscard]] const std::string& driver() const noexcept { return driver_; }
  /// How read-only access is enforced on this connection (for the result/docs).
  [[nodiscard]] const std::string& read_only_mode() const noexcept { return read_only_mode_; }

  /// Runs a statement and discards its results. nullopt on success.
  std::optional<JobError> execute(const std::string& sql);
  /// Rolls back the open transaction (autocommit is off). False if it failed.
  bool rollback();
  /// The first row of `sql` as text (NULL as ""), nullopt when it failed.
  std::optional<std::vector<std::string>> first_row(const std::string& sql);
  /// After a job (and its rollback): whether the session is still what
  /// connect() made it — PostgreSQL `transaction_read_only` and
  /// `standard_conforming_strings` on (session advisory locks are released
  /// too), SQLite `query_only` 1. False for other DBMSs, which cannot be
  /// checked: such connections are never pooled.
  bool still_read_only();
  [[nodiscard]] SqlDialect dialect() const noexcept { return dialect_; }
  /// What the login can do beyond reading, read at connect (PostgreSQL:
  /// "superuser", "pg_execute_server_program", "pg_write_server_files",
  /// "pg_read_server_files", "pg_signal_backend"). Empty: nothing found (or
  /// a DBMS the connector cannot ask).
  [[nodiscard]] const std::vector<std::string>& privileges() const noexcept { return privileges_; }

  void mark_broken() noexcept { broken_ = true; }
  [[nodiscard]] bool broken() const noexcept { return broken_; }
  /// SQL_ATTR_CONNECTION_DEAD, when the driver knows.
  [[nodiscard]] bool dead() const;

  friend ConnectOutcome connect(const OdbcConfig& config, const NetworkGuard& network);

 private:
  // Steps of connect(), after SQLDriverConnect.
  std::optional<JobError> enter_read_only(const OdbcConfig& config, bool hinted);
  void read_privileges();

  SQLHENV env_ = SQL_NULL_HENV;
  SQLHDBC dbc_ = SQL_NULL_HDBC;
  bool connected_ = false;
  bool broken_ = false;
  std::string dbms_name_;
  std::string dbms_version_;
  std::string driver_;
  std::string read_only_mode_;
  SqlDialect dialect_ = SqlDialect::kGeneric;
  std::vector<std::string> privileges_;
};

struct ConnectOutcome {
  std::unique_ptr<OdbcConnection> connection;
  std::optional<JobError> error;
};

/// Checks the connection string's host through `network`, connects with
/// autocommit off and read-only access requested (SQL_ATTR_ACCESS_MODE plus
/// the DBMS's own session setting where known).
ConnectOutcome connect(const OdbcConfig& config, const NetworkGuard& network);

/// A statement handle freed by the destructor.
class Statement {
 public:
  explicit Statement(SQLHDBC dbc);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  [[nodiscard]] SQLHSTMT get() const noexcept { return stmt_; }
  [[nodiscard]] bool valid() const noexcept { return stmt_ != SQL_NULL_HSTMT; }

 private:
  SQLHSTMT stmt_ = SQL_NULL_HSTMT;
};

}  // namespace outpost::connectors::odbc
