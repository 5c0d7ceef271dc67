// The per-table look-ups of the SQLite metadata job: table-valued pragma
// functions bound to the table's name, prepared once for the whole job.
#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

#include "sqlite/sqlite_metadata.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {
namespace {

// Binds `name` as ?1 after a reset.
void bind_name(sqlite3_stmt* stmt, const std::string& name) {
  sqlite3_reset(stmt);
  sqlite3_bind_text(stmt, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
}

std::optional<std::string> opt_text(sqlite3_stmt* stmt, int col) {
  if (sqlite3_column_type(stmt, col) == SQLITE_NULL) return std::nullopt;
  return text(stmt, col);
}

}  // namespace

TableDetails::TableDetails(Database& db, bool include_stats, std::optional<JobError>& error)
    : db_(db) {
  // hidden: 1 is a virtual table's hidden column, 2 and 3 generated columns.
  columns_ = db.prepare(
      "SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?1) "
      "WHERE hidden <> 1 ORDER BY cid",
      error);
  if (!columns_) return;
  indexes_ = db.prepare(
      "SELECT il.name, il.\"unique\", il.origin, ii.name FROM pragma_index_list(?1) il "
      "JOIN pragma_index_info(il.name) ii ORDER BY il.name, ii.seqno",
      error);
  if (!indexes_) return;
  foreign_keys_ = db.prepare(
      "SELECT id, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
      error);
  if (!foreign_keys_) return;
  parent_key_ =
      db.prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk", error);
  if (!parent_key_ || !include_stats) return;
  // dbstat is optional (SQLITE_ENABLE_DBSTAT_VTAB): without it, no size.
  std::optional<JobError> no_dbstat;
  size_ = db.prepare(
      "SELECT sum(d.pgsize) FROM sqlite_schema m JOIN dbstat d "
      "ON d.name = m.name AND d.aggregate = 1 WHERE m.tbl_name = ?1",
      no_dbstat);
}

std::optional<JobError> TableDetails::describe(Table& table) {
  if (auto e = read_columns(table)) return e;
  if (table.kind != "table") return std::nullopt;
  if (auto e = read_indexes(table)) return e;
  if (auto e = read_foreign_keys(table)) return e;
  return size_ ? read_size(table) : std::nullopt;
}

std::optional<JobError> TableDetails::read_columns(Table& table) {
  sqlite3_stmt* s = columns_.get();
  bind_name(s, table.name);
  std::vector<std::pair<int, std::string>> key;  // (position in the key, column)
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    TableColumn column{text(s, 0), text(s, 1), sqlite3_column_int(s, 2) == 0,
                       static_cast<std::int64_t>(table.columns.size()) + 1};
    column.default_value = opt_text(s, 3);
    column.generated = sqlite3_column_int(s, 5) >= 2;
    if (sqlite3_column_int(s, 4) > 0) key.emplace_back(sqlite3_column_int(s, 4), column.name);
    table.columns.push_back(std::move(column));
  }
  if (rc != SQLITE_DONE) return db_.error_for(rc);
  if (!key.empty() && table.kind == "table") {
    std::sort(key.begin(), key.end());
    table.primary_key.emplace();
    for (auto& [position, name] : key) table.primary_key->push_back(std::move(name));
  }
  return std::nullopt;
}

std::optional<JobError> TableDetails::read_indexes(Table& table) {
  sqlite3_stmt* s = indexes_.get();
  bind_name(s, table.name);
  table.indexes.emplace();
  std::vector<std::string> origins;
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const std::string name = text(s, 0);
    if (table.indexes->empty() || table.indexes->back().name != name) {
      table.indexes->push_back(TableIndex{name, {}, sqlite3_column_int(s, 1) != 0});
      origins.push_back(text(s, 2));
    }
    // An expression key has no column name; SQLite does not give its text.
    table.indexes->back().columns.push_back(opt_text(s, 3).value_or("(expression)"));
  }
  if (rc != SQLITE_DONE) return db_.error_for(rc);
  // origin "u": a UNIQUE constraint ("pk": the key's own index, "c": CREATE INDEX).
  for (std::size_t i = 0; i < origins.size(); ++i) {
    if (origins[i] == "u") table.unique.push_back((*table.indexes)[i].columns);
  }
  return std::nullopt;
}

std::optional<JobError> TableDetails::read_foreign_keys(Table& table) {
  sqlite3_stmt* s = foreign_keys_.get();
  bind_name(s, table.name);
  int rc = 0;
  int last_id = -1;
  std::vector<ForeignKey> keys;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (sqlite3_column_int(s, 0) != last_id) {
      last_id = sqlite3_column_int(s, 0);
      // SQLite keeps no name for a foreign key: "name" stays empty.
      keys.push_back(ForeignKey{"", {}, "main", text(s, 1), {}});
    }
    keys.back().columns.push_back(text(s, 2));
    if (auto to = opt_text(s, 3)) keys.back().ref_columns.push_back(*to);
  }
  if (rc != SQLITE_DONE) return db_.error_for(rc);
  for (auto& key : keys) {
    // REFERENCES parent without columns: the parent's primary key.
    if (key.ref_columns.empty()) {
      if (auto e = primary_key_of(key.ref_table, key.ref_columns)) return e;
    }
    table.foreign_keys.push_back(std::move(key));
  }
  return std::nullopt;
}

std::optional<JobError> TableDetails::primary_key_of(const std::string& parent,
                                                     std::vector<std::string>& out) {
  sqlite3_stmt* s = parent_key_.get();
  bind_name(s, parent);
  int rc = 0;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(text(s, 0));
  return rc == SQLITE_DONE ? std::nullopt : std::optional<JobError>(db_.error_for(rc));
}

std::optional<JobError> TableDetails::read_size(Table& table) {
  sqlite3_stmt* s = size_.get();
  bind_name(s, table.name);
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return db_.error_for(rc);
  if (sqlite3_column_type(s, 0) != SQLITE_NULL) table.size_bytes = sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  return std::nullopt;
}

std::string view_query(const std::string& create_view) {
  char quote = 0;
  for (std::size_t i = 0; i + 1 < create_view.size(); ++i) {
    const char c = create_view[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'' || c == '`') {
      quote = c;
    } else if (c == '[') {
      quote = ']';
    } else if ((c == 'A' || c == 'a') && (create_view[i + 1] == 'S' || create_view[i + 1] == 's') &&
               i > 0 && std::isspace(static_cast<unsigned char>(create_view[i - 1])) &&
               (i + 2 == create_view.size() ||
                std::isspace(static_cast<unsigned char>(create_view[i + 2])))) {
      std::size_t start = i + 2;
      while (start < create_view.size() &&
             std::isspace(static_cast<unsigned char>(create_view[start]))) {
        ++start;
      }
      return create_view.substr(start);
    }
  }
  return create_view;
}

}  // namespace outpost::connectors::sqlite
