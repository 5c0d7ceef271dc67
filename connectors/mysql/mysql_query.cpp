// The query job: one statement in a READ ONLY transaction, rows streamed with
// mysql_use_result (one row in client memory at a time) into the sink, and a
// cancel hook that runs KILL QUERY from a second connection.
#include <mysql.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "mysql/mysql_jobs.hpp"
#include "mysql/mysql_query_killer.hpp"
#include "mysql/mysql_sql_guard.hpp"
#include "mysql/mysql_values.hpp"

namespace outpost::connectors::mysql {
namespace {

std::vector<Column> describe(MYSQL_RES* result, std::vector<ValueKind>& kinds) {
  const unsigned count = mysql_num_fields(result);
  const MYSQL_FIELD* fields = mysql_fetch_fields(result);
  std::vector<Column> columns;
  columns.reserve(count);
  kinds.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    MARIADB_CONST_STRING format{nullptr, 0};
    FieldInfo info{static_cast<int>(fields[i].type), fields[i].flags, fields[i].charsetnr, {}};
    if (mariadb_field_attr(&format, &fields[i], MARIADB_FIELD_ATTR_FORMAT_NAME) == 0 &&
        format.str != nullptr) {
      info.format = std::string_view(format.str, format.length);
    }
    kinds.push_back(value_kind(info));
    columns.push_back(Column{std::string(fields[i].name, fields[i].name_length), type_name(info)});
  }
  return columns;
}

struct StreamOutcome {
  std::optional<JobError> error;
  bool truncated = false;  ///< a row past the driver's bound and past the byte budget
};

// Copies the rows into the sink; false when the sink or a cancel stopped it.
bool copy_rows(JobContext& ctx, MYSQL_RES* result, const std::vector<ValueKind>& kinds) {
  const std::size_t width = kinds.size();
  std::uint64_t rows = 0;
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    RowWriter& writer = ctx.sink.begin_row();
    for (std::size_t i = 0; i < width; ++i) {
      if (row[i] == nullptr) {
        writer.null_value();
      } else {
        write_value(writer, kinds[i], std::string_view(row[i], lengths[i]));
      }
    }
    if (!ctx.sink.end_row() || ((++rows & 1023U) == 0 && ctx.cancel.cancelled())) return false;
  }
  return true;
}

// Streams the result set; returns the error that ended it early, if any.
StreamOutcome stream_rows(JobContext& ctx, Connection& connection) {
  MYSQL* handle = connection.handle();
  MYSQL_RES* result = mysql_use_result(handle);
  if (result == nullptr) {
    if (mysql_field_count(handle) == 0) {
      ctx.sink.set_columns({});  // a statement without a result set
      return {};
    }
    return {connection.last_error()};
  }
  std::vector<ValueKind> kinds;
  ctx.sink.set_columns(describe(result, kinds));
  const bool stopped = !copy_rows(ctx, result, kinds);
  std::optional<JobError> error;
  bool truncated = false;
  if (stopped) {
    // mysql_free_result would read (and discard) every remaining row; cutting
    // the link ends the statement on the server and the drain at once.
    connection.mark_broken();
    connection.interrupt_socket();
  } else if (mysql_errno(handle) != 0) {
    error = connection.last_error();
    if (error->code == ErrorCode::kResultTooLarge) {
      // A row packet past kMaxRowPacketBytes: Connector/C refused it before
      // allocating, and the rest of it is still on the link. If the row
      // would not have fitted the job's byte budget either, the sink would
      // have cut the result there: say truncated, as it would have. (The row
      // begun here to ask is never ended, so the sink drops it.)
      connection.mark_broken();
      connection.interrupt_socket();
      if (!ctx.sink.begin_row().fits(kMaxRowPacketBytes)) {
        error.reset();
        truncated = true;
      }
    }
  }
  mysql_free_result(result);
  if (error || stopped || truncated) return {error, truncated};
  // A CALL may return further result sets: only the first one is the answer,
  // the rest are read and dropped so the session is usable again.
  while (mysql_more_results(handle)) {
    if (mysql_next_result(handle) > 0) return {connection.last_error()};
    if (MYSQL_RES* extra = mysql_store_result(handle); extra != nullptr) mysql_free_result(extra);
  }
  return {};
}

}  // namespace

JobResult run_query(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  const std::string& text = ctx.job.query.sql;
  if (auto what = forbidden_statement(text)) {
    // Second layer behind the privilege gate and the READ ONLY transaction:
    // effects that escape a transaction are refused before they are sent.
    return JobResult::failure(
        ErrorCode::kReadOnlyViolation,
        "the statement uses " + *what + "; the agent runs read-only statements only");
  }
  Connection& connection = *session;
  if (auto error = begin_read_only(connection, remaining_budget(ctx))) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }

  std::optional<JobError> error;
  bool truncated = false;
  {
    // Declared in this order so the hook is removed before the killer thread
    // is joined, and both are gone before the session is pooled or closed.
    QueryKiller killer(config, connection);
    auto registration = ctx.cancel.on_cancel([&killer] { killer.fire(); });
    if (!ctx.cancel.cancelled()) {
      if (mysql_real_query(connection.handle(), text.data(),
                           static_cast<unsigned long>(text.size())) != 0) {
        error = connection.last_error();
      } else {
        auto streamed = stream_rows(ctx, connection);
        error = std::move(streamed.error);
        truncated = streamed.truncated;
      }
    }
  }
  if (ctx.cancel.cancelled()) {
    // A KILL may have landed after the statement ended; never reuse the session.
    connection.mark_broken();
    return cancelled_result(ctx.cancel.reason());
  }
  if (error) {
    // A lost link, a half-read packet, or a server that asked for an
    // agent-side file (a rogue server): never reuse the session.
    if (error->code == ErrorCode::kUnreachable || error->code == ErrorCode::kResultTooLarge ||
        error->code == ErrorCode::kPermissionDenied) {
      connection.mark_broken();
    }
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  if (truncated) return JobResult::success({{"truncated", true}});
  return JobResult::success();
}

}  // namespace outpost::connectors::mysql
