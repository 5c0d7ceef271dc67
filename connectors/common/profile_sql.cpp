#include "common/profile_sql.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/monitors.hpp"

namespace outpost::connectors::common::profile_sql {
namespace {

std::string call(const char* fn, const std::string& arg) {
  return std::string(fn) + "(" + arg + ")";
}

// The nine slots of one column (NULL where the kind has no such figure).
void column_slots(const ProfileColumn& c, const ProfileDialect& d, std::string& out) {
  const std::string q = quote_identifier(c.name, d.quote);
  const bool other = c.kind == ProfileKind::kOther;
  std::vector<std::string> slots;
  slots.push_back("count(" + q + ")");
  slots.push_back("count(DISTINCT " + (other ? d.as_text(q) : q) + ")");
  if (c.kind == ProfileKind::kBoolean) {
    slots.push_back(call(d.bool_min, q));
    slots.push_back(call(d.bool_max, q));
  } else {
    slots.push_back(other ? "NULL" : "min(" + q + ")");
    slots.push_back(other ? "NULL" : "max(" + q + ")");
  }
  if (numeric(c.kind)) {
    const std::string x = d.as_double(q);
    slots.push_back("avg(" + x + ")");
    if (d.variance_fn != nullptr) {
      slots.push_back(call(d.variance_fn, x));
    } else {
      // Sample variance from sums (no overflow: total() is a double sum).
      slots.push_back("(total(" + x + " * " + x + ") - total(" + x + ") * total(" + x +
                      ") / count(" + q + ")) / nullif(count(" + q + ") - 1, 0)");
    }
  } else {
    slots.insert(slots.end(), {"NULL", "NULL"});
  }
  if (c.kind == ProfileKind::kText) {
    const std::string len = call(d.length_fn, q);
    slots.insert(slots.end(), {"min(" + len + ")", "max(" + len + ")", "avg(" + len + ")"});
  } else {
    slots.insert(slots.end(), {"NULL", "NULL", "NULL"});
  }
  for (const auto& s : slots) out += ", " + s;
}

}  // namespace

std::string base_select(const ProfileSource& source, const ProfileDialect& dialect) {
  std::string sql = "SELECT count(*)";
  for (const auto& c : source.columns) column_slots(c, dialect, sql);
  return sql + " FROM " + source.from;
}

std::string top_k_select(const ProfileColumn& column, const ProfileSource& source,
                         const ProfileDialect& dialect, std::uint32_t k) {
  const std::string q = quote_identifier(column.name, dialect.quote);
  const std::string v = column.kind == ProfileKind::kOther ? dialect.as_text(q) : q;
  return "SELECT " + v + ", count(*) FROM " + source.from + " WHERE " + q +
         " IS NOT NULL GROUP BY " + v + " ORDER BY 2 DESC, 1 LIMIT " + std::to_string(k);
}

std::string histogram_select(const ProfileColumn& column, const ProfileSource& source,
                             const ProfileDialect& dialect, std::uint32_t bins, double lo,
                             double hi) {
  const std::string x = dialect.as_double(quote_identifier(column.name, dialect.quote));
  const std::string n = std::to_string(bins);
  // The top value belongs to the last bucket; lo == hi puts all in bucket 0.
  const std::string bucket = hi > lo
                                 ? "CASE WHEN " + x + " >= " + format_double(hi) + " THEN " +
                                       std::to_string(bins - 1) + " ELSE " +
                                       dialect.floor("(" + x + " - " + format_double(lo) + ") * " +
                                                     n + " / " + format_double(hi - lo)) +
                                       " END"
                                 : std::string("0");
  return "SELECT b, count(*) FROM (SELECT " + bucket + " AS b FROM " + source.from + " WHERE " + x +
         " IS NOT NULL) AS h GROUP BY b ORDER BY b";
}

std::optional<double> to_double(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(text->c_str(), &end);
  if (end == text->c_str()) return std::nullopt;
  return v;
}

std::string format_double(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

nlohmann::json map_value(ProfileKind kind, const std::optional<std::string>& text) {
  if (!text) return nullptr;
  const std::string& s = *text;
  switch (kind) {
    case ProfileKind::kInteger: {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      constexpr std::int64_t kExact = std::int64_t{1} << 53;
      if (ec == std::errc() && end == s.data() + s.size() && v <= kExact && v >= -kExact) return v;
      return s;
    }
    case ProfileKind::kFloat: {
      const auto v = to_double(text);
      if (v && std::isfinite(*v)) return *v;
      return s;
    }
    case ProfileKind::kBoolean: return s == "t" || s == "true" || s == "1";
    case ProfileKind::kTemporal: {
      // "2026-11-30 08:15:00.25+00" → "2026-11-30T08:15:00.25Z"
      std::string iso = s;
      if (iso.size() > 10 && iso[10] == ' ') iso[10] = 'T';
      if (iso.size() > 19 && iso.compare(iso.size() - 3, 3, "+00") == 0) {
        iso.replace(iso.size() - 3, 3, "Z");
      }
      return iso;
    }
    case ProfileKind::kDecimal:
    case ProfileKind::kText:
    case ProfileKind::kOther: return s;
  }
  return s;
}

}  // namespace outpost::connectors::common::profile_sql
