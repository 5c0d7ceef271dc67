#pragma once
// Private to the SQLite metadata job: the per-table look-ups
// (sqlite_metadata_details.cpp), prepared once and run for each table.

#include <optional>
#include <string>

#include "outpost/errors.hpp"
#include "outpost/params.hpp"
#include "sqlite/sqlite_session.hpp"

namespace outpost::connectors::sqlite {

/// Columns (pragma table_xinfo), keys and indexes (index_list/index_info),
/// foreign keys (foreign_key_list) and, when dbstat is compiled in and
/// stats are asked for, the size of a table and its indexes.
class TableDetails {
 public:
  /// Prepares the statements; on failure `error` is set.
  TableDetails(Database& db, bool include_stats, std::optional<JobError>& error);
  /// Fills `table` (named, kind set) with what SQLite knows of it.
  std::optional<JobError> describe(Table& table);

 private:
  std::optional<JobError> read_columns(Table& table);
  std::optional<JobError> read_indexes(Table& table);
  std::optional<JobError> read_foreign_keys(Table& table);
  std::optional<JobError> read_size(Table& table);
  /// The primary key of `parent`, for a foreign key that names no columns.
  std::optional<JobError> primary_key_of(const std::string& parent, std::vector<std::string>& out);

  Database& db_;
  StmtPtr columns_;
  StmtPtr indexes_;
  StmtPtr foreign_keys_;
  StmtPtr parent_key_;
  StmtPtr size_;  ///< null without dbstat or include_stats
};

/// The SELECT of a `CREATE VIEW … AS SELECT …` statement (the text after the
/// first AS outside quotes and brackets); the whole text when there is none.
std::string view_query(const std::string& create_view);

}  // namespace outpost::connectors::sqlite
