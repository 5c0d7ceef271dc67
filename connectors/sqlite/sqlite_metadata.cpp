// The metadata job: tables and views of "main" with their columns, two
// statements stepped in lockstep (constant memory whatever the schema size).
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {

JobResult run_metadata(Database& db, JobContext& ctx) {
  // SQLite has one schema, "main" (ATTACH is disabled).
  const bool include_main = ctx.job.metadata.wants("main");
  const bool include_views = ctx.job.metadata.include_views;
  nlohmann::json result = {
      {"database", std::filesystem::path(db.path()).filename().string()},
      {"schema_names", include_main ? nlohmann::json::array({"main"}) : nlohmann::json::array()}};
  if (!include_main) return JobResult::success(std::move(result));

  std::optional<JobError> error;
  auto stat = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'", error);
  if (!stat) return failed(*error);
  int rc = sqlite3_step(stat.get());
  if (rc != SQLITE_ROW) return failed(db.error_for(rc));
  const bool has_stat = sqlite3_column_int(stat.get(), 0) > 0;
  stat.reset();

  // Two statements stepped in lockstep, both ordered by name: one query per
  // kind and constant memory however many tables there are.
  const std::string filter = std::string(" WHERE m.type IN ('table'") +
                             (include_views ? ", 'view')" : ")") +
                             " AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";
  auto tables = db.prepare(
      "SELECT m.name, m.type, " + std::string(has_stat ? "s.n" : "NULL") +
          " FROM sqlite_schema m " +
          (has_stat ? "LEFT JOIN (SELECT tbl, max(CAST(stat AS INTEGER)) AS n FROM sqlite_stat1 "
                      "GROUP BY tbl) s ON s.tbl = m.name"
                    : "") +
          filter + " ORDER BY m.name",
      error);
  if (!tables) return failed(*error);
  auto columns = db.prepare(
      "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\" FROM sqlite_schema m "
      "JOIN pragma_table_info(m.name) p" +
          filter + " ORDER BY m.name, p.cid",
      error);
  if (!columns) return failed(*error);

  int crc = sqlite3_step(columns.get());
  while ((rc = sqlite3_step(tables.get())) == SQLITE_ROW) {
    const std::string name = text(tables.get(), 0);
    Table table{"main", name, text(tables.get(), 1) == "view" ? "view" : "table", std::nullopt, {}};
    if (sqlite3_column_type(tables.get(), 2) != SQLITE_NULL) {
      table.row_estimate = sqlite3_column_int64(tables.get(), 2);
    }
    while (crc == SQLITE_ROW && text(columns.get(), 0) == name) {
      table.columns.push_back(TableColumn{text(columns.get(), 2), text(columns.get(), 3),
                                          sqlite3_column_int(columns.get(), 4) == 0,
                                          sqlite3_column_int64(columns.get(), 1) + 1});
      crc = sqlite3_step(columns.get());
    }
    if (crc != SQLITE_ROW && crc != SQLITE_DONE) return failed(db.error_for(crc));
    if (!ctx.job.metadata.wants_table(name)) continue;
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
