#include "common/profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <utility>

#include "common/monitors.hpp"
#include "common/profile_sql.hpp"

namespace outpost::connectors::common {
namespace {

using nlohmann::json;
using profile_sql::kSlots;
using profile_sql::map_value;
using profile_sql::to_double;

std::int64_t to_int(const std::optional<std::string>& text) {
  const auto v = to_double(text);
  return v ? static_cast<std::int64_t>(std::llround(*v)) : 0;
}

json number_or_null(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json(*v) : json(nullptr);
}

// One column's figures from its slots of the base row.
json column_json(const ProfileColumn& c, const SqlRow& row, std::size_t at, std::int64_t rows,
                 bool sampled) {
  const bool text = c.kind == ProfileKind::kText;
  const auto variance = to_double(row[at + 5]);
  json out{{"name", c.name},
           {"type", c.type},
           {"null_count", rows - to_int(row[at])},
           {"distinct_count", to_int(row[at + 1])},
           {"distinct_exact", !sampled},
           {"min", map_value(c.kind, row[at + 2])},
           {"max", map_value(c.kind, row[at + 3])},
           {"mean", number_or_null(to_double(row[at + 4]))},
           {"stddev",
            number_or_null(variance ? std::optional<double>(std::sqrt(std::max(*variance, 0.0)))
                                    : std::nullopt)},
           {"min_length", text && row[at + 6] ? json(to_int(row[at + 6])) : json(nullptr)},
           {"max_length", text && row[at + 7] ? json(to_int(row[at + 7])) : json(nullptr)},
           {"avg_length", number_or_null(text ? to_double(row[at + 8]) : std::nullopt)}};
  return out;
}

std::optional<JobResult> add_top_k(const ProfileColumn& c, const ProfileSource& source,
                                   const ProfileDialect& dialect, std::uint32_t k,
                                   const RunSql& run, json& out) {
  auto rows = run(profile_sql::top_k_select(c, source, dialect, k));
  if (auto* failed = std::get_if<JobResult>(&rows)) return std::move(*failed);
  json top = json::array();
  for (const auto& r : std::get<SqlRows>(rows)) {
    if (r.size() != 2) continue;
    const auto kind = c.kind == ProfileKind::kOther ? ProfileKind::kText : c.kind;
    top.push_back({{"value", map_value(kind, r[0])}, {"count", to_int(r[1])}});
  }
  out["top_k"] = std::move(top);
  return std::nullopt;
}

// Equal-width buckets between the column's min and max (`lo`, `hi`).
std::optional<JobResult> add_histogram(const ProfileColumn& c, const ProfileSource& source,
                                       const ProfileDialect& dialect, std::uint32_t bins,
                                       const RunSql& run, const SqlRow& row, std::size_t at,
                                       json& out) {
  const auto lo = to_double(row[at + 2]);
  const auto hi = to_double(row[at + 3]);
  json hist = json::array();
  if (lo && hi && std::isfinite(*lo) && std::isfinite(*hi)) {
    auto rows = run(profile_sql::histogram_select(c, source, dialect, bins, *lo, *hi));
    if (auto* failed = std::get_if<JobResult>(&rows)) return std::move(*failed);
    std::vector<std::int64_t> counts(bins, 0);
    for (const auto& r : std::get<SqlRows>(rows)) {
      if (r.size() != 2) continue;
      const auto b = std::clamp<std::int64_t>(to_int(r[0]), 0, bins - 1);
      counts[static_cast<std::size_t>(b)] += to_int(r[1]);
    }
    const double width = (*hi - *lo) / bins;
    for (std::uint32_t i = 0; i < bins; ++i) {
      const double b_lo = *lo + width * i;
      const double b_hi = i + 1 == bins ? *hi : *lo + width * (i + 1);
      hist.push_back({{"lo", profile_sql::format_double(b_lo)},
                      {"hi", profile_sql::format_double(b_hi)},
                      {"count", counts[i]}});
    }
  }
  out["histogram"] = std::move(hist);
  return std::nullopt;
}

}  // namespace

std::variant<std::vector<ProfileColumn>, JobResult> pick_columns(
    std::vector<ProfileColumn> all, const std::optional<std::vector<std::string>>& wanted,
    const std::string& relation) {
  if (!wanted) return all;
  std::vector<ProfileColumn> picked;
  for (const auto& name : *wanted) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
    if (it == all.end()) {
      return JobResult::failure(ErrorCode::kQueryError, relation + " has no column '" + name + "'");
    }
    picked.push_back(*it);
  }
  return picked;
}

JobResult run_profile(const ProfileParams& params, const ProfileSource& source,
                      const ProfileDialect& dialect, const RunSql& run) {
  auto base = run(profile_sql::base_select(source, dialect));
  if (auto* failed = std::get_if<JobResult>(&base)) return std::move(*failed);
  const auto& rows = std::get<SqlRows>(base);
  if (rows.size() != 1 || rows[0].size() != 1 + kSlots * source.columns.size()) {
    return JobResult::failure(ErrorCode::kInternal, "unexpected answer to the profile's SELECT");
  }
  const std::int64_t scanned = to_int(rows[0][0]);
  const bool sampled = source.sample.has_value();
  json columns = json::array();
  int statements = 1;
  for (std::size_t i = 0; i < source.columns.size(); ++i) {
    const auto& c = source.columns[i];
    json col = column_json(c, rows[0], 1 + i * kSlots, scanned, sampled);
    if (params.top_k > 0) {
      if (auto failed = add_top_k(c, source, dialect, params.top_k, run, col)) return *failed;
      ++statements;
    }
    if (params.histogram_bins > 0 && profile_sql::numeric(c.kind)) {
      if (auto failed = add_histogram(c, source, dialect, params.histogram_bins, run, rows[0],
                                      1 + i * kSlots, col)) {
        return *failed;
      }
      ++statements;
    }
    columns.push_back(std::move(col));
  }
  json result{{"row_count", sampled ? (source.estimate ? json(*source.estimate) : json(nullptr))
                                    : json(scanned)},
              {"row_count_exact", !sampled || (source.estimate && source.estimate_exact)},
              {"sampled_rows", scanned},
              {"sample", source.sample ? json(*source.sample) : json(nullptr)},
              {"statements", statements},
              {"columns", std::move(columns)}};
  return JobResult::success(std::move(result));
}

std::string profile_subject(const ProfileParams& params) {
  return params.target ? "table '" + describe(*params.target) + "'" : std::string("the query");
}

std::string subquery_text(const std::string& sql) {
  std::size_t end = sql.size();
  while (end > 0 &&
         (sql[end - 1] == ';' || std::isspace(static_cast<unsigned char>(sql[end - 1])))) {
    --end;
  }
  return sql.substr(0, end);
}

}  // namespace outpost::connectors::common
