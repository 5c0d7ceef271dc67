#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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
  /// Only tables whose name matches one of these patterns (`*` matches any
  /// run of characters, everything else itself); nullopt: every table.
  std::optional<std::vector<std::string>> tables;
  bool include_views = true;
  /// jobs-v1.1: view and materialized-view SQL (`definition`).
  bool include_definitions = false;
  /// jobs-v1.1: size and statistics (`size_bytes`, `last_modified`, `stats`).
  bool include_stats = false;

  /// True when `schema` passes the filter (system schemas are the
  /// connector's business: it knows which they are).
  [[nodiscard]] bool wants(const std::string& schema) const;
  /// True when a table named `name` passes the `tables` patterns.
  [[nodiscard]] bool wants_table(const std::string& name) const;
};

/// `*` matches any run of characters (also none); every other character
/// matches itself, case-sensitively.
[[nodiscard]] bool wildcard_match(std::string_view pattern, std::string_view text);

/// A table's column as metadata reports it. The optional members are the
/// jobs-v1.1 additions: absent (nullopt) where the database has no such notion.
struct TableColumn {
  std::string name;
  std::string type;  ///< the database's own type name, with modifiers ("varchar(20)")
  bool nullable = true;
  std::int64_t ordinal = 0;                    ///< 1-based position among the table's columns
  std::optional<std::string> default_value{};  ///< the default's SQL text (`default`)
  std::optional<bool> generated{};             ///< a generated (computed) column
  std::optional<std::string> comment{};
  std::optional<std::vector<std::string>> enum_values{};
};

/// A foreign key of a table (jobs-v1.1 `foreign_keys`).
struct ForeignKey {
  std::string name;
  std::vector<std::string> columns{};
  std::string ref_schema;
  std::string ref_table;
  std::vector<std::string> ref_columns{};
};

/// An index of a table (jobs-v1.1 `indexes`). `columns` are the key
/// columns; an expression key is its SQL text.
struct TableIndex {
  std::string name;
  std::vector<std::string> columns{};
  bool unique = false;
};

/// A table's activity counters and maintenance times (with include_stats),
/// where the database keeps them (PostgreSQL's cumulative statistics, as
/// `pg_stat_user_tables` names them). Counters count since the server's last
/// statistics reset; times are ISO 8601 in UTC. A protocol addition (`stats`).
struct TableStats {
  std::optional<std::int64_t> n_tup_ins{};
  std::optional<std::int64_t> n_tup_upd{};
  std::optional<std::int64_t> n_tup_del{};
  std::optional<std::int64_t> n_live_tup{};
  std::optional<std::int64_t> n_dead_tup{};
  std::optional<std::string> last_vacuum{};
  std::optional<std::string> last_autovacuum{};
  std::optional<std::string> last_analyze{};
  std::optional<std::string> last_autoanalyze{};
};

/// One table, view or other relation found by a metadata job.
struct Table {
  std::string schema;
  std::string name;
  /// "table", "view", "materialized_view", "foreign_table", "partitioned_table".
  std::string kind = "table";
  std::optional<std::int64_t> row_estimate{};  ///< the catalog's estimate; none for views
  std::vector<TableColumn> columns{};

  // jobs-v1.1 additions; nullopt (or empty where noted) is "absent".
  std::optional<std::string> comment{};
  std::optional<std::int64_t> size_bytes{};    ///< with include_stats
  std::optional<std::string> last_modified{};  ///< ISO 8601, with include_stats
  std::optional<TableStats> stats{};           ///< with include_stats, where kept
  std::optional<std::vector<std::string>> primary_key{};
  std::vector<std::vector<std::string>> unique{};  ///< unique constraints (besides the key)
  std::vector<ForeignKey> foreign_keys{};
  std::optional<std::vector<TableIndex>> indexes{};
  std::optional<std::string> partition_of{};  ///< the parent, "schema.table"
  std::optional<std::vector<std::string>> partitions{};
  std::optional<std::string> definition{};  ///< views, with include_definitions
};

/// The table's wire form (one line of a metadata part). The v1.1 fields
/// appear only when known, and `fingerprint` always (table_fingerprint).
nlohmann::json to_json(const Table& table);

/// The facts a schema change alters, in a canonical text: columns (name,
/// type, nullability, order, default, generated), keys and the definition.
/// Its SHA-256 is the table's `fingerprint` (the runtime adds it).
std::string fingerprint_text(const Table& table);

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

/// A profile job (jobs-v1.1 `profile`): per-column statistics of a table,
/// or of a query's result, in one scan of the (sampled) relation.
struct ProfileParams {
  std::optional<TableRef> target;  ///< `table` (and `schema`); or else `sql`
  std::optional<std::string> sql;  ///< a SELECT whose result is profiled
  /// Only these columns, in this order; nullopt: every column.
  std::optional<std::vector<std::string>> columns;
  std::optional<double> sample_percent;      ///< in (0, 100]
  std::optional<std::uint64_t> sample_rows;  ///< positive
  std::uint32_t top_k = 0;                   ///< 0: none; at most kMaxTopK
  std::uint32_t histogram_bins = 0;          ///< 0: none; at most kMaxHistogramBins
  static constexpr std::uint32_t kMaxTopK = 100;
  static constexpr std::uint32_t kMaxHistogramBins = 100;
  static constexpr std::size_t kMaxColumns = 1000;
};

/// A query_log job (jobs-v1.1 `query_log`): the database's normalised
/// statement statistics.
struct QueryLogParams {
  std::optional<std::string> since;  ///< ISO 8601, as given
  std::uint64_t limit = 1000;        ///< at most kMaxLimit
  static constexpr std::uint64_t kMaxLimit = 100000;
};

/// The typed parameters of one job: only the member of its type is filled.
struct JobParams {
  QueryParams query;
  MetadataParams metadata;
  FreshnessParams freshness;
  VolumeParams volume;
  ProfileParams profile;
  QueryLogParams query_log;
};

/// Reads a job's `params` object (null or absent: `{}`) for a job of `type`,
/// with the protocol's rules, once. The error (invalid_job) names the field,
/// e.g. "field 'params.max_rows' must be a positive integer". Never throws.
std::optional<JobError> parse_job_params(JobType type, const nlohmann::json& params,
                                         JobParams& out);

}  // namespace outpost
