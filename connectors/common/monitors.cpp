#include "common/monitors.hpp"

#include <chrono>

#include "common/text_format.hpp"

namespace outpost::connectors::common {

JobResult freshness_result(const std::optional<std::string>& iso_value, FreshnessSource source) {
  return JobResult::success(
      {{"value", iso_value ? nlohmann::json(*iso_value) : nlohmann::json(nullptr)},
       {"source", source == FreshnessSource::kColumn ? "column" : "catalog"},
       {"read_at", format_iso8601_utc(std::chrono::system_clock::now())}});
}

JobResult volume_result(std::int64_t row_count, bool exact) {
  return JobResult::success({{"row_count", row_count},
                             {"exact", exact},
                             {"read_at", format_iso8601_utc(std::chrono::system_clock::now())}});
}

std::string describe(const TableRef& target) {
  return target.schema ? *target.schema + "." + target.table : target.table;
}

JobResult table_not_found(const TableRef& target) {
  return JobResult::failure(
      ErrorCode::kQueryError,
      "table '" + describe(target) + "' does not exist or this login cannot see it");
}

JobResult column_not_found(const TableRef& target, std::string_view column) {
  return JobResult::failure(
      ErrorCode::kQueryError,
      "table '" + describe(target) + "' has no column '" + std::string(column) + "'");
}

std::string quote_identifier(std::string_view name, char quote) {
  std::string out(1, quote);
  for (char c : name) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

}  // namespace outpost::connectors::common
