#include "outpost/params.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "outpost/job.hpp"
#include "params_internal.hpp"

namespace outpost {
namespace params_detail {

using nlohmann::json;

JobError invalid(std::string message) {
  return JobError{ErrorCode::kInvalidJob, std::move(message), false};
}

// A positive integer that fits in int64, or nullopt when it is not one.
std::optional<std::uint64_t> positive_integer(const json& value) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (v == 0 || v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return v;
  }
  if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (v <= 0) return std::nullopt;
    return static_cast<std::uint64_t>(v);
  }
  return std::nullopt;
}

// A name field: a non-empty string without NUL (identifiers are quoted by
// the connectors, never spliced; a NUL would cut them short in C APIs).
std::optional<JobError> name_field(const json& p, const char* key, bool required,
                                   std::optional<std::string>& out) {
  auto v = p.find(key);
  if (v == p.end() || v->is_null()) {
    if (required) return invalid(std::string("field 'params.") + key + "' is missing");
    return std::nullopt;
  }
  if (!v->is_string() || v->get_ref<const std::string&>().empty() ||
      v->get_ref<const std::string&>().find('\0') != std::string::npos) {
    return invalid(std::string("field 'params.") + key + "' must be a non-empty name");
  }
  out = v->get<std::string>();
  return std::nullopt;
}

std::optional<JobError> parse_table(const json& p, TableRef& out) {
  std::optional<std::string> table;
  if (auto e = name_field(p, "table", true, table)) return e;
  out.table = std::move(*table);
  return name_field(p, "schema", false, out.schema);
}

}  // namespace params_detail

namespace {

using nlohmann::json;
using params_detail::invalid;
using params_detail::name_field;
using params_detail::parse_table;
using params_detail::positive_integer;

std::optional<JobError> parse_query(const json& p, QueryParams& out) {
  auto sql = p.find("sql");
  if (sql == p.end() || !sql->is_string())
    return invalid("field 'params.sql' is missing or not a string");
  const auto& text = sql->get_ref<const std::string&>();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return invalid("field 'params.sql' is empty");
  }
  out.sql = text;
  if (auto m = p.find("max_rows"); m != p.end() && !m->is_null()) {
    out.max_rows = positive_integer(*m);
    if (!out.max_rows) return invalid("field 'params.max_rows' must be a positive integer");
  }
  return std::nullopt;
}

std::optional<JobError> parse_metadata(const json& p, MetadataParams& out) {
  if (auto s = p.find("schemas"); s != p.end() && !s->is_null()) {
    if (!s->is_array()) return invalid("field 'params.schemas' must be an array of strings");
    out.schemas.emplace();
    for (const auto& v : *s) {
      if (!v.is_string()) return invalid("field 'params.schemas' must be an array of strings");
      out.schemas->push_back(v.get<std::string>());
    }
  }
  if (auto t = p.find("tables"); t != p.end() && !t->is_null()) {
    if (!t->is_array()) return invalid("field 'params.tables' must be an array of name patterns");
    out.tables.emplace();
    for (const auto& v : *t) {
      if (!v.is_string() || v.get_ref<const std::string&>().empty()) {
        return invalid("field 'params.tables' must be an array of name patterns");
      }
      out.tables->push_back(v.get<std::string>());
    }
  }
  for (auto [key, flag] : {std::pair{"include_views", &out.include_views},
                           std::pair{"include_definitions", &out.include_definitions},
                           std::pair{"include_stats", &out.include_stats}}) {
    if (auto v = p.find(key); v != p.end() && !v->is_null()) {
      if (!v->is_boolean()) {
        return invalid(std::string("field 'params.") + key + "' must be a boolean");
      }
      *flag = v->get<bool>();
    }
  }
  return std::nullopt;
}

std::optional<JobError> parse_freshness(const json& p, FreshnessParams& out) {
  if (auto e = parse_table(p, out.target)) return e;
  return name_field(p, "column", false, out.column);
}

std::optional<JobError> parse_volume(const json& p, VolumeParams& out) {
  if (auto e = parse_table(p, out.target)) return e;
  if (auto v = p.find("exact"); v != p.end() && !v->is_null()) {
    if (!v->is_boolean()) return invalid("field 'params.exact' must be a boolean");
    out.exact = v->get<bool>();
  }
  return std::nullopt;
}

}  // namespace

bool MetadataParams::wants(const std::string& schema) const {
  return !schemas || std::find(schemas->begin(), schemas->end(), schema) != schemas->end();
}

bool MetadataParams::wants_table(const std::string& name) const {
  if (!tables) return true;
  return std::any_of(tables->begin(), tables->end(),
                     [&](const std::string& pattern) { return wildcard_match(pattern, name); });
}

bool wildcard_match(std::string_view pattern, std::string_view text) {
  // Greedy with one backtrack point (the last '*'): linear in practice, and
  // never worse than |pattern| × |text|.
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

namespace {

template <typename T>
void put(json& out, const char* key, const std::optional<T>& value) {
  if (value) out[key] = *value;
}

json column_json(const TableColumn& c) {
  json out{{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}, {"ordinal", c.ordinal}};
  put(out, "default", c.default_value);
  put(out, "generated", c.generated);
  put(out, "comment", c.comment);
  put(out, "enum_values", c.enum_values);
  return out;
}

json stats_json(const TableStats& s) {
  json out = json::object();
  put(out, "n_tup_ins", s.n_tup_ins);
  put(out, "n_tup_upd", s.n_tup_upd);
  put(out, "n_tup_del", s.n_tup_del);
  put(out, "n_live_tup", s.n_live_tup);
  put(out, "n_dead_tup", s.n_dead_tup);
  put(out, "last_vacuum", s.last_vacuum);
  put(out, "last_autovacuum", s.last_autovacuum);
  put(out, "last_analyze", s.last_analyze);
  put(out, "last_autoanalyze", s.last_autoanalyze);
  return out;
}

json keys_json(const Table& table, json out) {
  put(out, "primary_key", table.primary_key);
  if (!table.unique.empty()) out["unique"] = table.unique;
  if (!table.foreign_keys.empty()) {
    json fks = json::array();
    for (const auto& fk : table.foreign_keys) {
      fks.push_back({{"name", fk.name},
                     {"columns", fk.columns},
                     {"ref_schema", fk.ref_schema},
                     {"ref_table", fk.ref_table},
                     {"ref_columns", fk.ref_columns}});
    }
    out["foreign_keys"] = std::move(fks);
  }
  if (table.indexes) {
    json indexes = json::array();
    for (const auto& ix : *table.indexes) {
      indexes.push_back({{"name", ix.name}, {"columns", ix.columns}, {"unique", ix.unique}});
    }
    out["indexes"] = std::move(indexes);
  }
  return out;
}

}  // namespace

json to_json(const Table& table) {
  json columns = json::array();
  for (const auto& c : table.columns) columns.push_back(column_json(c));
  json out{{"schema", table.schema},
           {"name", table.name},
           {"kind", table.kind},
           {"row_estimate", table.row_estimate ? json(*table.row_estimate) : json(nullptr)},
           {"columns", std::move(columns)}};
  put(out, "comment", table.comment);
  put(out, "size_bytes", table.size_bytes);
  put(out, "last_modified", table.last_modified);
  if (table.stats) out["stats"] = stats_json(*table.stats);
  put(out, "partition_of", table.partition_of);
  put(out, "partitions", table.partitions);
  put(out, "definition", table.definition);
  return keys_json(table, std::move(out));
}

std::string fingerprint_text(const Table& table) {
  // JSON of the schema-relevant facts only: not comments, sizes, estimates
  // or times, which change without the schema changing.
  json facts = json::array();
  for (const auto& c : table.columns) {
    facts.push_back({c.name, c.type, c.nullable, c.ordinal, c.default_value.value_or(""),
                     c.generated.value_or(false)});
  }
  json out{{"kind", table.kind}, {"columns", std::move(facts)}};
  put(out, "definition", table.definition);
  put(out, "partition_of", table.partition_of);
  return keys_json(table, std::move(out)).dump();
}

std::optional<JobError> parse_job_params(JobType type, const json& params, JobParams& out) {
  out = JobParams{};
  try {
    if (params.is_null()) {
      switch (type) {
        case JobType::kQuery: return parse_query(json::object(), out.query);
        case JobType::kFreshness: return parse_freshness(json::object(), out.freshness);
        case JobType::kVolume: return parse_volume(json::object(), out.volume);
        case JobType::kProfile: return params_detail::parse_profile(json::object(), out.profile);
        case JobType::kQueryLog:
        case JobType::kMetadata:
        case JobType::kTestConnection: return std::nullopt;
      }
    }
    if (!params.is_object()) return invalid("field 'params' must be an object");
    switch (type) {
      case JobType::kQuery: return parse_query(params, out.query);
      case JobType::kMetadata: return parse_metadata(params, out.metadata);
      case JobType::kFreshness: return parse_freshness(params, out.freshness);
      case JobType::kVolume: return parse_volume(params, out.volume);
      case JobType::kProfile: return params_detail::parse_profile(params, out.profile);
      case JobType::kQueryLog: return params_detail::parse_query_log(params, out.query_log);
      case JobType::kTestConnection: return std::nullopt;
    }
  } catch (const std::exception& e) {
    return invalid(std::string("field 'params' could not be read: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace outpost
