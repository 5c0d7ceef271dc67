#include "odbc/odbc_sqlite_guard.hpp"

#include <sqlite3.h>

#include <array>
#include <cstring>
#include <mutex>
#include <string_view>

namespace outpost::connectors::odbc {
namespace {

thread_local SqliteHandleCapture* t_capture = nullptr;
thread_local sqlite3** t_slot = nullptr;

// Runs for every SQLite database opened in the process; records the handle
// only on a thread inside SqliteHandleCapture.
int capture_handle(sqlite3* db, const char** /*error*/, const void* /*api*/) {
  if (t_slot != nullptr) *t_slot = db;
  return SQLITE_OK;
}

void register_once() {
  static std::once_flag once;
  std::call_once(once,
                 [] { sqlite3_auto_extension(reinterpret_cast<void (*)()>(&capture_handle)); });
}

constexpr std::array<std::string_view, 7> kDeniedFunctions{
    "load_extension", "blob_import", "blob_export",   "readfile",
    "writefile",      "edit",        "fts3_tokenizer"};

// PRAGMAs the driver itself runs (catalog functions, connection flags) and
// the agent's read of query_only. Everything else, set or read, is refused.
constexpr std::array<std::string_view, 12> kAllowedPragmas{
    "table_info",        "table_xinfo",        "index_list",
    "index_info",        "index_xinfo",        "foreign_key_list",
    "full_column_names", "short_column_names", "empty_result_callbacks",
    "foreign_keys",      "query_only",         "database_list"};

bool equals_icase(std::string_view a, const char* b) {
  return b != nullptr && a.size() == std::strlen(b) &&
         sqlite3_strnicmp(a.data(), b, static_cast<int>(a.size())) == 0;
}

int authorize(void* /*user*/, int action, const char* arg1, const char* arg2, const char* /*db*/,
              const char* /*trigger*/) {
  switch (action) {
    case SQLITE_FUNCTION:
      for (const auto name : kDeniedFunctions) {
        if (equals_icase(name, arg2)) return SQLITE_DENY;
      }
      return SQLITE_OK;
    case SQLITE_ATTACH:
    case SQLITE_DETACH: return SQLITE_DENY;
    case SQLITE_PRAGMA:
      for (const auto name : kAllowedPragmas) {
        if (!equals_icase(name, arg1)) continue;
        // query_only may be read, never set.
        if (name == "query_only" && arg2 != nullptr) return SQLITE_DENY;
        return SQLITE_OK;
      }
      return SQLITE_DENY;
    default: return SQLITE_OK;
  }
}

}  // namespace

SqliteHandleCapture::SqliteHandleCapture() : previous_(t_capture) {
  register_once();
  t_capture = this;
  t_slot = &handle_;
}

SqliteHandleCapture::~SqliteHandleCapture() {
  t_capture = previous_;
  t_slot = previous_ != nullptr ? &previous_->handle_ : nullptr;
}

std::optional<std::string> harden_sqlite(sqlite3* db, int max_value_bytes) {
  if (db == nullptr) {
    return "the SQLite handle opened by sqliteodbc could not be reached (the driver must use the "
           "agent's libsqlite3)";
  }
  int off = -1;
  if (sqlite3_enable_load_extension(db, 0) != SQLITE_OK ||
      sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, &off) != SQLITE_OK ||
      off != 0) {
    return "extension loading could not be switched off";
  }
  int fts = -1;
  int defensive = -1;
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, &fts);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, &defensive);
  // Functions with side effects may not run from views or triggers in the file.
  int trusted = -1;
  sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &trusted);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, max_value_bytes);
  if (sqlite3_set_authorizer(db, &authorize, nullptr) != SQLITE_OK) {
    return "the SQLite authorizer could not be installed";
  }
  return std::nullopt;
}

}  // namespace outpost::connectors::odbc
