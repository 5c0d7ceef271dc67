// Keys and indexes over ODBC: SQLPrimaryKeys, SQLForeignKeys and
// SQLStatistics for one table, where the driver implements them.
#include "odbc/odbc_metadata_keys.hpp"

#include <string>
#include <vector>

namespace outpost::connectors::odbc {
namespace {

bool implemented(OdbcConnection& c, SQLUSMALLINT function) {
  SQLUSMALLINT supported = SQL_FALSE;
  if (!ok(SQLGetFunctions(c.dbc(), function, &supported))) return true;  // try it
  return supported == SQL_TRUE;
}

// The outcome of a catalog call: ran, not supported by the driver, or failed.
enum class Call { kRan, kUnsupported, kFailed };

Call outcome(SQLRETURN rc, SQLHSTMT stmt, std::optional<JobError>& error) {
  if (ok(rc)) return Call::kRan;
  const Diagnostic d = diagnose(SQL_HANDLE_STMT, stmt);
  if (d.sqlstate == "IM001" || d.sqlstate == "HYC00") return Call::kUnsupported;
  error = classify(d, false);
  return Call::kFailed;
}

SQLCHAR* arg(std::string& text) {
  return text.empty() ? nullptr : reinterpret_cast<SQLCHAR*>(text.data());
}

SQLSMALLINT small_int(SQLHSTMT stmt, SQLUSMALLINT index) {
  SQLSMALLINT value = 0;
  SQLLEN indicator = 0;
  if (!ok(SQLGetData(stmt, index, SQL_C_SSHORT, &value, sizeof value, &indicator)) ||
      indicator == SQL_NULL_DATA) {
    return -1;
  }
  return value;
}

std::optional<JobError> read_primary_key(OdbcConnection& c, std::string schema, std::string name,
                                         Table& table, std::string& key_name) {
  if (!implemented(c, SQL_API_SQLPRIMARYKEYS)) return std::nullopt;
  Statement stmt(c.dbc());
  std::optional<JobError> error;
  const SQLRETURN rc = SQLPrimaryKeys(stmt.get(), nullptr, 0, arg(schema), SQL_NTS,
                                      reinterpret_cast<SQLCHAR*>(name.data()), SQL_NTS);
  if (outcome(rc, stmt.get(), error) != Call::kRan) return error;
  std::vector<std::string> columns;
  while (ok(SQLFetch(stmt.get()))) {
    columns.push_back(column_text(stmt.get(), 4));
    key_name = column_text(stmt.get(), 6);
  }
  if (!columns.empty()) table.primary_key = std::move(columns);
  return std::nullopt;
}

std::optional<JobError> read_foreign_keys(OdbcConnection& c, std::string schema, std::string name,
                                          Table& table) {
  if (!implemented(c, SQL_API_SQLFOREIGNKEYS)) return std::nullopt;
  Statement stmt(c.dbc());
  std::optional<JobError> error;
  const SQLRETURN rc =
      SQLForeignKeys(stmt.get(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0, arg(schema),
                     SQL_NTS, reinterpret_cast<SQLCHAR*>(name.data()), SQL_NTS);
  if (outcome(rc, stmt.get(), error) != Call::kRan) return error;
  // Rows in key order; KEY_SEQ 1 starts a key.
  while (ok(SQLFetch(stmt.get()))) {
    if (small_int(stmt.get(), 9) <= 1 || table.foreign_keys.empty()) {
      std::string ref_schema = column_text(stmt.get(), 2);
      if (ref_schema.empty()) ref_schema = column_text(stmt.get(), 1);
      table.foreign_keys.push_back(ForeignKey{
          column_text(stmt.get(), 12), {}, std::move(ref_schema), column_text(stmt.get(), 3), {}});
    }
    table.foreign_keys.back().ref_columns.push_back(column_text(stmt.get(), 4));
    table.foreign_keys.back().columns.push_back(column_text(stmt.get(), 8));
  }
  return std::nullopt;
}

std::optional<JobError> read_indexes(OdbcConnection& c, std::string schema, std::string name,
                                     Table& table, const std::string& key_name) {
  if (!implemented(c, SQL_API_SQLSTATISTICS)) return std::nullopt;
  Statement stmt(c.dbc());
  std::optional<JobError> error;
  const SQLRETURN rc =
      SQLStatistics(stmt.get(), nullptr, 0, arg(schema), SQL_NTS,
                    reinterpret_cast<SQLCHAR*>(name.data()), SQL_NTS, SQL_INDEX_ALL, SQL_QUICK);
  if (outcome(rc, stmt.get(), error) != Call::kRan) return error;
  std::vector<TableIndex> indexes;
  while (ok(SQLFetch(stmt.get()))) {
    if (small_int(stmt.get(), 7) == SQL_TABLE_STAT) continue;
    const std::string index_name = column_text(stmt.get(), 6);
    if (indexes.empty() || indexes.back().name != index_name || small_int(stmt.get(), 8) <= 1) {
      indexes.push_back(TableIndex{index_name, {}, small_int(stmt.get(), 4) == SQL_FALSE});
    }
    // An expression key has no column name (the driver may give its text).
    indexes.back().columns.push_back(column_text(stmt.get(), 9));
  }
  // ODBC does not tell a unique constraint from a unique index: every unique
  // index but the primary key's is reported as unique.
  for (const auto& index : indexes) {
    const bool is_key = (!key_name.empty() && index.name == key_name) ||
                        (table.primary_key && index.columns == *table.primary_key);
    if (index.unique && !is_key) table.unique.push_back(index.columns);
  }
  table.indexes = std::move(indexes);
  return std::nullopt;
}

}  // namespace

std::string column_text(SQLHSTMT stmt, SQLUSMALLINT index) {
  std::string out;
  char buffer[1024] = {};
  SQLLEN indicator = 0;
  // Long values (view text, comments) arrive in pieces.
  for (;;) {
    const SQLRETURN rc = SQLGetData(stmt, index, SQL_C_CHAR, buffer, sizeof buffer, &indicator);
    if (!ok(rc) || indicator == SQL_NULL_DATA) return out;
    out += buffer;
    if (rc == SQL_SUCCESS) return out;
  }
}

std::optional<JobError> read_keys(OdbcConnection& c, const std::string& schema, Table& table) {
  if (table.kind != "table") return std::nullopt;
  std::string key_name;
  if (auto e = read_primary_key(c, schema, table.name, table, key_name)) return e;
  if (auto e = read_foreign_keys(c, schema, table.name, table)) return e;
  return read_indexes(c, schema, table.name, table, key_name);
}

std::optional<std::string> search_pattern(const std::string& pattern, const std::string& escape) {
  std::string out;
  for (const char c : pattern) {
    if (c == '*') {
      out += '%';
      continue;
    }
    if (c == '%' || c == '_' || (!escape.empty() && escape.find(c) == 0)) {
      if (escape.empty()) return std::nullopt;
      out += escape;
    }
    out += c;
  }
  return out;
}

}  // namespace outpost::connectors::odbc
