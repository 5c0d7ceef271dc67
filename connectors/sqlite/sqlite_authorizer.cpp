#include "sqlite/sqlite_authorizer.hpp"

#include <sqlite3.h>

#include <string>

namespace outpost::connectors::sqlite {
namespace {

bool named(const char* name, std::initializer_list<const char*> names) {
  if (name == nullptr) return false;
  for (const char* n : names) {
    if (sqlite3_stricmp(name, n) == 0) return true;
  }
  return false;
}

// Pragmas whose argument only names what to look up (metadata needs these).
bool is_lookup_pragma(const char* name) {
  return named(name, {"table_info", "table_xinfo", "table_list", "index_list", "index_info",
                      "index_xinfo", "foreign_key_list"});
}

// Pragmas a job may read but never set. Everything else is refused, in
// particular the process-global ones (temp_store_directory,
// data_store_directory, soft/hard_heap_limit, threads) and those that write
// or change the connection (writable_schema, optimize, wal_checkpoint, …).
bool is_readable_pragma(const char* name) {
  return named(name, {"application_id", "user_version", "schema_version", "data_version",
                      "encoding", "page_size", "page_count", "freelist_count", "journal_mode",
                      "query_only", "foreign_keys", "database_list", "collation_list"});
}

JobError read_only(const std::string& what) {
  return {ErrorCode::kReadOnlyViolation,
          what + " would write, and the database is opened read-only", false};
}

JobError denied(const std::string& message) {
  return {ErrorCode::kPermissionDenied, message, false};
}

std::optional<JobError> authorize_pragma(const char* name, const char* value) {
  const std::string pragma = std::string("PRAGMA ") + (name != nullptr ? name : "");
  if (is_lookup_pragma(name)) return std::nullopt;
  if (is_readable_pragma(name)) {
    if (value == nullptr) return std::nullopt;
    return read_only(pragma + " = " + value);
  }
  return denied(pragma +
                " is not allowed: jobs may use only read-only pragmas (table_info, index_list, "
                "foreign_key_list, user_version, …)");
}

}  // namespace

std::optional<JobError> authorize(int action, const char* a1, const char* a2) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_RECURSIVE: return std::nullopt;
    case SQLITE_FUNCTION:
      // a2 is the function's name. Extension loading is also off at the
      // connection; fts3_tokenizer() hands out a code pointer.
      if (named(a2, {"load_extension", "fts3_tokenizer"})) {
        return denied(std::string(a2) + "() is not allowed in a job");
      }
      return std::nullopt;
    case SQLITE_PRAGMA: return authorize_pragma(a1, a2);
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return denied("ATTACH and DETACH are not allowed: a job reads its own database file only");
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return denied("transaction control is not allowed: each job is one read-only statement");
    case SQLITE_UPDATE:
      // SQLite asks this for the schema table's columns whenever a statement
      // first uses an eponymous virtual table (pragma_table_info,
      // json_each, …), and never runs it. A real UPDATE of the schema table
      // is refused by SQLite itself (and the file is read-only, in query_only
      // and defensive mode).
      if (named(a1, {"sqlite_master", "sqlite_temp_master"})) return std::nullopt;
      return read_only("the statement");
    case SQLITE_INSERT:
    case SQLITE_DELETE:
    case SQLITE_ANALYZE:
    case SQLITE_REINDEX:
    case SQLITE_ALTER_TABLE:
    case SQLITE_CREATE_INDEX:
    case SQLITE_CREATE_TABLE:
    case SQLITE_CREATE_TEMP_INDEX:
    case SQLITE_CREATE_TEMP_TABLE:
    case SQLITE_CREATE_TEMP_TRIGGER:
    case SQLITE_CREATE_TEMP_VIEW:
    case SQLITE_CREATE_TRIGGER:
    case SQLITE_CREATE_VIEW:
    case SQLITE_CREATE_VTABLE:
    case SQLITE_DROP_INDEX:
    case SQLITE_DROP_TABLE:
    case SQLITE_DROP_TEMP_INDEX:
    case SQLITE_DROP_TEMP_TABLE:
    case SQLITE_DROP_TEMP_TRIGGER:
    case SQLITE_DROP_TEMP_VIEW:
    case SQLITE_DROP_TRIGGER:
    case SQLITE_DROP_VIEW:
    case SQLITE_DROP_VTABLE: return read_only("the statement");
    default:
      return denied("the statement does something a read-only job may not (authorizer action " +
                    std::to_string(action) + ")");
  }
}

}  // namespace outpost::connectors::sqlite
