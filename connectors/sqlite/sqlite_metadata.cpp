// The metadata job: tables and views of "main", one statement over
// sqlite_schema in name order and, per table, the pragma look-ups of
// TableDetails (constant memory whatever the schema size).
#include "sqlite/sqlite_metadata.hpp"

#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {
namespace {

std::optional<JobError> has_stat1(Database& db, bool& found) {
  std::optional<JobError> error;
  auto stat = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'", error);
  if (!stat) return error;
  const int rc = sqlite3_step(stat.get());
  if (rc != SQLITE_ROW) return db.error_for(rc);
  found = sqlite3_column_int(stat.get(), 0) > 0;
  return std::nullopt;
}

// name, type, row estimate (sqlite_stat1), sql; ordered by name.
StmtPtr prepare_tables(Database& db, bool include_views, std::optional<JobError>& error) {
  bool stat1 = false;
  if ((error = has_stat1(db, stat1))) return nullptr;
  return db.prepare(
      "SELECT m.name, m.type, " + std::string(stat1 ? "s.n" : "NULL") +
          ", m.sql FROM sqlite_schema m " +
          (stat1 ? "LEFT JOIN (SELECT tbl, max(CAST(stat AS INTEGER)) AS n FROM sqlite_stat1 "
                   "GROUP BY tbl) s ON s.tbl = m.name"
                 : "") +
          " WHERE m.type IN ('table'" + (include_views ? ", 'view')" : ")") +
          " AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY m.name",
      error);
}

Table table_of(sqlite3_stmt* s, bool include_definitions) {
  Table table{"main", text(s, 0), text(s, 1) == "view" ? "view" : "table", std::nullopt, {}};
  if (sqlite3_column_type(s, 2) != SQLITE_NULL) table.row_estimate = sqlite3_column_int64(s, 2);
  if (table.kind == "view" && include_definitions) table.definition = view_query(text(s, 3));
  return table;
}

}  // namespace

JobResult run_metadata(Database& db, JobContext& ctx) {
  const MetadataParams& params = ctx.job.metadata;
  // SQLite has one schema, "main" (ATTACH is disabled).
  const bool include_main = params.wants("main");
  nlohmann::json result = {
      {"database", std::filesystem::path(db.path()).filename().string()},
      {"schema_names", include_main ? nlohmann::json::array({"main"}) : nlohmann::json::array()}};
  if (!include_main) return JobResult::success(std::move(result));

  std::optional<JobError> error;
  auto tables = prepare_tables(db, params.include_views, error);
  if (!tables) return failed(*error);
  TableDetails details(db, params.include_stats, error);
  if (error) return failed(*error);

  int rc = 0;
  while ((rc = sqlite3_step(tables.get())) == SQLITE_ROW) {
    Table table = table_of(tables.get(), params.include_definitions);
    if (!params.wants_table(table.name)) continue;
    if (auto e = details.describe(table)) return failed(*e);
    if (!ctx.sink.add_table(table)) {
      if (ctx.cancel.cancelled()) return failed(db.error_for(SQLITE_INTERRUPT));
      result["truncated"] = true;
      return JobResult::success(std::move(result));
    }
  }
  if (rc != SQLITE_DONE) return failed(db.error_for(rc));
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::sqlite
