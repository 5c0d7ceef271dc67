// The metadata job: one catalog statement (mysql_metadata_sql.cpp) whose rows
// arrive sorted by table; each table is assembled from its rows and goes to
// the sink as soon as the next table starts, so one table is held at a time.
#include <mysql.h>

#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mysql/mysql_jobs.hpp"
#include "mysql/mysql_metadata_sql.hpp"
#include "mysql/mysql_query_killer.hpp"

namespace outpost::connectors::mysql {

std::optional<std::vector<std::string>> enum_values(const std::string& column_type);

namespace {

using Value = std::optional<std::string>;

// One row of the statement, copied out of the client library's buffers.
struct MetaRow {
  std::string schema;
  std::string table;
  char kind = 0;
  std::string group;
  std::int64_t ordinal = 0;
  std::vector<Value> v;  ///< v1..v7 at 0..6
  [[nodiscard]] std::string text(std::size_t i) const { return v[i].value_or(""); }
};

MetaRow read_row(MYSQL_ROW row, const unsigned long* lengths) {
  auto value = [&](unsigned i) -> Value {
    if (row[i] == nullptr) return std::nullopt;
    return std::string(row[i], lengths[i]);
  };
  MetaRow out{value(kSchema).value_or(""),
              value(kTable).value_or(""),
              row[kKind] == nullptr ? '\0' : row[kKind][0],
              value(kGroup).value_or(""),
              0,
              {}};
  if (row[kOrdinal] != nullptr) {
    std::from_chars(row[kOrdinal], row[kOrdinal] + lengths[kOrdinal], out.ordinal);
  }
  for (unsigned i = kV1; i < kV1 + 7; ++i) out.v.push_back(value(i));
  return out;
}

std::optional<std::int64_t> number(const Value& text) {
  std::int64_t n = 0;
  if (!text || std::from_chars(text->data(), text->data() + text->size(), n).ec != std::errc()) {
    return std::nullopt;
  }
  return n;
}

Table table_of(const MetaRow& row) {
  Table table{row.schema, row.table, row.text(0) == "VIEW" ? "view" : "table", std::nullopt, {}};
  if (table.kind == "table") {
    table.row_estimate = number(row.v[1]);
    if (!row.text(2).empty()) table.comment = row.v[2];
    table.size_bytes = number(row.v[3]);
    table.indexes.emplace();
  }
  table.last_modified = row.v[4];
  return table;
}

TableColumn column_of(const MetaRow& row) {
  TableColumn column{row.text(0), row.text(1), row.text(2) == "YES", row.ordinal};
  const std::string extra = row.text(4);
  column.generated =
      extra.find("GENERATED") != std::string::npos || (row.v[5] && !row.v[5]->empty());
  // A generated column's expression stands as its default (as in PostgreSQL).
  // MariaDB writes a missing default as the text NULL.
  if (*column.generated) {
    column.default_value = row.v[5];
  } else if (row.v[3] && *row.v[3] != "NULL") {
    column.default_value = row.v[3];
  }
  if (!row.text(6).empty()) column.comment = row.v[6];
  if (column.type.starts_with("enum(")) column.enum_values = enum_values(column.type);
  return column;
}

// Adds an index, foreign-key or partition row to its table: consecutive rows
// of one group (index or constraint name) extend the group's last entry.
void add_row(Table& table, const MetaRow& row) {
  switch (row.kind) {
    case kViewRow: table.definition = row.v[0]; break;
    case kColumnRow: table.columns.push_back(column_of(row)); break;
    case kIndexRow: {
      if (!table.indexes) return;
      auto& indexes = *table.indexes;
      if (indexes.empty() || indexes.back().name != row.group) {
        indexes.push_back(TableIndex{row.group, {}, row.text(1) == "0"});
      }
      indexes.back().columns.push_back(row.text(0));
      break;
    }
    case kForeignKeyRow: {
      auto& keys = table.foreign_keys;
      if (keys.empty() || keys.back().name != row.group) {
        keys.push_back(ForeignKey{row.group, {}, row.text(1), row.text(2), {}});
      }
      keys.back().columns.push_back(row.text(0));
      keys.back().ref_columns.push_back(row.text(3));
      break;
    }
    case kPartitionRow:
      if (!table.partitions) table.partitions.emplace();
      table.partitions->push_back(row.text(0));
      break;
    default: break;
  }
}

// The key and unique constraints are the PRIMARY and the other unique indexes.
void finish(Table& table) {
  if (!table.indexes) return;
  for (const auto& index : *table.indexes) {
    if (index.name == "PRIMARY") {
      table.primary_key = index.columns;
    } else if (index.unique) {
      table.unique.push_back(index.columns);
    }
  }
}

// Reads the statement's rows and sends each finished table to the sink.
// Returns false when the sink stopped taking tables (or the job was cancelled).
bool stream_tables(JobContext& ctx, MYSQL_RES* result) {
  std::optional<Table> current;
  auto flush = [&] {
    bool more = true;
    if (current && ctx.job.metadata.wants_table(current->name)) {
      finish(*current);
      more = ctx.sink.add_table(*current);
    }
    current.reset();
    return more;
  };
  while (MYSQL_ROW raw = mysql_fetch_row(result)) {
    const MetaRow row = read_row(raw, mysql_fetch_lengths(result));
    if (row.kind == kTableRow) {
      if (!flush() || ctx.cancel.cancelled()) return false;
      current = table_of(row);
    } else if (current && current->schema == row.schema && current->name == row.table) {
      add_row(*current, row);
    }
  }
  return flush();
}

}  // namespace

std::optional<std::vector<std::string>> enum_values(const std::string& column_type) {
  // enum('a','it''s'): quotes inside a value are doubled.
  std::vector<std::string> values;
  std::size_t i = 5;
  while (i < column_type.size() && column_type[i] == '\'') {
    std::string value;
    for (++i; i < column_type.size(); ++i) {
      if (column_type[i] == '\'') {
        if (i + 1 < column_type.size() && column_type[i + 1] == '\'') {
          value += '\'';
          ++i;
          continue;
        }
        break;
      }
      value += column_type[i];
    }
    values.push_back(std::move(value));
    i += 1;  // the closing quote
    if (i < column_type.size() && column_type[i] == ',') ++i;
  }
  if (i >= column_type.size() || column_type[i] != ')') return std::nullopt;
  return values;
}

JobResult run_metadata(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  Connection& connection = *session;
  if (auto error = begin_read_only(connection, remaining_budget(ctx))) {
    connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  MYSQL* handle = connection.handle();
  const std::string sql = metadata_sql(handle, ctx.job.metadata);
  std::optional<JobError> error;
  bool stopped = false;
  {
    // The server sorts before the first row: a cancel must reach it there.
    QueryKiller killer(config, connection);
    auto registration = ctx.cancel.on_cancel([&killer] { killer.fire(); });
    MYSQL_RES* result = nullptr;
    if (mysql_real_query(handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0 ||
        (result = mysql_use_result(handle)) == nullptr) {
      error = connection.last_error();
    } else {
      stopped = !stream_tables(ctx, result);
      if (stopped) {
        connection.mark_broken();
        connection.interrupt_socket();
      } else if (mysql_errno(handle) != 0) {
        error = connection.last_error();
      }
      mysql_free_result(result);
    }
  }
  if (ctx.cancel.cancelled()) {
    connection.mark_broken();
    return cancelled_result(ctx.cancel.reason());
  }
  if (error) {
    if (error->code == ErrorCode::kUnreachable) connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  nlohmann::json out = {{"database", config.database}};
  if (stopped) out["truncated"] = true;
  return JobResult::success(std::move(out));
}

}  // namespace outpost::connectors::mysql
