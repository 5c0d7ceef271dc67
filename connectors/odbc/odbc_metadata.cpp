// The metadata job over ODBC: SQLTables and SQLColumns, filtered by the
// job's schemas, tables sent with their columns.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "odbc/odbc_jobs.hpp"
#include "odbc/odbc_sql_guard.hpp"

namespace outpost::connectors::odbc {
namespace {

std::string column_text(SQLHSTMT stmt, SQLUSMALLINT index) {
  char buffer[1024] = {};
  SQLLEN indicator = 0;
  if (!ok(SQLGetData(stmt, index, SQL_C_CHAR, buffer, sizeof buffer, &indicator)) ||
      indicator == SQL_NULL_DATA) {
    return {};
  }
  return buffer;
}

bool is_system_schema(const std::string& schema) {
  static const char* kSystem[] = {
      "information_schema", "pg_catalog",        "pg_toast", "sys", "mysql",
      "performance_schema", "INFORMATION_SCHEMA"};
  for (const char* s : kSystem) {
    if (schema == s) return true;
  }
  return false;
}

std::optional<std::string> table_kind(const std::string& type) {
  if (type == "TABLE" || type == "BASE TABLE") return "table";
  if (type == "VIEW") return "view";
  if (type == "MATERIALIZED VIEW") return "materialized_view";
  if (type == "FOREIGN TABLE") return "foreign_table";
  return std::nullopt;
}

}  // namespace

JobResult run_metadata(JobContext& ctx, OdbcConnection& c) {
  const MetadataParams& filter = ctx.job.metadata;
  // sqliteodbc names neither catalog nor schema: its tables are in "main",
  // as the sqlite connector reports them.
  const std::string default_schema = c.dialect() == SqlDialect::kSqlite ? "main" : "";
  auto wanted = [&](const std::string& schema) {
    if (is_system_schema(schema)) return false;
    return filter.wants(schema);
  };

  // One catalog call per kind: SQLTables for tables and views, SQLColumns for
  // every column; columns are attached by (schema, table).
  std::vector<Table> tables;
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  {
    Statement stmt(c.dbc());
    if (!ok(SQLTables(stmt.get(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0))) {
      return failed(classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false));
    }
    while (ok(SQLFetch(stmt.get()))) {
      // Columns are read in order: not every driver supports SQL_GD_ANY_ORDER.
      const std::string catalog = column_text(stmt.get(), 1);
      std::string schema = column_text(stmt.get(), 2);
      if (schema.empty()) schema = catalog;  // catalog-only drivers
      if (schema.empty()) schema = default_schema;
      const std::string name = column_text(stmt.get(), 3);
      const auto kind = table_kind(column_text(stmt.get(), 4));
      if (!kind || !wanted(schema) || (!filter.include_views && *kind == "view")) continue;
      index[{schema, name}] = tables.size();
      tables.push_back(Table{schema, name, *kind, std::nullopt, {}});
    }
  }
  {
    Statement stmt(c.dbc());
    if (!ok(SQLColumns(stmt.get(), nullptr, 0, nullptr, 0, nullptr, 0, nullptr, 0))) {
      return failed(classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false));
    }
    while (ok(SQLFetch(stmt.get()))) {
      if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
      const std::string catalog = column_text(stmt.get(), 1);
      std::string schema = column_text(stmt.get(), 2);
      if (schema.empty()) schema = catalog;
      if (schema.empty()) schema = default_schema;
      auto it = index.find({schema, column_text(stmt.get(), 3)});
      if (it == index.end()) continue;
      const std::string name = column_text(stmt.get(), 4);
      const std::string type = column_text(stmt.get(), 6);
      SQLSMALLINT nullable = SQL_NULLABLE_UNKNOWN;
      SQLLEN indicator = 0;
      SQLGetData(stmt.get(), 11, SQL_C_SSHORT, &nullable, sizeof nullable, &indicator);
      // SQLColumns returns each table's columns in ordinal order; the
      // position is counted here because ORDINAL_POSITION is unreliable
      // (psqlODBC 13 fills it with a catalog-wide counter).
      auto& columns = tables[it->second].columns;
      const auto ordinal = static_cast<std::int64_t>(columns.size()) + 1;
      columns.push_back(TableColumn{name, type, nullable != SQL_NO_NULLS, ordinal});
    }
  }
  for (const auto& table : tables) {
    if (!ctx.job.metadata.wants_table(table.name)) continue;
    if (!ctx.sink.add_table(table)) break;
  }
  std::string database = c.dbms_name();
  {
    char name[256] = {};
    SQLSMALLINT length = 0;
    if (ok(SQLGetInfo(c.dbc(), SQL_DATABASE_NAME, name, sizeof name, &length))) database = name;
  }
  return JobResult::success({{"database", database}});
}

}  // namespace outpost::connectors::odbc
