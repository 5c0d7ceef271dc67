// The parameters of the jobs-v1.1 `profile` and `query_log` jobs, read once
// with the protocol's rules; every error names its field.
#include <cctype>
#include <cmath>
#include <string>
#include <utility>

#include "params_internal.hpp"

namespace outpost::params_detail {
namespace {

using nlohmann::json;

const json* present(const json& p, const char* key) {
  auto v = p.find(key);
  return v == p.end() || v->is_null() ? nullptr : &*v;
}

std::optional<JobError> parse_columns(const json& p, ProfileParams& out) {
  const json* v = present(p, "columns");
  if (v == nullptr) return std::nullopt;
  const char* message = "field 'params.columns' must be a non-empty array of column names";
  if (!v->is_array() || v->empty() || v->size() > ProfileParams::kMaxColumns) {
    return invalid(message);
  }
  out.columns.emplace();
  for (const auto& c : *v) {
    if (!c.is_string() || c.get_ref<const std::string&>().empty() ||
        c.get_ref<const std::string&>().find('\0') != std::string::npos) {
      return invalid(message);
    }
    out.columns->push_back(c.get<std::string>());
  }
  return std::nullopt;
}

std::optional<JobError> parse_sample(const json& p, ProfileParams& out) {
  if (const json* v = present(p, "sample_percent")) {
    const double pct = v->is_number() ? v->get<double>() : -1.0;
    if (!std::isfinite(pct) || pct <= 0.0 || pct > 100.0) {
      return invalid("field 'params.sample_percent' must be a number above 0 and at most 100");
    }
    out.sample_percent = pct;
  }
  if (const json* v = present(p, "sample_rows")) {
    out.sample_rows = positive_integer(*v);
    if (!out.sample_rows) return invalid("field 'params.sample_rows' must be a positive integer");
    if (out.sample_percent) {
      return invalid("field 'params.sample_rows' cannot be given with 'params.sample_percent'");
    }
  }
  return std::nullopt;
}

std::optional<JobError> bounded(const json& p, const char* key, std::uint32_t max,
                                std::uint32_t& out) {
  const json* v = present(p, key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer() || v->get<std::int64_t>() < 0 || v->get<std::int64_t>() > max) {
    return invalid(std::string("field 'params.") + key + "' must be an integer from 0 to " +
                   std::to_string(max));
  }
  out = static_cast<std::uint32_t>(v->get<std::int64_t>());
  return std::nullopt;
}

// YYYY-MM-DDTHH:MM:SS, optional fraction, then Z or ±HH:MM.
bool iso8601(const std::string& s) {
  auto digits = [&](std::size_t at, std::size_t n) {
    if (at + n > s.size()) return false;
    for (std::size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    }
    return true;
  };
  if (!digits(0, 4) || s.size() < 20 || s[4] != '-' || !digits(5, 2) || s[7] != '-' ||
      !digits(8, 2) || (s[10] != 'T' && s[10] != ' ') || !digits(11, 2) || s[13] != ':' ||
      !digits(14, 2) || s[16] != ':' || !digits(17, 2)) {
    return false;
  }
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    const std::size_t start = ++at;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
    if (at == start || at - start > 9) return false;
  }
  if (at + 1 == s.size()) return s[at] == 'Z';
  return at + 6 == s.size() && (s[at] == '+' || s[at] == '-') && digits(at + 1, 2) &&
         s[at + 3] == ':' && digits(at + 4, 2);
}

}  // namespace

std::optional<JobError> parse_profile(const json& p, ProfileParams& out) {
  const bool has_table = present(p, "table") != nullptr;
  const json* sql = present(p, "sql");
  if (has_table == (sql != nullptr)) {
    return invalid("field 'params.table' or 'params.sql' is required (one of them, not both)");
  }
  if (has_table) {
    TableRef target;
    if (auto e = parse_table(p, target)) return e;
    out.target = std::move(target);
  } else {
    if (!sql->is_string() ||
        sql->get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos) {
      return invalid("field 'params.sql' must be a non-empty SELECT statement");
    }
    if (present(p, "schema") != nullptr) {
      return invalid("field 'params.schema' goes with 'params.table', not with 'params.sql'");
    }
    out.sql = sql->get<std::string>();
  }
  if (auto e = parse_columns(p, out)) return e;
  if (auto e = parse_sample(p, out)) return e;
  if (auto e = bounded(p, "top_k", ProfileParams::kMaxTopK, out.top_k)) return e;
  return bounded(p, "histogram_bins", ProfileParams::kMaxHistogramBins, out.histogram_bins);
}

std::optional<JobError> parse_query_log(const json& p, QueryLogParams& out) {
  if (const json* v = present(p, "since")) {
    if (!v->is_string() || !iso8601(v->get_ref<const std::string&>())) {
      return invalid(
          "field 'params.since' must be an ISO 8601 time with its zone "
          "(2026-12-01T00:00:00Z)");
    }
    out.since = v->get<std::string>();
  }
  if (const json* v = present(p, "limit")) {
    const auto limit = positive_integer(*v);
    if (!limit || *limit > QueryLogParams::kMaxLimit) {
      return invalid("field 'params.limit' must be an integer from 1 to " +
                     std::to_string(QueryLogParams::kMaxLimit));
    }
    out.limit = *limit;
  }
  return std::nullopt;
}

}  // namespace outpost::params_detail
