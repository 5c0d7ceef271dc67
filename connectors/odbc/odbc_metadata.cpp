// The metadata job over ODBC: SQLTables and SQLColumns, with the job's
// `schemas` and `tables` passed to the driver as search patterns, then for
// each table its keys and indexes (odbc_metadata_keys.cpp).
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "odbc/odbc_jobs.hpp"
#include "odbc/odbc_metadata_keys.hpp"
#include "odbc/odbc_sql_guard.hpp"

namespace outpost::connectors::odbc {
namespace {

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

// One SQLTables/SQLColumns call's arguments: schema and table search
// patterns (nullopt: any).
struct Search {
  std::optional<std::string> schema;
  std::optional<std::string> table;
};

// The calls that cover the job's filters: one per (schema, table pattern).
// Schemas are passed only to drivers with schemas (not sqliteodbc's "main");
// the agent's own filters still decide.
std::vector<Search> searches(OdbcConnection& c, const MetadataParams& filter) {
  char escape[8] = {};
  SQLSMALLINT length = 0;
  if (!ok(SQLGetInfo(c.dbc(), SQL_SEARCH_PATTERN_ESCAPE, escape, sizeof escape, &length))) {
    escape[0] = '\0';
  }
  std::vector<std::optional<std::string>> schemas{std::nullopt};
  if (filter.schemas && c.dialect() != SqlDialect::kSqlite) {
    schemas.clear();
    for (const auto& s : *filter.schemas) {
      auto p = search_pattern(s, escape);
      if (!p || s.find('*') != std::string::npos) return {Search{}};  // not a pattern: list all
      schemas.emplace_back(std::move(p));
    }
  }
  std::vector<std::optional<std::string>> tables{std::nullopt};
  if (filter.tables) {
    tables.clear();
    for (const auto& t : *filter.tables) {
      auto p = search_pattern(t, escape);
      if (!p) return {Search{}};
      tables.emplace_back(std::move(p));
    }
  }
  std::vector<Search> out;
  for (const auto& s : schemas) {
    for (const auto& t : tables) out.push_back(Search{s, t});
  }
  return out;
}

SQLCHAR* arg(std::optional<std::string>& text) {
  return text ? reinterpret_cast<SQLCHAR*>(text->data()) : nullptr;
}
SQLSMALLINT arg_length(const std::optional<std::string>& text) {
  return text ? SQL_NTS : 0;
}

struct Catalog {
  std::vector<Table> tables;
  std::vector<std::string> schemas;    ///< the driver's own schema of each table ("" if none)
  std::vector<std::size_t> filled_by;  ///< the search that gave each table its columns
  std::map<std::pair<std::string, std::string>, std::size_t> index;
};

// The schema as reported: the schema, else the catalog (catalog-only drivers),
// else sqliteodbc's "main". Reads columns 1 and 2, in order (not every driver
// supports SQL_GD_ANY_ORDER); `driver_schema` gets column 2 as it is.
std::string schema_of(SQLHSTMT stmt, const std::string& fallback, std::string& driver_schema) {
  const std::string catalog = column_text(stmt, 1);
  driver_schema = column_text(stmt, 2);
  if (!driver_schema.empty()) return driver_schema;
  return catalog.empty() ? fallback : catalog;
}

std::optional<JobError> list_tables(OdbcConnection& c, const MetadataParams& filter, Search search,
                                    const std::string& fallback, Catalog& out) {
  Statement stmt(c.dbc());
  if (!ok(SQLTables(stmt.get(), nullptr, 0, arg(search.schema), arg_length(search.schema),
                    arg(search.table), arg_length(search.table), nullptr, 0))) {
    return classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
  }
  while (ok(SQLFetch(stmt.get()))) {
    // Columns are read in order: not every driver supports SQL_GD_ANY_ORDER.
    std::string driver_schema;
    const std::string schema = schema_of(stmt.get(), fallback, driver_schema);
    const std::string name = column_text(stmt.get(), 3);
    const auto kind = table_kind(column_text(stmt.get(), 4));
    if (!kind || is_system_schema(schema) || !filter.wants(schema) || !filter.wants_table(name) ||
        (!filter.include_views && *kind == "view") || out.index.contains({schema, name})) {
      continue;
    }
    out.index[{schema, name}] = out.tables.size();
    out.tables.push_back(Table{schema, name, *kind, std::nullopt, {}});
    out.schemas.push_back(driver_schema);
    out.filled_by.push_back(SIZE_MAX);
  }
  return std::nullopt;
}

// Columns of the listed tables; a table two searches cover keeps the first's.
std::optional<JobError> list_columns(OdbcConnection& c, Search search, std::size_t search_index,
                                     const std::string& fallback, Catalog& out) {
  Statement stmt(c.dbc());
  if (!ok(SQLColumns(stmt.get(), nullptr, 0, arg(search.schema), arg_length(search.schema),
                     arg(search.table), arg_length(search.table), nullptr, 0))) {
    return classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
  }
  while (ok(SQLFetch(stmt.get()))) {
    std::string driver_schema;
    const std::string schema = schema_of(stmt.get(), fallback, driver_schema);
    auto it = out.index.find({schema, column_text(stmt.get(), 3)});
    if (it == out.index.end()) continue;
    const std::string name = column_text(stmt.get(), 4);
    const std::string type = column_text(stmt.get(), 6);
    SQLSMALLINT nullable = SQL_NULLABLE_UNKNOWN;
    SQLLEN indicator = 0;
    SQLGetData(stmt.get(), 11, SQL_C_SSHORT, &nullable, sizeof nullable, &indicator);
    // The default (COLUMN_DEF, 13) is read in column order, after 11.
    const std::string def = column_text(stmt.get(), 13);
    // SQLColumns returns each table's columns in ordinal order; the position
    // is counted here because ORDINAL_POSITION is unreliable (psqlODBC 13
    // fills it with a catalog-wide counter).
    auto& filled_by = out.filled_by[it->second];
    if (filled_by != SIZE_MAX && filled_by != search_index) continue;
    filled_by = search_index;
    auto& columns = out.tables[it->second].columns;
    const auto ordinal = static_cast<std::int64_t>(columns.size()) + 1;
    columns.push_back(TableColumn{name, type, nullable != SQL_NO_NULLS, ordinal});
    if (!def.empty()) columns.back().default_value = def;
  }
  return std::nullopt;
}

std::string database_name(OdbcConnection& c) {
  char name[256] = {};
  SQLSMALLINT length = 0;
  if (ok(SQLGetInfo(c.dbc(), SQL_DATABASE_NAME, name, sizeof name, &length))) return name;
  return c.dbms_name();
}

}  // namespace

JobResult run_metadata(JobContext& ctx, OdbcConnection& c) {
  const MetadataParams& filter = ctx.job.metadata;
  // sqliteodbc names neither catalog nor schema: its tables are in "main",
  // as the sqlite connector reports them.
  const std::string fallback = c.dialect() == SqlDialect::kSqlite ? "main" : "";
  Catalog catalog;
  const bool none =
      (filter.schemas && filter.schemas->empty()) || (filter.tables && filter.tables->empty());
  const auto calls = none ? std::vector<Search>{} : searches(c, filter);
  for (const auto& search : calls) {
    if (auto e = list_tables(c, filter, search, fallback, catalog)) return failed(*e);
  }
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
    if (auto e = list_columns(c, calls[i], i, fallback, catalog)) return failed(*e);
  }
  for (std::size_t i = 0; i < catalog.tables.size(); ++i) {
    if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
    if (auto e = read_keys(c, catalog.schemas[i], catalog.tables[i])) return failed(*e);
    if (!ctx.sink.add_table(catalog.tables[i])) break;
  }
  return JobResult::success({{"database", database_name(c)}});
}

}  // namespace outpost::connectors::odbc
