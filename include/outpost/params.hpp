#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "outpost/errors.hpp"

namespace outpost {

enum class JobType;

/// A query job's parameters (protocol v1 §7.3), already checked: `sql` holds
/// at least one non-blank character and `max_rows`, when set, is positive.
struct QueryParams {
  std::string sql;
  /// The control plane's row cap for this job; nullopt: only the agent's.
  std::optional<std::uint64_t> max_rows;
};

/// A metadata job's parameters (protocol v1 §7.2).
struct MetadataParams {
  /// Only these schemas; nullopt (the field absent or null): every schema
  /// that is not the database's own catalog. An empty list matches nothing.
  std::optional<std::vector<std::string>> schemas;
  bool include_views = true;

  /// True when `schema` passes the filter (system schemas are the
  /// connector's business: it knows which they are).
  [[nodiscard]] bool wants(const std::string& schema) const;
};

/// A table's column as metadata reports it.
struct TableColumn {
  std::string name;
  std::string type;  ///< the database's own type name, with modifiers ("varchar(20)")
  bool nullable = true;
  std::int64_t ordinal = 0;  ///< 1-based position among the table's columns
};

/// One table, view or other relation found by a metadata job.
struct Table {
  std::string schema;
  std::string name;
  /// "table", "view", "materialized_view", "foreign_table", "partitioned_table".
  std::string kind = "table";
  std::optional<std::int64_t> row_estimate;  ///< the catalog's estimate; none for views
  std::vector<TableColumn> columns;
};

/// The table's wire form (one line of a metadata part).
nlohmann::json to_json(const Table& table);

/// The one table a monitor job reads (jobs-v1.1 `freshness`, `volume`):
/// `table` is a name, never SQL; without `schema` the database's own
/// resolution applies (PostgreSQL's search_path, MySQL's current database,
/// SQLite's `main`).
struct TableRef {
  std::optional<std::string> schema;
  std::string table;
};

/// A freshness job: the newest value of a date or timestamp `column`, or,
/// without one, the database's own last-modified signal for the table.
struct FreshnessParams {
  TableRef target;
  std::optional<std::string> column;
};

/// A volume job: the table's row count, estimated from the catalog unless
/// `exact` asks for a count.
struct VolumeParams {
  TableRef target;
  bool exact = false;
};

/// The typed parameters of one job: only the member of its type is filled.
struct JobParams {
  QueryParams query;
  MetadataParams metadata;
  FreshnessParams freshness;
  VolumeParams volume;
};

/// Reads a job's `params` object (null or absent: `{}`) for a job of `type`,
/// with the protocol's rules, once. The error (invalid_job) names the field,
/// e.g. "field 'params.max_rows' must be a positive integer". Never throws.
std::optional<JobError> parse_job_params(JobType type, const nlohmann::json& params,
                                         JobParams& out);

}  // namespace outpost
