#include "security/secret_policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/text.hpp"
#include "outpost/conn_string.hpp"
#include "security/conninfo.hpp"
#include "security/secrets.hpp"

namespace outpost::security {
namespace {

std::string normalize(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    out += (c == '-' || c == ' ') ? '_'
                                  : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Names that end in a secret word but hold a path or a public value.
constexpr std::array<std::string_view, 6> kNotSecret{"sslkey",     "ssl_key",   "tls_key",
                                                     "public_key", "publickey", "ssh_public_key"};
constexpr std::array<std::string_view, 6> kPathSuffixes{"_file", "_path", "file",
                                                        "path",  "_dir",  "_url"};
constexpr std::array<std::string_view, 12> kSecretSuffixes{
    "password", "passwd", "passphrase",  "secret",     "token", "key",
    "pwd",      "apikey", "credentials", "credential", "_pass", "authorization"};
constexpr std::array<std::string_view, 1> kSecretExact{"pass"};

// Keywords of `key=value` pairs (libpq conninfo, ODBC, URL queries) whose value
// is a secret. Compared case-insensitively.
constexpr std::array<std::string_view, 12> kPairKeywords{
    "password",     "passwd",        "pwd",     "sslpassword", "secret",     "token",
    "access_token", "client_secret", "api_key", "apikey",      "accountkey", "sharedaccesskey"};

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

// Index just past a secret reference starting at `i`, or `i` when none starts there.
std::size_t skip_ref(std::string_view s, std::size_t i) {
  const std::string_view rest = s.substr(i);
  if (!rest.starts_with("${env:") && !rest.starts_with("${file:")) return i;
  const std::size_t close = rest.find('}');
  return close == std::string_view::npos ? s.size() : i + close + 1;
}

bool literal_secret(std::string_view value) {
  return !value.empty() && !is_only_secret_refs(value);
}

// The user-info password of every `scheme://user:password@host` in `s`.
bool has_uri_password(std::string_view s) {
  for (std::size_t at = s.find("://"); at != std::string_view::npos; at = s.find("://", at + 3)) {
    const std::size_t start = at + 3;
    std::size_t end = start;
    std::size_t last_at = std::string_view::npos;
    while (end < s.size()) {
      const std::size_t skipped = skip_ref(s, end);
      if (skipped != end) {
        end = skipped;
        continue;
      }
      const char c = s[end];
      if (c == '/' || c == '?' || c == '#' || c == ' ') break;
      if (c == '@') last_at = end;
      ++end;
    }
    if (last_at == std::string_view::npos) continue;
    const std::string_view userinfo = s.substr(start, last_at - start);
    // The first ':' outside a reference separates user from password.
    std::size_t colon = std::string_view::npos;
    for (std::size_t i = 0; i < userinfo.size();) {
      const std::size_t skipped = skip_ref(userinfo, i);
      if (skipped != i) {
        i = skipped;
        continue;
      }
      if (userinfo[i] == ':') {
        colon = i;
        break;
      }
      ++i;
    }
    if (colon != std::string_view::npos && literal_secret(userinfo.substr(colon + 1))) return true;
  }
  return false;
}

bool is_pair_boundary(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '?' || c == '&' || c == ',';
}

// Reads the value of a pair starting at `i` (after '=' and blanks): quoted
// ('…' or "…"), braced ({…}, ODBC) or bare up to a separator.
std::string_view pair_value(std::string_view s, std::size_t i) {
  if (i >= s.size()) return {};
  const char open = s[i];
  if (open == '\'' || open == '"' || open == '{') {
    const char close = open == '{' ? '}' : open;
    std::size_t j = i + 1;
    while (j < s.size()) {
      const std::size_t skipped = skip_ref(s, j);
      if (skipped != j) {
        j = skipped;
        continue;
      }
      if (s[j] == '\\' && open == '\'' && j + 1 < s.size()) {
        j += 2;
        continue;
      }
      if (s[j] == close) break;
      ++j;
    }
    return s.substr(i + 1, j - i - 1);
  }
  std::size_t j = i;
  while (j < s.size()) {
    const std::size_t skipped = skip_ref(s, j);
    if (skipped != j) {
      j = skipped;
      continue;
    }
    if (is_pair_boundary(s[j])) break;
    ++j;
  }
  return s.substr(i, j - i);
}

bool has_pair_password(std::string_view s) {
  const std::string lower = common::ascii_lower(s);
  for (const std::string_view keyword : kPairKeywords) {
    for (std::size_t at = lower.find(keyword); at != std::string::npos;
         at = lower.find(keyword, at + 1)) {
      if (at > 0 && !is_pair_boundary(lower[at - 1])) continue;
      std::size_t i = at + keyword.size();
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      if (i >= s.size() || s[i] != '=') continue;
      ++i;
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      if (literal_secret(pair_value(s, i))) return true;
    }
  }
  return false;
}

// --- ODBC connection strings ----------------------------------------------

// An ODBC key that holds a password: PWD, Password, their numbered variants
// (PASSWORD1, PWD2: MySQL Connector/ODBC's factors) and any secret-looking key.
bool is_odbc_secret_key(std::string_view key) {
  const std::string k = common::ascii_lower(key);
  return k.starts_with("pwd") || k.starts_with("password") || is_secret_key(key);
}

// Secret references hold braces, which ODBC reads as value quotes
// (`PWD={${env:P}}`): each is masked as one \x01 before parsing and put back
// (as a reference) before a value is searched by the generic scanners.
constexpr char kRefMark = '\x01';

std::string mask_refs(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t skipped = skip_ref(s, i);
    if (skipped != i) {
      out += kRefMark;
      i = skipped;
    } else {
      out += s[i++];
    }
  }
  return out;
}

std::string unmask_refs(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == kRefMark) {
      out += "${env:REF}";
    } else {
      out += c;
    }
  }
  return out;
}

bool literal_masked(std::string_view value) {
  return value.find_first_not_of(kRefMark) != std::string_view::npos;
}

// A password in an ODBC connection string (one with a ';' or a Driver/DSN),
// read with the connector's own parser (outpost/conn_string.hpp), so a key
// is found however it is spaced or cased and a braced value is one value.
// Values are searched again: a braced value may hold a whole conninfo
// (psqlODBC pqopt={password=…}) or another connection string. A string the
// parser refuses is still searched after every '{', where the generic scan
// does not look.
bool has_odbc_secret(std::string_view text, int depth = 0) {
  if (depth > 4 || text.find('=') == std::string_view::npos) return false;
  const std::string s = mask_refs(text);
  const auto parsed = parse_odbc_connection_string(s);
  if (!parsed.ok()) {
    if (s.find(';') == std::string::npos) return false;
    for (std::size_t b = s.find('{'); b != std::string::npos; b = s.find('{', b + 1)) {
      if (has_pair_password(unmask_refs(std::string_view(s).substr(b + 1)))) return true;
    }
    return false;
  }
  const bool odbc =
      s.find(';') != std::string::npos ||
      std::any_of(parsed.attributes.begin(), parsed.attributes.end(), [](const OdbcAttribute& a) {
        const auto k = odbc_key(a.key);
        return k == "driver" || k == "dsn" || k == "filedsn";
      });
  if (!odbc) return false;
  for (const auto& a : parsed.attributes) {
    if (is_odbc_secret_key(a.key) && literal_masked(a.value)) return true;
    if (a.value.find('=') == std::string::npos) continue;
    const std::string value = unmask_refs(a.value);
    if (has_uri_password(value) || has_pair_password(value) || has_odbc_secret(value, depth + 1)) {
      return true;
    }
  }
  return false;
}

// A literal password as the drivers themselves read the string: libpq's
// PQconninfoParse (conninfo and postgres:// URIs, percent-decoded keys such
// as `?pass%77ord=`, every keyword libpq hides), or any scheme:// URI with its
// query keys percent-decoded, `+` as a space and lower-cased.
bool has_parsed_password(std::string_view s) {
  const auto literal_credential = [](const std::vector<ConnPair>& pairs) {
    return std::any_of(pairs.begin(), pairs.end(),
                       [](const ConnPair& p) { return p.credential && literal_secret(p.value); });
  };
  if (s.find('=') == std::string_view::npos && s.find("://") == std::string_view::npos) {
    return false;  // neither a conninfo nor a URI: spare libpq the parse
  }
  if (auto pairs = parse_libpq_conninfo(s); pairs && literal_credential(*pairs)) return true;
  if (auto pairs = parse_generic_uri(s); pairs && literal_credential(*pairs)) return true;
  return false;
}

std::string child_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::optional<std::string> walk(const nlohmann::json& node, const std::string& path,
                                bool secret_key) {
  const std::string& shown = path.empty() ? std::string("config") : path;
  switch (node.type()) {
    case nlohmann::json::value_t::object:
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (auto found = walk(it.value(), child_path(path, it.key()), is_secret_key(it.key()))) {
          return found;
        }
      }
      return std::nullopt;
    case nlohmann::json::value_t::array:
      for (std::size_t i = 0; i < node.size(); ++i) {
        if (auto found = walk(node[i], shown + "[" + std::to_string(i) + "]", secret_key)) {
          return found;
        }
      }
      return std::nullopt;
    case nlohmann::json::value_t::string: {
      const auto& value = node.get_ref<const std::string&>();
      if (secret_key && literal_secret(value)) return shown;
      if (has_uri_password(value) || has_pair_password(value) || has_parsed_password(value)) {
        return shown;
      }
      if (has_odbc_secret(value)) return shown;
      return std::nullopt;
    }
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      if (secret_key) return shown;
      return std::nullopt;
    default: return std::nullopt;
  }
}

}  // namespace

bool is_secret_key(std::string_view key) {
  const std::string name = normalize(key);
  if (name.empty()) return false;
  if (std::find(kNotSecret.begin(), kNotSecret.end(), name) != kNotSecret.end()) return false;
  for (const auto suffix : kPathSuffixes) {
    if (ends_with(name, suffix)) return false;
  }
  if (std::find(kSecretExact.begin(), kSecretExact.end(), name) != kSecretExact.end()) return true;
  return std::any_of(kSecretSuffixes.begin(), kSecretSuffixes.end(),
                     [&](std::string_view suffix) { return ends_with(name, suffix); });
}

std::optional<std::string> find_literal_secret(const nlohmann::json& config) {
  return walk(config, {}, false);
}

}  // namespace outpost::security
