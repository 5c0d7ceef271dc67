// The metadata job: one information_schema query for tables and views, one
// for columns, merged in order so each table goes to the sink as soon as its
// columns are complete (columns are streamed, never all held at once).
#include <mysql.h>

#include <charconv>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mysql/mysql_jobs.hpp"

namespace outpost::connectors::mysql {
namespace {

struct TableRow {
  std::string schema;
  std::string name;
  std::string kind;
  std::optional<std::uint64_t> row_estimate;
};

std::string quoted(MYSQL* handle, const std::string& text) {
  std::string out(text.size() * 2 + 1, '\0');
  const auto n = mysql_real_escape_string(handle, out.data(), text.data(),
                                          static_cast<unsigned long>(text.size()));
  out.resize(n);
  return "'" + out + "'";
}

std::string where_clause(MYSQL* handle, const MetadataParams& filter) {
  std::string where =
      " WHERE TABLE_SCHEMA NOT IN ('mysql','information_schema','performance_schema','sys')";
  if (filter.schemas) {
    // An empty list matches nothing (and "IN ()" is not SQL).
    where += " AND TABLE_SCHEMA IN (";
    if (filter.schemas->empty()) where += "NULL";
    for (std::size_t i = 0; i < filter.schemas->size(); ++i) {
      where += (i == 0 ? "" : ",") + quoted(handle, (*filter.schemas)[i]);
    }
    where += ")";
  }
  return where;
}

std::string text(const MYSQL_ROW row, const unsigned long* lengths, unsigned i) {
  return row[i] == nullptr ? std::string() : std::string(row[i], lengths[i]);
}

std::optional<JobError> load_tables(Connection& connection, const std::string& where,
                                    const MetadataParams& filter, std::vector<TableRow>& tables) {
  // MariaDB marks system-versioned tables 'SYSTEM VERSIONED'; sequences are
  // not listed (no kind in the protocol fits them).
  std::string sql =
      "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES" +
      where + " AND TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED'" +
      (filter.include_views ? ",'VIEW'" : "") + ") ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME";
  MYSQL* handle = connection.handle();
  if (mysql_real_query(handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return connection.last_error();
  }
  MYSQL_RES* result = mysql_store_result(handle);
  if (result == nullptr) return connection.last_error();
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    TableRow table{text(row, lengths, 0), text(row, lengths, 1), "table", std::nullopt};
    if (text(row, lengths, 2) == "VIEW") table.kind = "view";
    if (row[3] != nullptr && table.kind == "table") {
      std::uint64_t estimate = 0;
      std::from_chars(row[3], row[3] + lengths[3], estimate);
      table.row_estimate = estimate;
    }
    tables.push_back(std::move(table));
  }
  mysql_free_result(result);
  return std::nullopt;
}

Table table_object(const TableRow& table, std::vector<TableColumn> columns) {
  return Table{table.schema, table.name, table.kind,
               table.row_estimate
                   ? std::optional<std::int64_t>(static_cast<std::int64_t>(*table.row_estimate))
                   : std::nullopt,
               std::move(columns)};
}

}  // namespace

JobResult run_metadata(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  const MetadataParams& filter = ctx.job.metadata;
  Connection& connection = *session;
  if (auto error = begin_read_only(connection, remaining_budget(ctx))) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  MYSQL* handle = connection.handle();
  const std::string where = where_clause(handle, filter);
  std::vector<TableRow> tables;
  if (auto error = load_tables(connection, where, filter, tables)) {
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  // The `tables` patterns: the columns of a table left out are skipped below.
  std::erase_if(tables, [&](const TableRow& t) { return !filter.wants_table(t.name); });

  const std::string sql =
      "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, ORDINAL_POSITION "
      "FROM information_schema.COLUMNS" +
      where + " ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME, ORDINAL_POSITION";
  if (mysql_real_query(handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0) {
    return JobResult{connection.last_error(), nlohmann::json::object()};
  }
  MYSQL_RES* result = mysql_use_result(handle);
  if (result == nullptr) return JobResult{connection.last_error(), nlohmann::json::object()};

  // Both queries are in byte order, and std::string compares bytes, so one
  // pass pairs each table with its columns.
  std::size_t current = 0;
  std::vector<TableColumn> columns;
  bool stopped = false;
  auto emit_until = [&](const std::string& schema, const std::string& name) {
    while (current < tables.size() &&
           std::tie(tables[current].schema, tables[current].name) < std::tie(schema, name)) {
      if (!ctx.sink.add_table(table_object(tables[current], std::move(columns)))) return false;
      columns.clear();
      ++current;
    }
    return true;
  };
  while (MYSQL_ROW row = mysql_fetch_row(result)) {
    const unsigned long* lengths = mysql_fetch_lengths(result);
    const std::string schema = text(row, lengths, 0);
    const std::string name = text(row, lengths, 1);
    if (!emit_until(schema, name) || ctx.cancel.cancelled()) {
      stopped = true;
      break;
    }
    if (current < tables.size() && tables[current].schema == schema &&
        tables[current].name == name) {
      std::int64_t ordinal = 0;
      if (row[5] != nullptr) std::from_chars(row[5], row[5] + lengths[5], ordinal);
      columns.push_back(TableColumn{text(row, lengths, 2), text(row, lengths, 3),
                                    text(row, lengths, 4) == "YES", ordinal});
    }
  }
  std::optional<JobError> error;
  if (stopped) {
    connection.mark_broken();
    connection.interrupt_socket();
  } else if (mysql_errno(handle) != 0) {
    error = connection.last_error();
  }
  mysql_free_result(result);
  if (ctx.cancel.cancelled()) {
    connection.mark_broken();
    return cancelled_result(ctx.cancel.reason());
  }
  if (error) return JobResult{std::move(error), nlohmann::json::object()};
  if (!stopped) {
    // Tables after the last column row (none in practice) still go out.
    while (current < tables.size() &&
           ctx.sink.add_table(table_object(tables[current], std::move(columns)))) {
      columns.clear();
      ++current;
    }
  }
  return JobResult::success({{"database", config.database}});
}

}  // namespace outpost::connectors::mysql
