#pragma once

#include <optional>
#include <string>

struct sqlite3;

namespace outpost::connectors::odbc {

/// sqliteodbc opens its SQLite handle inside SQLDriverConnect and never
/// exposes it through ODBC. While a capture is alive on a thread, the handle
/// of every SQLite database opened on that thread is recorded (through a
/// process-wide sqlite3_auto_extension that does nothing on other threads),
/// so the connector can restrict it. The driver and the agent share one
/// libsqlite3.so.
class SqliteHandleCapture {
 public:
  SqliteHandleCapture();
  ~SqliteHandleCapture();
  SqliteHandleCapture(const SqliteHandleCapture&) = delete;
  SqliteHandleCapture& operator=(const SqliteHandleCapture&) = delete;
  /// The last handle opened on this thread since construction, or nullptr.
  [[nodiscard]] sqlite3* handle() const noexcept { return handle_; }

 private:
  sqlite3* handle_ = nullptr;
  SqliteHandleCapture* previous_ = nullptr;
};

/// Restricts a sqliteodbc handle after connect (sqliteodbc enables extension
/// loading on every handle it opens):
///  - extension loading off (C API and the load_extension() SQL function);
///  - an authorizer that refuses load_extension, blob_import, blob_export,
///    readfile, writefile, edit and fts3_tokenizer calls (also from views in
///    the file), ATTACH/DETACH, and every PRAGMA but the driver's catalog
///    and read pragmas;
///  - SQLITE_DBCONFIG_DEFENSIVE on, TRUSTED_SCHEMA off (no side-effect
///    functions from the schema), the FTS3 tokenizer pointer interface off;
///  - SQLITE_LIMIT_LENGTH at `max_value_bytes` (one value can never grow
///    past it inside SQLite).
/// Returns why it could not, or nullopt.
std::optional<std::string> harden_sqlite(sqlite3* db, int max_value_bytes);

}  // namespace outpost::connectors::odbc
