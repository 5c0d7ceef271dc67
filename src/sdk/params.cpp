#include "outpost/params.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "outpost/job.hpp"

namespace outpost {
namespace {

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
  if (auto v = p.find("include_views"); v != p.end() && !v->is_null()) {
    if (!v->is_boolean()) return invalid("field 'params.include_views' must be a boolean");
    out.include_views = v->get<bool>();
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

json to_json(const Table& table) {
  json columns = json::array();
  for (const auto& c : table.columns) {
    columns.push_back(
        {{"name", c.name}, {"type", c.type}, {"nullable", c.nullable}, {"ordinal", c.ordinal}});
  }
  return json{{"schema", table.schema},
              {"name", table.name},
              {"kind", table.kind},
              {"row_estimate", table.row_estimate ? json(*table.row_estimate) : json(nullptr)},
              {"columns", std::move(columns)}};
}

std::optional<JobError> parse_job_params(JobType type, const json& params, JobParams& out) {
  out = JobParams{};
  try {
    if (params.is_null()) {
      switch (type) {
        case JobType::kQuery: return parse_query(json::object(), out.query);
        case JobType::kFreshness: return parse_freshness(json::object(), out.freshness);
        case JobType::kVolume: return parse_volume(json::object(), out.volume);
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
      case JobType::kTestConnection: return std::nullopt;
    }
  } catch (const std::exception& e) {
    return invalid(std::string("field 'params' could not be read: ") + e.what());
  }
  return std::nullopt;
}

}  // namespace outpost
