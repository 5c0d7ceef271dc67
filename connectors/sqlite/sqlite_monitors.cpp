// The monitor jobs of jobs-v1.1 on SQLite: `volume` (sqlite_stat1's row
// count after ANALYZE, else count(*)) and `freshness` (max of a column read
// as a date/time: ISO text, or Unix seconds when numeric). SQLite keeps no
// last-modified time of its own, so freshness needs a column. Names are
// bound as parameters to look the table up, then quoted.
#include <optional>
#include <string>
#include <variant>

#include "common/monitors.hpp"
#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {
namespace {

using common::FreshnessSource;

}  // namespace

std::variant<Found, JobResult> find_table(Database& db, const TableRef& target) {
  if (target.schema && *target.schema != "main") return common::table_not_found(target);
  std::optional<JobError> error;
  auto st = db.prepare(
      "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?1 "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      error);
  if (!st) return failed(*error);
  sqlite3_bind_text(st.get(), 1, target.table.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return common::table_not_found(target);
  if (rc != SQLITE_ROW) return failed(db.error_for(rc));
  return Found{text(st.get(), 0), text(st.get(), 1) == "view"};
}

namespace {

// Runs `sql` (one bound text parameter, optional) and returns its one value.
std::variant<std::optional<std::string>, JobResult> single_value(
    Database& db, const std::string& sql, const std::optional<std::string>& param = {}) {
  std::optional<JobError> error;
  auto st = db.prepare(sql, error);
  if (!st) return failed(*error);
  if (param) sqlite3_bind_text(st.get(), 1, param->c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return failed(db.error_for(rc));
  if (sqlite3_column_type(st.get(), 0) == SQLITE_NULL) return std::optional<std::string>();
  return std::optional<std::string>(text(st.get(), 0));
}

}  // namespace

JobResult run_volume(Database& db, JobContext& ctx) {
  auto found = find_table(db, ctx.job.volume.target);
  if (auto* failed_result = std::get_if<JobResult>(&found)) return std::move(*failed_result);
  const auto& table = std::get<Found>(found);
  if (!ctx.job.volume.exact && !table.view) {
    // ANALYZE's count, the first number of the table's stat rows, once
    // ANALYZE made sqlite_stat1 (a statement naming it fails to prepare before).
    auto has_stat = single_value(
        db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_stat1'");
    if (auto* failed_result = std::get_if<JobResult>(&has_stat)) return std::move(*failed_result);
    if (std::get<0>(has_stat)) {
      auto estimate = single_value(
          db, "SELECT max(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = ?1", table.name);
      if (auto* failed_result = std::get_if<JobResult>(&estimate)) return std::move(*failed_result);
      if (const auto& n = std::get<0>(estimate))
        return common::volume_result(std::stoll(*n), false);
    }
  }
  auto count =
      single_value(db, "SELECT count(*) FROM " + common::quote_identifier(table.name, '"'));
  if (auto* failed_result = std::get_if<JobResult>(&count)) return std::move(*failed_result);
  return common::volume_result(std::stoll(std::get<0>(count).value_or("0")), true);
}

JobResult run_freshness(Database& db, JobContext& ctx) {
  const auto& params = ctx.job.freshness;
  auto found = find_table(db, params.target);
  if (auto* failed_result = std::get_if<JobResult>(&found)) return std::move(*failed_result);
  const auto& table = std::get<Found>(found);
  if (!params.column) {
    return JobResult::failure(ErrorCode::kUnsupported,
                              "SQLite keeps no last-modified time for a table; give "
                              "params.column, a column holding dates or timestamps");
  }
  std::optional<JobError> error;
  auto st =
      db.prepare("SELECT name FROM pragma_table_info(?1) WHERE name = ?2 COLLATE NOCASE", error);
  if (!st) return failed(*error);
  sqlite3_bind_text(st.get(), 1, table.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.get(), 2, params.column->c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st.get());
  if (rc == SQLITE_DONE) return common::column_not_found(params.target, *params.column);
  if (rc != SQLITE_ROW) return failed(db.error_for(rc));
  const std::string name = text(st.get(), 0);
  st.reset();
  // Text is read as SQLite's date/time functions read it (ISO 8601, taken as
  // UTC when it has no zone); numbers as Unix seconds. Text they cannot read
  // comes back as stored.
  auto value = single_value(
      db,
      "SELECT CASE typeof(m) WHEN 'integer' THEN strftime('%Y-%m-%dT%H:%M:%fZ', m, 'unixepoch') "
      "WHEN 'real' THEN strftime('%Y-%m-%dT%H:%M:%fZ', m, 'unixepoch') "
      "WHEN 'text' THEN coalesce(strftime('%Y-%m-%dT%H:%M:%fZ', m), m) END FROM (SELECT max(" +
          common::quote_identifier(name, '"') + ") AS m FROM " +
          common::quote_identifier(table.name, '"') + ")");
  if (auto* failed_result = std::get_if<JobResult>(&value)) return std::move(*failed_result);
  return common::freshness_result(std::get<0>(value), FreshnessSource::kColumn);
}

}  // namespace outpost::connectors::sqlite
