// The reference syntax and expansion, without I/O: the lookups are injected.
#include "security/secrets.hpp"

#include <algorithm>
#include <utility>

#include "security/conninfo.hpp"
#include "security/secret_policy.hpp"

namespace outpost::security {
namespace {

constexpr std::string_view kEnvPrefix = "${env:";
constexpr std::string_view kFilePrefix = "${file:";
constexpr std::string_view kEscape = "$${";
// Stands for the n-th reference while a connection string is parsed: letters
// and digits only, so every parser keeps it intact.
std::string placeholder(std::size_t n) {
  return "OutpostRef" + std::to_string(n) + "Qz";
}

/// One piece of a scanned string: literal text, or a reference.
struct Segment {
  enum class Kind { kLiteral, kEnv, kFile } kind = Kind::kLiteral;
  std::string text;  ///< literal text, or the env name / file path
  std::string raw;   ///< the reference as written, for error messages
};

struct Scan {
  std::vector<Segment> segments;
  std::optional<std::string> error;  ///< why the string is malformed
};

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  const auto is_alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (!is_alpha(name[0]) && name[0] != '_') return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return is_alpha(c) || (c >= '0' && c <= '9') || c == '_'; });
}

void append_literal(std::vector<Segment>& out, std::string_view text) {
  if (text.empty()) return;
  if (!out.empty() && out.back().kind == Segment::Kind::kLiteral) {
    out.back().text.append(text);
  } else {
    out.push_back({Segment::Kind::kLiteral, std::string(text), {}});
  }
}

// Splits a string into literal text and references; the escape `$${` becomes
// a literal `${`. A reference's name or path ends at the first `}`.
Scan scan(std::string_view s) {
  Scan result;
  std::size_t literal_start = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const std::string_view rest = s.substr(i);
    if (rest.starts_with(kEscape)) {
      append_literal(result.segments, s.substr(literal_start, i - literal_start));
      append_literal(result.segments, "${");
      i += kEscape.size();
      literal_start = i;
      continue;
    }
    const bool is_env = rest.starts_with(kEnvPrefix);
    const bool is_file = !is_env && rest.starts_with(kFilePrefix);
    if (!is_env && !is_file) {
      ++i;
      continue;
    }
    const std::size_t prefix = is_env ? kEnvPrefix.size() : kFilePrefix.size();
    const std::size_t close = rest.find('}', prefix);
    if (close == std::string_view::npos) {
      // Show only the scheme: the rest of the string may be a secret.
      result.error = std::string("unterminated secret reference ") +
                     std::string(rest.substr(0, prefix)) + "...";
      return result;
    }
    const std::string arg(rest.substr(prefix, close - prefix));
    const std::string raw(rest.substr(0, close + 1));
    if (is_env && !valid_env_name(arg)) {
      result.error = "invalid environment variable name in secret reference " + raw;
      return result;
    }
    if (is_file && (arg.empty() || arg[0] != '/')) {
      result.error = "secret reference " + raw + " must name an absolute path";
      return result;
    }
    append_literal(result.segments, s.substr(literal_start, i - literal_start));
    result.segments.push_back({is_env ? Segment::Kind::kEnv : Segment::Kind::kFile, arg, raw});
    i += close + 1;
    literal_start = i;
  }
  append_literal(result.segments, s.substr(literal_start));
  return result;
}

std::string trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return std::string(text.substr(first, last - first + 1));
}

std::string display_path(const std::string& path) {
  return path.empty() ? "config" : path;
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string index_path(const std::string& parent, std::size_t index) {
  return display_path(parent) + "[" + std::to_string(index) + "]";
}

outpost::JobError unresolved(const std::string& path, const std::string& why) {
  return {outpost::ErrorCode::kSecretUnresolved, "source config " + display_path(path) + ": " + why,
          false};
}

class Expander {
 public:
  Expander(const SecretLookups& lookups, ExpandOptions options)
      : lookups_(lookups), options_(options) {}

  // Returns false (with error_ set) at the first failure. `key` is the
  // object key the value sits under (arrays keep their parent's).
  bool expand(nlohmann::json& node, const std::string& path, const std::string& key) {
    if (node.is_object()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (!expand(it.value(), child_path(path, it.key()), it.key())) return false;
      }
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (!expand(node[i], index_path(path, i), key)) return false;
      }
    } else if (node.is_string()) {
      return expand_string(node, path, key);
    }
    return true;
  }

  std::optional<outpost::JobError> error_;
  std::vector<std::string> secrets_;

 private:
  bool expand_string(nlohmann::json& node, const std::string& path, const std::string& key) {
    const auto& text = node.get_ref<const std::string&>();
    if (text.find("${") == std::string::npos) return true;  // fast path
    Scan scanned = scan(text);
    if (scanned.error) {
      error_ = unresolved(path, *scanned.error);
      return false;
    }
    const bool has_ref =
        std::any_of(scanned.segments.begin(), scanned.segments.end(),
                    [](const Segment& s) { return s.kind != Segment::Kind::kLiteral; });
    if (has_ref && options_.credential_positions_only && !is_secret_key(key) &&
        !refs_only_in_credentials(text)) {
      // A server may echo this value back (application_name, options, a
      // host in an error, a user in current_user): no secret goes there.
      error_ = outpost::JobError{
          outpost::ErrorCode::kInvalidJob,
          "source config field '" + display_path(path) +
              "' may not hold a secret reference: a control-plane config may reference secrets "
              "only in password-like keys or the password of a connection string (put other "
              "references in the agent's --sources-file)",
          false};
      return false;
    }
    std::string out;
    for (const auto& segment : scanned.segments) {
      if (segment.kind == Segment::Kind::kLiteral) {
        out += segment.text;
        continue;
      }
      std::optional<std::string> value = lookup(segment, path);
      if (!value) return false;
      if (!value->empty() &&
          std::find(secrets_.begin(), secrets_.end(), *value) == secrets_.end()) {
        secrets_.push_back(*value);
      }
      out += *value;
    }
    node = std::move(out);
    return true;
  }

  std::optional<std::string> lookup(const Segment& segment, const std::string& path) {
    if (segment.kind == Segment::Kind::kEnv && env_never_given(segment.text)) {
      error_ = unresolved(path, "secret reference " + segment.raw +
                                    " is not allowed: AGENT_* and proxy variables hold the "
                                    "agent's own configuration and are never given to jobs");
      return std::nullopt;
    }
    if (segment.kind == Segment::Kind::kEnv && lookups_.env_allowed &&
        !lookups_.env_allowed(segment.text)) {
      error_ = unresolved(path, "secret reference " + segment.raw +
                                    " is not allowed: --secret-env does not list " + segment.text);
      return std::nullopt;
    }
    if (segment.kind == Segment::Kind::kEnv) {
      auto value = lookups_.env ? lookups_.env(segment.text) : std::nullopt;
      if (!value) {
        error_ = unresolved(path, "secret reference " + segment.raw +
                                      " is not resolvable: environment variable " + segment.text +
                                      " is not set");
      }
      return value;
    }
    FileLookup file = lookups_.file ? lookups_.file(segment.text)
                                    : FileLookup{std::nullopt, "file lookups are disabled"};
    if (!file.contents) {
      error_ = unresolved(path,
                          "secret reference " + segment.raw + " is not resolvable: " + file.reason);
      return std::nullopt;
    }
    return trim(*file.contents);
  }

  const SecretLookups& lookups_;
  ExpandOptions options_;
};

std::optional<std::string> check_node(const nlohmann::json& node, const std::string& path) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (auto error = check_node(it.value(), child_path(path, it.key()))) return error;
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (auto error = check_node(node[i], index_path(path, i))) return error;
    }
  } else if (node.is_string()) {
    Scan scanned = scan(node.get_ref<const std::string&>());
    if (scanned.error) return display_path(path) + ": " + *scanned.error;
  }
  return std::nullopt;
}

}  // namespace

ExpandResult expand_secret_refs(const nlohmann::json& config, const SecretLookups& lookups,
                                ExpandOptions options) {
  Expander expander(lookups, options);
  nlohmann::json copy = config;
  if (!expander.expand(copy, {}, {})) {
    // Values resolved before the failure are still secrets: hand them back so
    // the caller can register them even though the job fails.
    return {nlohmann::json(), std::move(expander.error_), std::move(expander.secrets_)};
  }
  return {std::move(copy), std::nullopt, std::move(expander.secrets_)};
}

std::optional<std::string> check_secret_ref_syntax(const nlohmann::json& config) {
  return check_node(config, {});
}

bool is_only_secret_refs(std::string_view value) {
  if (value.find("${") == std::string_view::npos) return false;
  const Scan scanned = scan(value);
  if (scanned.error || scanned.segments.empty()) return false;
  return std::none_of(scanned.segments.begin(), scanned.segments.end(),
                      [](const Segment& s) { return s.kind == Segment::Kind::kLiteral; });
}

bool refs_only_in_credentials(std::string_view text) {
  const Scan scanned = scan(text);
  if (scanned.error) return false;
  std::string substituted;
  std::vector<std::string> marks;
  for (const auto& segment : scanned.segments) {
    if (segment.kind == Segment::Kind::kLiteral) {
      substituted += segment.text;
    } else {
      marks.push_back(placeholder(marks.size()));
      substituted += marks.back();
    }
  }
  if (marks.empty()) return true;
  // Read the string as its driver will: libpq first (conninfo and
  // postgres:// URIs), then any other scheme:// URI, then ODBC attributes.
  auto pairs = parse_libpq_conninfo(substituted);
  if (!pairs) pairs = parse_generic_uri(substituted);
  if (!pairs) pairs = parse_attribute_string(substituted);
  if (!pairs) return false;
  std::vector<bool> seen(marks.size(), false);
  for (const auto& pair : *pairs) {
    for (std::size_t i = 0; i < marks.size(); ++i) {
      const bool in_key = pair.key.find(marks[i]) != std::string::npos;
      const bool in_value = pair.value.find(marks[i]) != std::string::npos;
      if (!in_key && !in_value) continue;
      if (in_key || !pair.credential) return false;
      seen[i] = true;
    }
  }
  // A reference the parser dropped or moved somewhere unreported is refused too.
  return std::all_of(seen.begin(), seen.end(), [](bool b) { return b; });
}

}  // namespace outpost::security
