// The query job over ODBC: one checked statement, streamed row by row
// with SQLFetch/SQLGetData, SQLCancel from the cancel hook.
#include <algorithm>
#include <string>

#include "common/error_classify.hpp"
#include "odbc/odbc_jobs.hpp"
#include "odbc/odbc_sql_guard.hpp"
#include "odbc/odbc_values.hpp"

namespace outpost::connectors::odbc {

// Per-job server-side statement timeout where the DBMS is known.
namespace {

void apply_statement_timeout(OdbcConnection& c, SQLHSTMT stmt, std::chrono::milliseconds budget) {
  const auto seconds = static_cast<SQLULEN>(std::max<long long>(1, (budget.count() + 999) / 1000));
  // ODBC passes integer attributes in the SQLPOINTER argument itself.
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  SQLSetStmtAttr(stmt, SQL_ATTR_QUERY_TIMEOUT, reinterpret_cast<SQLPOINTER>(seconds), 0);
  if (common::contains_icase(c.dbms_name(), "postgres")) {
    (void)c.execute("SET statement_timeout = " + std::to_string(budget.count()));
  }
}

// Streams the open result set into the sink; `stopped` when the sink or a
// cancel ended it early. The error that ended it, if any.
std::optional<JobError> fetch_rows(JobContext& ctx, SQLHSTMT stmt, SQLSMALLINT width,
                                   bool& stopped) {
  auto shape = describe(stmt, width);
  ctx.sink.set_columns(shape.columns);
  std::string scratch;
  std::uint64_t rows = 0;
  while (true) {
    const SQLRETURN rc = SQLFetch(stmt);
    if (rc == SQL_NO_DATA) return std::nullopt;
    if (!ok(rc)) return classify(diagnose(SQL_HANDLE_STMT, stmt), false);
    RowWriter& writer = ctx.sink.begin_row();
    for (std::size_t i = 0; i < shape.kinds.size(); ++i) {
      if (auto error = write_column(stmt, static_cast<SQLUSMALLINT>(i + 1), shape.kinds[i], writer,
                                    scratch)) {
        return error;
      }
    }
    if (!ctx.sink.end_row() || ((++rows & 1023U) == 0 && ctx.cancel.cancelled())) {
      stopped = true;
      return std::nullopt;
    }
  }
}

}  // namespace

JobResult run_query(JobContext& ctx, OdbcConnection& c) {
  std::string text = ctx.job.query.sql;
  // One statement, no transaction control or session state (the lexer
  // follows the DBMS's rules for literals and comments).
  auto checked = check_statement(text, c.dialect());
  if (checked.refusal) return JobResult::failure(ErrorCode::kInvalidJob, *checked.refusal);
  text = std::move(checked.sql);
  const auto budget = remaining_budget(ctx);
  if (budget <= std::chrono::milliseconds::zero()) {
    return failed(common::budget_exhausted());
  }
  Statement stmt(c.dbc());
  if (!stmt.valid()) return failed(classify(diagnose(SQL_HANDLE_DBC, c.dbc()), false));
  apply_statement_timeout(c, stmt.get(), budget);

  std::optional<JobError> error;
  bool stopped = false;
  {
    // SQLCancel is the one call ODBC allows on a statement from another thread.
    auto registration = ctx.cancel.on_cancel([h = stmt.get()] { SQLCancel(h); });
    SQLRETURN rc =
        ctx.cancel.cancelled()
            ? SQLRETURN{SQL_ERROR}
            : SQLExecDirect(stmt.get(), reinterpret_cast<SQLCHAR*>(text.data()), SQL_NTS);
    SQLSMALLINT width = 0;
    if (ctx.cancel.cancelled()) {
      stopped = true;
    } else if (!ok(rc) && rc != SQL_NO_DATA) {
      error = classify(diagnose(SQL_HANDLE_STMT, stmt.get()), false);
    } else if (!ok(SQLNumResultCols(stmt.get(), &width)) || width == 0) {
      ctx.sink.set_columns({});
    } else {
      error = fetch_rows(ctx, stmt.get(), width, stopped);
      SQLCloseCursor(stmt.get());
    }
  }
  if (ctx.cancel.cancelled()) {
    c.mark_broken();
    return cancelled_result(ctx.cancel);
  }
  if (error) {
    if (error->code == ErrorCode::kUnreachable) c.mark_broken();
    return failed(std::move(*error));
  }
  return JobResult::success();
}

}  // namespace outpost::connectors::odbc
