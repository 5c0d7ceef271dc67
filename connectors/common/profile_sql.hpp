#pragma once

// Private to profile.cpp: the statements of a profile and the mapping of
// their text answers to JSON.

#include <string>

#include "common/profile.hpp"

namespace outpost::connectors::common::profile_sql {

/// Slots per column in the base SELECT: non-null count, distinct count,
/// min, max, mean, variance, min/max/avg length.
constexpr std::size_t kSlots = 9;

/// SELECT count(*), then kSlots expressions per column, FROM the source.
std::string base_select(const ProfileSource& source, const ProfileDialect& dialect);

/// The k most frequent non-null values of `column` with their counts.
std::string top_k_select(const ProfileColumn& column, const ProfileSource& source,
                         const ProfileDialect& dialect, std::uint32_t k);

/// Bucket numbers (0 … bins-1, equal widths over [lo, hi]) with counts.
std::string histogram_select(const ProfileColumn& column, const ProfileSource& source,
                             const ProfileDialect& dialect, std::uint32_t bins, double lo,
                             double hi);

/// A value of a column of `kind` in protocol v1's value mapping.
nlohmann::json map_value(ProfileKind kind, const std::optional<std::string>& text);

/// A number the database printed (null when absent or not a number).
std::optional<double> to_double(const std::optional<std::string>& text);

/// A double in text that reads back the same.
std::string format_double(double v);

[[nodiscard]] inline bool numeric(ProfileKind kind) {
  return kind == ProfileKind::kInteger || kind == ProfileKind::kFloat ||
         kind == ProfileKind::kDecimal;
}

}  // namespace outpost::connectors::common::profile_sql
