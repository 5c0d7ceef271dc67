// The monitor jobs of jobs-v1.1 on MySQL/MariaDB: `volume` (TABLE_ROWS, the
// engine's estimate, or COUNT(*)) and `freshness` (max of a date/time column,
// or information_schema's UPDATE_TIME). The table is looked up in
// information_schema with escaped literals; the statements that read it
// quote the names the catalog returned with backticks.
#include <mysql.h>

#include <charconv>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/monitors.hpp"
#include "mysql/mysql_jobs.hpp"

namespace outpost::connectors::mysql {
namespace {

using common::FreshnessSource;
using Row = std::vector<std::optional<std::string>>;

std::string literal(MYSQL* handle, const std::string& text) {
  std::string out(text.size() * 2 + 1, '\0');
  out.resize(mysql_real_escape_string(handle, out.data(), text.data(),
                                      static_cast<unsigned long>(text.size())));
  return "'" + out + "'";
}

// Runs one statement under the job's cancel hook and returns its first row
// (an empty Row when there is none), or the failure.
std::variant<Row, JobResult> first_row(JobContext& ctx, const MysqlConfig& config,
                                       Connection& connection, const std::string& sql) {
  auto rows = all_rows(ctx, config, connection, sql, nullptr);
  if (auto* failed = std::get_if<JobResult>(&rows)) return std::move(*failed);
  auto& all = std::get<TextRows>(rows);
  return all.empty() ? Row{} : std::move(all.front());
}

}  // namespace

std::variant<Found, JobResult> find_table(JobContext& ctx, const MysqlConfig& config,
                                          SessionLease& session, const TableRef& target) {
  Connection& connection = *session;
  if (auto error = begin_read_only(connection, remaining_budget(ctx))) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  MYSQL* handle = connection.handle();
  // UPDATE_TIME is the server's local time: converted from 'SYSTEM' to UTC.
  const std::string sql =
      "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS, "
      "DATE_FORMAT(CONVERT_TZ(UPDATE_TIME, 'SYSTEM', '+00:00'), '%Y-%m-%dT%H:%i:%s.000Z') "
      "FROM information_schema.TABLES WHERE TABLE_SCHEMA = " +
      (target.schema ? literal(handle, *target.schema) : std::string("DATABASE()")) +
      " AND TABLE_NAME = " + literal(handle, target.table);
  auto row = first_row(ctx, config, connection, sql);
  if (auto* failed = std::get_if<JobResult>(&row)) return std::move(*failed);
  auto& r = std::get<Row>(row);
  if (r.size() != 5 || !r[0] || !r[1]) return common::table_not_found(target);
  return Found{*r[0], *r[1], r[2].value_or("") == "VIEW", r[3], r[4]};
}

std::string Found::quoted() const {
  return common::quote_identifier(schema, '`') + "." + common::quote_identifier(name, '`');
}

namespace {

std::int64_t to_int(const std::optional<std::string>& text) {
  std::int64_t v = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

// DATE_FORMAT patterns that print ISO 8601 (the session's time zone is UTC,
// so a TIMESTAMP prints in UTC; a DATETIME has no zone and gets none).
std::optional<std::string> iso_expression(const std::string& type, const std::string& column) {
  if (type == "timestamp") {
    return "CONCAT(LEFT(DATE_FORMAT(MAX(" + column + "), '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z')";
  }
  if (type == "datetime") {
    return "LEFT(DATE_FORMAT(MAX(" + column + "), '%Y-%m-%dT%H:%i:%s.%f'), 23)";
  }
  if (type == "date") return "DATE_FORMAT(MAX(" + column + "), '%Y-%m-%d')";
  return std::nullopt;
}

JobResult column_freshness(JobContext& ctx, const MysqlConfig& config, Connection& connection,
                           const Found& table, const std::string& column) {
  const auto& target = ctx.job.freshness.target;
  MYSQL* handle = connection.handle();
  auto row = first_row(ctx, config, connection,
                       "SELECT COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                       "WHERE TABLE_SCHEMA = " +
                           literal(handle, table.schema) +
                           " AND TABLE_NAME = " + literal(handle, table.name) +
                           " AND COLUMN_NAME = " + literal(handle, column));
  if (auto* failed = std::get_if<JobResult>(&row)) return std::move(*failed);
  auto& r = std::get<Row>(row);
  if (r.size() != 2 || !r[0]) return common::column_not_found(target, column);
  const std::string type = r[1].value_or("");
  const auto expr = iso_expression(type, common::quote_identifier(*r[0], '`'));
  if (!expr) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "column '" + column + "' of '" + common::describe(target) + "' is " +
                                  type + "; freshness needs a date, datetime or timestamp column");
  }
  auto value = first_row(ctx, config, connection, "SELECT " + *expr + " FROM " + table.quoted());
  if (auto* failed = std::get_if<JobResult>(&value)) return std::move(*failed);
  auto& v = std::get<Row>(value);
  return common::freshness_result(v.empty() ? std::nullopt : v[0], FreshnessSource::kColumn);
}

}  // namespace

JobResult run_volume(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  auto found = find_table(ctx, config, session, ctx.job.volume.target);
  if (auto* failed = std::get_if<JobResult>(&found)) return std::move(*failed);
  const auto& table = std::get<Found>(found);
  if (!ctx.job.volume.exact && !table.view && table.table_rows) {
    return common::volume_result(to_int(table.table_rows), false);
  }
  auto row = first_row(ctx, config, *session, "SELECT COUNT(*) FROM " + table.quoted());
  if (auto* failed = std::get_if<JobResult>(&row)) return std::move(*failed);
  auto& r = std::get<Row>(row);
  return common::volume_result(to_int(r.empty() ? std::nullopt : r[0]), true);
}

JobResult run_freshness(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  auto found = find_table(ctx, config, session, ctx.job.freshness.target);
  if (auto* failed = std::get_if<JobResult>(&found)) return std::move(*failed);
  const auto& table = std::get<Found>(found);
  if (ctx.job.freshness.column) {
    return column_freshness(ctx, config, *session, table, *ctx.job.freshness.column);
  }
  if (table.view) {
    return JobResult::failure(ErrorCode::kUnsupported,
                              "'" + common::describe(ctx.job.freshness.target) +
                                  "' is a view, which has no last-modified time; give "
                                  "params.column, a date or timestamp column");
  }
  // NULL when the engine does not track it (InnoDB forgets it at restart
  // until the next change): the value is then null, not a guess.
  return common::freshness_result(table.update_time, FreshnessSource::kCatalog);
}

}  // namespace outpost::connectors::mysql
