#pragma once

// The results of the monitor jobs of jobs-v1.1 (`freshness`, `volume`), the
// same for every connector, and the words they use for a table.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "outpost/connector.hpp"

namespace outpost::connectors::common {

/// Where a freshness value came from (jobs-v1.1 `source`).
enum class FreshnessSource { kColumn, kCatalog };

/// `{"value", "source", "read_at"}`. `value` is ISO 8601 text, which the
/// connector formats (in SQL where it can), or null when the table is empty
/// or the database does not know.
JobResult freshness_result(const std::optional<std::string>& iso_value, FreshnessSource source);

/// `{"row_count", "exact", "read_at"}`.
JobResult volume_result(std::int64_t row_count, bool exact);

/// "schema.table", or "table" without a schema: for messages only.
std::string describe(const TableRef& target);

/// The failure of a table that does not exist or that the login cannot see
/// (the two look the same to a reader, on purpose).
JobResult table_not_found(const TableRef& target);

/// The failure of a column that is not in the table.
JobResult column_not_found(const TableRef& target, std::string_view column);

/// Quotes an identifier with `quote` (doubled inside): "a""b" or `a``b`.
std::string quote_identifier(std::string_view name, char quote);

}  // namespace outpost::connectors::common
