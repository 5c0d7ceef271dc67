#pragma once

// The `profile` job of jobs-v1.1, the same for every SQL connector: the
// connector finds the relation, its columns and how to sample it; this
// module writes the statements (all base aggregates of all columns in ONE
// SELECT, then one statement per column for top-k and one for a histogram,
// when asked), runs them through the connector's executor and builds the
// result.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/connector.hpp"

namespace outpost::connectors::common {

/// How a column is profiled and how its values map to JSON (protocol v1 §7.3).
enum class ProfileKind {
  kInteger,   ///< min/max/mean/stddev; values as numbers (wider than 53 bits: strings)
  kFloat,     ///< min/max/mean/stddev; values as numbers
  kDecimal,   ///< min/max/mean/stddev; values as strings
  kText,      ///< min/max and lengths
  kTemporal,  ///< min/max as ISO 8601 text
  kBoolean,   ///< min/max as true/false
  kOther,     ///< null and distinct counts (of the text form) only
};

struct ProfileColumn {
  std::string name;  ///< as the database spells it
  std::string type;  ///< the database's own type name
  ProfileKind kind = ProfileKind::kOther;
};

/// What differs between the SQL dialects.
struct ProfileDialect {
  char quote = '"';                  ///< identifier quote (doubled inside)
  const char* length_fn = "length";  ///< characters of a text value
  /// var_samp, or nullptr: from sums (SQLite has none).
  const char* variance_fn = "var_samp";
  const char* bool_min = "min";
  const char* bool_max = "max";
  std::string (*as_text)(const std::string& expr) = nullptr;    ///< any value as text
  std::string (*as_double)(const std::string& expr) = nullptr;  ///< a number as a double
  std::string (*floor)(const std::string& expr) = nullptr;      ///< of a non-negative double
};

/// The relation to profile, as the connector resolved it.
struct ProfileSource {
  std::vector<ProfileColumn> columns;  ///< in result order, already filtered
  std::string from;                    ///< a FROM item: the (sampled) relation
  std::optional<std::string> sample;   ///< "system 10%", "random 1000 rows"; none: all rows
  /// The relation's total row count when sampled (the catalog's estimate).
  std::optional<std::int64_t> estimate;
  bool estimate_exact = false;  ///< `estimate` is a count
};

using SqlRow = std::vector<std::optional<std::string>>;
using SqlRows = std::vector<SqlRow>;
/// Runs one statement under the job's timeout and cancel hook: its rows as
/// text, or the failure.
using RunSql = std::function<std::variant<SqlRows, JobResult>(const std::string& sql)>;

/// The columns `wanted` names, in its order (all of `all` without it), or the
/// failure naming a column that is not there.
std::variant<std::vector<ProfileColumn>, JobResult> pick_columns(
    std::vector<ProfileColumn> all, const std::optional<std::vector<std::string>>& wanted,
    const std::string& relation);

/// Runs the profile and returns the job's result.
JobResult run_profile(const ProfileParams& params, const ProfileSource& source,
                      const ProfileDialect& dialect, const RunSql& run);

/// "the query" or the table's name, for messages.
std::string profile_subject(const ProfileParams& params);

/// `sql` without trailing blanks and semicolons (it becomes a subquery).
std::string subquery_text(const std::string& sql);

}  // namespace outpost::connectors::common
