#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sqlite/sqlite_db.hpp"

namespace outpost::connectors::sqlite {
namespace {

std::string text(sqlite3_stmt* stmt, int col) {
  const auto* p = sqlite3_column_text(stmt, col);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p),
                                    static_cast<std::size_t>(sqlite3_column_bytes(stmt, col)))
                      : std::string();
}

JobResult fail(JobError error) {
  return JobResult{std::move(error), nlohmann::json::object()};
}

const char* storage_class(int type) {
  switch (type) {
    case SQLITE_INTEGER: return "INTEGER";
    case SQLITE_FLOAT: return "REAL";
    case SQLITE_TEXT: return "TEXT";
    case SQLITE_BLOB: return "BLOB";
    default: return "";
  }
}

// The value of `col`, its size checked against what the row may still take
// before SQLite converts it or materialises it (a zeroblob() is only a
// length until sqlite3_column_blob): too large, it is never fetched.
void write_value(RowWriter& row, sqlite3_stmt* stmt, int col) {
  switch (sqlite3_column_type(stmt, col)) {
    case SQLITE_INTEGER: row.integer(sqlite3_column_int64(stmt, col)); break;
    case SQLITE_FLOAT: row.number(sqlite3_column_double(stmt, col)); break;
    case SQLITE_TEXT: {
      // A TEXT value's UTF-8 byte count needs no conversion to learn.
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, col));
      if (!row.fits(n + 2)) {
        row.value_too_large();
        break;
      }
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
      row.string(std::string_view(p != nullptr ? p : "", n));
      break;
    }
    case SQLITE_BLOB: {
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, col));
      if (!row.fits((n + 2) / 3 * 4 + 2)) {
        row.value_too_large();
        break;
      }
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
      row.binary(std::string_view(p != nullptr ? p : "", n));
      break;
    }
    default: row.null_value(); break;
  }
}

// Whether anything but whitespace and comments follows the first statement.
bool has_second_statement(Database& db, const char* tail) {
  while (tail != nullptr && *tail != '\0') {
    sqlite3_stmt* next = nullptr;
    const char* rest = nullptr;
    if (sqlite3_prepare_v2(db.raw(), tail, -1, &next, &rest) != SQLITE_OK) return true;
    const bool found = next != nullptr;
    sqlite3_finalize(next);
    if (found) return true;
    if (rest == tail) break;
    tail = rest;
  }
  return false;
}

}  // namespace

JobResult run_metadata(Database& db, JobContext& ctx) {
  const auto& p = ctx.job.params;
  bool include_main = true;
  bool include_views = true;
  if (!p.is_object())
    return JobResult::failure(ErrorCode::kInvalidJob, "metadata params must be an object");
  if (auto it = p.find("schemas"); it != p.end() && !it->is_null()) {
    if (!it->is_array() ||
        !std::all_of(it->begin(), it->end(), [](const auto& s) { return s.is_string(); })) {
      return JobResult::failure(ErrorCode::kInvalidJob,
                                "metadata params: \"schemas\" must be an array of strings");
    }
    include_main = std::find(it->begin(), it->end(), "main") != it->end();
  }
  if (auto it = p.find("include_views"); it != p.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return JobResult::failure(ErrorCode::kInvalidJob,
                                "metadata params: \"include_views\" must be true or false");
    }
    include_views = it->get<bool>();
  }
  nlohmann::json result = {
      {"database", std::filesystem::path(db.path()).filename().string()},
      {"schema_names", include_main ? nlohmann::json::array({"main"}) : nlohmann::json::array()}};
  if (!include_main) return JobResult::success(std::move(result));

  std::optional<JobError> error;
  auto stat = db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'sqlite_stat1'", error);
  if (!stat) return fail(*error);
  int rc = sqlite3_step(stat.get());
  if (rc != SQLITE_ROW) return fail(db.error_for(rc));
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
  if (!tables) return fail(*error);
  auto columns = db.prepare(
      "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\" FROM sqlite_schema m "
      "JOIN pragma_table_info(m.name) p" +
          filter + " ORDER BY m.name, p.cid",
      error);
  if (!columns) return fail(*error);

  int crc = sqlite3_step(columns.get());
  while ((rc = sqlite3_step(tables.get())) == SQLITE_ROW) {
    const std::string name = text(tables.get(), 0);
    nlohmann::json table = {{"schema", "main"},
                            {"name", name},
                            {"kind", text(tables.get(), 1) == "view" ? "view" : "table"},
                            {"row_estimate", nullptr}};
    if (sqlite3_column_type(tables.get(), 2) != SQLITE_NULL) {
      table["row_estimate"] = sqlite3_column_int64(tables.get(), 2);
    }
    auto& cols = table["columns"] = nlohmann::json::array();
    while (crc == SQLITE_ROW && text(columns.get(), 0) == name) {
      cols.push_back({{"name", text(columns.get(), 2)},
                      {"type", text(columns.get(), 3)},
                      {"nullable", sqlite3_column_int(columns.get(), 4) == 0},
                      {"ordinal", sqlite3_column_int64(columns.get(), 1) + 1}});
      crc = sqlite3_step(columns.get());
    }
    if (crc != SQLITE_ROW && crc != SQLITE_DONE) return fail(db.error_for(crc));
    if (!ctx.sink.add_table(table)) {
      if (ctx.cancel.cancelled()) return fail(db.error_for(SQLITE_INTERRUPT));
      result["truncated"] = true;
      return JobResult::success(std::move(result));
    }
  }
  if (rc != SQLITE_DONE) return fail(db.error_for(rc));
  return JobResult::success(std::move(result));
}

JobResult run_query(Database& db, JobContext& ctx) {
  const auto& p = ctx.job.params;
  if (!p.is_object() || !p.contains("sql") || !p["sql"].is_string()) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "query params: \"sql\" must be a non-empty string");
  }
  const std::string& sql = p["sql"].get_ref<const std::string&>();
  std::optional<std::uint64_t> max_rows;
  if (auto it = p.find("max_rows"); it != p.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return JobResult::failure(ErrorCode::kInvalidJob,
                                "query params: \"max_rows\" must be a non-negative integer");
    }
    max_rows = it->get<std::uint64_t>();
  }

  const char* tail = nullptr;
  std::optional<JobError> error;
  StmtPtr stmt = db.prepare(sql, error, &tail);
  if (error) return fail(std::move(*error));
  if (!stmt)
    return JobResult::failure(ErrorCode::kInvalidJob, "query params: \"sql\" has no statement");
  if (has_second_statement(db, tail)) {
    return JobResult::failure(ErrorCode::kQueryError, "only one statement per query job");
  }
  if (sqlite3_bind_parameter_count(stmt.get()) > 0) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "the statement has parameters; query jobs take literal SQL");
  }
  if (sqlite3_stmt_readonly(stmt.get()) == 0) {
    return JobResult::failure(ErrorCode::kReadOnlyViolation,
                              "the statement would write, and the database is opened read-only");
  }

  const int ncols = sqlite3_column_count(stmt.get());
  int rc = sqlite3_step(stmt.get());
  // Declared types name the columns; an expression has none, so the first
  // row's storage class does (or "" for an empty result).
  std::vector<Column> columns;
  for (int c = 0; c < ncols; ++c) {
    const char* declared = sqlite3_column_decltype(stmt.get(), c);
    columns.push_back(Column{sqlite3_column_name(stmt.get(), c),
                             declared != nullptr ? declared
                             : rc == SQLITE_ROW  ? storage_class(sqlite3_column_type(stmt.get(), c))
                                                 : ""});
  }
  ctx.sink.set_columns(std::move(columns));

  std::uint64_t written = 0;
  nlohmann::json result = nlohmann::json::object();
  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt.get())) {
    if (max_rows && written >= *max_rows) {
      result["truncated"] = true;
      return JobResult::success(std::move(result));
    }
    RowWriter& row = ctx.sink.begin_row();
    for (int c = 0; c < ncols; ++c) write_value(row, stmt.get(), c);
    if (!ctx.sink.end_row()) {
      if (ctx.cancel.cancelled()) return fail(db.error_for(SQLITE_INTERRUPT));
      return JobResult::success(std::move(result));
    }
    ++written;
    db.limit_values(ctx.sink.max_value_bytes());
  }
  if ((rc & 0xFF) == SQLITE_TOOBIG) {
    // SQLite refused to build a value past SQLITE_LIMIT_LENGTH, i.e. past
    // what the result can still take: the sink reports it as it reports
    // any value past the budget (truncated, or result_too_large when the
    // budget is larger than one part).
    RowWriter& row = ctx.sink.begin_row();
    row.value_too_large();
    (void)ctx.sink.end_row();
    if (ctx.cancel.cancelled()) return fail(db.error_for(SQLITE_INTERRUPT));
    return JobResult::success(std::move(result));
  }
  if (rc != SQLITE_DONE) return fail(db.error_for(rc));
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::sqlite
