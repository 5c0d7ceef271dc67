#include "security/sources_file.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <stdexcept>

#include "security/secrets.hpp"

namespace outpost::security {
namespace {

constexpr std::size_t kMaxFileBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxNodes = 100'000;  // anchors/aliases can multiply nodes
constexpr int kMaxDepth = 64;
constexpr std::size_t kMaxNameLength = 128;
constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

class Converter {
 public:
  explicit Converter(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    std::string where;
    const YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
    if (!mark.is_null()) {
      where = "line " + std::to_string(mark.line + 1) + ", column " +
              std::to_string(mark.column + 1) + ": ";
    }
    throw std::runtime_error("sources file " + origin_ + ": " + where + what);
  }

  // YAML -> JSON, plain scalars typed by the YAML 1.2 core schema.
  nlohmann::json to_json(const YAML::Node& node, int depth) {
    if (++nodes_ > kMaxNodes) fail(node, "too many nodes (aliases expanding too far?)");
    if (depth > kMaxDepth) fail(node, "nested deeper than 64 levels");
    switch (node.Type()) {
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined: return nullptr;
      case YAML::NodeType::Scalar: return scalar(node);
      case YAML::NodeType::Sequence: {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& item : node) out.push_back(to_json(item, depth + 1));
        return out;
      }
      case YAML::NodeType::Map: {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& item : node) {
          const std::string key = key_of(item.first);
          if (out.contains(key)) fail(item.first, "duplicate key '" + key + "'");
          out[key] = to_json(item.second, depth + 1);
        }
        return out;
      }
    }
    return nullptr;
  }

  std::string key_of(const YAML::Node& key) const {
    if (!key.IsScalar()) fail(key, "a mapping key must be a plain string");
    return key.Scalar();
  }

  // Checks a mapping has only `allowed` keys (and no duplicates).
  void expect_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                   const std::string& where) const {
    std::set<std::string> seen;
    for (const auto& item : map) {
      const std::string key = key_of(item.first);
      if (!allowed.contains(key)) {
        std::string list;
        for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
        fail(item.first, "unknown key '" + key + "' in " + where + " (allowed: " + list + ")");
      }
      if (!seen.insert(key).second) fail(item.first, "duplicate key '" + key + "' in " + where);
    }
  }

 private:
  nlohmann::json scalar(const YAML::Node& node) const {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "!" || tag == kStrTag) return text;  // quoted or !!str
    if (tag != "?" && !tag.empty()) fail(node, "unsupported tag '" + tag + "'");
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
      return nullptr;
    }
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
    if (auto number = parse_integer(text)) return *number;
    if (auto number = parse_float(text)) return *number;
    return text;
  }

  // [-+]?(.[0-9]+|[0-9]+(.[0-9]*)?)([eE][-+]?[0-9]+)? ; .inf and .nan stay strings
  // (JSON has no such numbers), as does anything out of double's range.
  static std::optional<double> parse_float(std::string_view text) {
    if (text.empty() || text.find_first_not_of("0123456789+-.eE") != std::string_view::npos) {
      return std::nullopt;
    }
    if (text[0] == '+') text.remove_prefix(1);
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  }

  static std::optional<nlohmann::json> parse_integer(const std::string& text) {
    std::string_view digits = text;
    bool negative = false;
    if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    int base = 10;
    if (digits.starts_with("0x")) {
      base = 16;
      digits.remove_prefix(2);
    } else if (digits.starts_with("0o")) {
      base = 8;
      digits.remove_prefix(2);
    }
    if (digits.empty()) return std::nullopt;
    std::uint64_t value = 0;
    const auto [end, ec] =
        std::from_chars(digits.data(), digits.data() + digits.size(), value, base);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    if (!negative) return nlohmann::json(value);
    if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
      return std::nullopt;
    }
    return nlohmann::json(static_cast<std::int64_t>(0 - value));
  }

  const std::string& origin_;
  std::size_t nodes_ = 0;
};

bool valid_source_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("sources file " + path + ": cannot open: " + std::strerror(errno));
  }
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxFileBytes) {
      throw std::runtime_error("sources file " + path + ": larger than 4 MiB");
    }
  }
  if (in.bad()) throw std::runtime_error("sources file " + path + ": read error");
  return text;
}

}  // namespace

std::shared_ptr<SourcesFile> SourcesFile::load(const std::string& path) {
  return parse(read_file(path), path);
}

std::shared_ptr<SourcesFile> SourcesFile::parse(std::string_view text, const std::string& origin) {
  try {
    return parse_yaml(text, origin);
  } catch (const YAML::Exception& e) {
    // Anything yaml-cpp throws past the parser (an invalid node) still names the file.
    std::string where;
    if (!e.mark.is_null()) {
      where = "line " + std::to_string(e.mark.line + 1) + ", column " +
              std::to_string(e.mark.column + 1) + ": ";
    }
    throw std::runtime_error("sources file " + origin + ": " + where + e.msg);
  }
}

namespace {

YAML::Node load_yaml(std::string_view text, const std::string& origin) {
  if (text.size() > kMaxFileBytes) {
    throw std::runtime_error("sources file " + origin + ": larger than 4 MiB");
  }
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw std::runtime_error("sources file " + origin + ": line " +
                             std::to_string(e.mark.line + 1) + ", column " +
                             std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

// Checks the top level (version 1, a 'sources' mapping) and returns 'sources'.
YAML::Node sources_node(Converter& converter, const YAML::Node& root) {
  if (!root.IsMap()) {
    converter.fail(root, "expected a mapping with a 'sources' key at the top");
  }
  converter.expect_keys(root, {"version", "sources"}, "the top level");
  if (const auto version = root["version"]) {
    const nlohmann::json v = converter.to_json(version, 1);
    if (v != 1) converter.fail(version, "unsupported version (only 1 is known)");
  }
  const YAML::Node sources = root["sources"];
  if (!sources) converter.fail(root, "missing the 'sources' mapping");
  if (!sources.IsMap() && !sources.IsNull()) {
    converter.fail(sources, "'sources' must be a mapping of source name to definition");
  }
  return sources;
}

}  // namespace

std::shared_ptr<SourcesFile> SourcesFile::parse_yaml(std::string_view text,
                                                     const std::string& origin) {
  const YAML::Node loaded = load_yaml(text, origin);
  const YAML::Node& root = loaded;  // const: operator[] must not insert keys
  Converter converter(origin);
  const YAML::Node sources = sources_node(converter, root);

  // The constructor is private (only parse() makes one): make_shared cannot reach it.
  auto file = std::shared_ptr<SourcesFile>(new SourcesFile());  // NOLINT(modernize-make-shared)
  file->origin_ = origin;
  for (const auto& item : sources) {
    const std::string name = converter.key_of(item.first);
    if (!valid_source_name(name)) {
      converter.fail(item.first, "invalid source name '" + name +
                                     "' (letters, digits, '_', '-', '.'; at most 128)");
    }
    if (file->sources_.contains(name))
      converter.fail(item.first, "duplicate source '" + name + "'");
    const YAML::Node& definition = item.second;
    const std::string where = "source '" + name + "'";
    if (!definition.IsMap()) converter.fail(definition, where + " must be a mapping");
    converter.expect_keys(definition, {"type", "config", "description"}, where);

    Entry entry;
    const YAML::Node type_node = definition["type"];
    const nlohmann::json type = type_node ? converter.to_json(type_node, 1) : nlohmann::json();
    if (!type.is_string() || type.get_ref<const std::string&>().empty()) {
      converter.fail(definition, where + " needs a 'type' (the connector, e.g. postgres)");
    }
    entry.type = type.get<std::string>();
    if (const auto description = definition["description"]) {
      const nlohmann::json d = converter.to_json(description, 1);
      if (!d.is_string()) converter.fail(description, where + ": 'description' must be a string");
      entry.description = d.get<std::string>();
    }
    entry.config = nlohmann::json::object();
    if (const auto config = definition["config"]) {
      entry.config = converter.to_json(config, 1);
      if (entry.config.is_null()) entry.config = nlohmann::json::object();
      if (!entry.config.is_object()) converter.fail(config, where + ": 'config' must be a mapping");
      if (auto error = check_secret_ref_syntax(entry.config)) {
        converter.fail(config, where + ": " + *error);
      }
    }
    file->sources_.emplace(name, std::move(entry));
  }
  return file;
}

std::optional<outpost::Source> SourcesFile::find(std::string_view name) const {
  const auto it = sources_.find(name);
  if (it == sources_.end()) return std::nullopt;
  outpost::Source source;
  source.name = it->first;
  source.ref = it->first;
  source.type = it->second.type;
  source.config = it->second.config;
  return source;
}

std::vector<std::string> SourcesFile::names() const {
  std::vector<std::string> out;
  out.reserve(sources_.size());
  for (const auto& [name, entry] : sources_) out.push_back(name);
  return out;
}

}  // namespace outpost::security
