// The query job: one statement, checked read-only by SQLite itself, stepped
// row by row into the sink.
#include <optional>
#include <string>
#include <vector>

#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {
namespace {

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

// Why a prepared statement is not run, checked before its first step.
std::optional<JobResult> refusal(Database& db, sqlite3_stmt* stmt, const char* tail) {
  if (has_second_statement(db, tail)) {
    return JobResult::failure(ErrorCode::kQueryError, "only one statement per query job");
  }
  if (sqlite3_bind_parameter_count(stmt) > 0) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "the statement has parameters; query jobs take literal SQL");
  }
  if (sqlite3_stmt_readonly(stmt) == 0) {
    return JobResult::failure(ErrorCode::kReadOnlyViolation,
                              "the statement would write, and the database is opened read-only");
  }
  return std::nullopt;
}

// Declared types name the columns; an expression has none, so the first
// row's storage class does (or "" for an empty result).
std::vector<Column> describe(sqlite3_stmt* stmt, int ncols, bool have_row) {
  std::vector<Column> columns;
  for (int c = 0; c < ncols; ++c) {
    const char* declared = sqlite3_column_decltype(stmt, c);
    columns.push_back(Column{sqlite3_column_name(stmt, c),
                             declared != nullptr ? declared
                             : have_row          ? storage_class(sqlite3_column_type(stmt, c))
                                                 : ""});
  }
  return columns;
}

}  // namespace

JobResult run_query(Database& db, JobContext& ctx) {
  const std::string& sql = ctx.job.query.sql;
  const std::optional<std::uint64_t>& max_rows = ctx.job.query.max_rows;

  const char* tail = nullptr;
  std::optional<JobError> error;
  StmtPtr stmt = db.prepare(sql, error, &tail);
  if (error) return failed(std::move(*error));
  if (!stmt)
    return JobResult::failure(ErrorCode::kInvalidJob, "query params: \"sql\" has no statement");
  if (auto refused = refusal(db, stmt.get(), tail)) return std::move(*refused);

  const int ncols = sqlite3_column_count(stmt.get());
  int rc = sqlite3_step(stmt.get());
  ctx.sink.set_columns(describe(stmt.get(), ncols, rc == SQLITE_ROW));

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
      if (ctx.cancel.cancelled()) return failed(db.error_for(SQLITE_INTERRUPT));
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
    if (ctx.cancel.cancelled()) return failed(db.error_for(SQLITE_INTERRUPT));
    return JobResult::success(std::move(result));
  }
  if (rc != SQLITE_DONE) return failed(db.error_for(rc));
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::sqlite
