// Masking of literal secrets in source configs (hub-v2 §3). The rules of what
// counts as a secret are the agent's own (src/security/secret_policy), so the
// hub never shows what --require-secret-refs would refuse.
#include "secret_mask.hpp"

#include <array>
#include <cctype>

#include "security/secret_policy.hpp"
#include "security/secrets.hpp"

namespace outpost::hub {

namespace {

// Stands in for a masked part while the result is checked again: a
// reference, so the agent's check reads it as no literal secret.
constexpr std::string_view kPlaceholder = "${env:OUTPOST_MASKED}";

constexpr std::array<std::string_view, 12> kPairKeys{
    "password",     "passwd",        "pwd",     "sslpassword", "secret",     "token",
    "access_token", "client_secret", "api_key", "apikey",      "accountkey", "sharedaccesskey"};

bool literal(std::string_view value) {
  return !value.empty() && !security::is_only_secret_refs(value);
}

bool boundary(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == ';' || c == '?' || c == '&' || c == ',';
}

/// Masks the password of every `scheme://user:password@host`.
void mask_userinfo(std::string& s) {
  for (std::size_t at = s.find("://"); at != std::string::npos; at = s.find("://", at + 3)) {
    const std::size_t start = at + 3;
    std::size_t end = start;
    std::size_t last_at = std::string::npos;
    while (end < s.size() && s[end] != '/' && s[end] != '?' && s[end] != '#' && s[end] != ' ') {
      if (s[end] == '@') last_at = end;
      ++end;
    }
    if (last_at == std::string::npos) continue;
    const std::size_t colon = s.find(':', start);
    if (colon == std::string::npos || colon > last_at) continue;
    const std::string_view password = std::string_view(s).substr(colon + 1, last_at - colon - 1);
    if (literal(password)) s.replace(colon + 1, password.size(), kPlaceholder);
  }
}

/// The end of a pair value starting at `i`: quoted, braced (ODBC) or bare.
std::size_t value_end(const std::string& s, std::size_t i) {
  if (i < s.size() && (s[i] == '\'' || s[i] == '"' || s[i] == '{')) {
    const char close = s[i] == '{' ? '}' : s[i];
    const std::size_t j = s.find(close, i + 1);
    return j == std::string::npos ? s.size() : j + 1;
  }
  std::size_t j = i;
  while (j < s.size() && !boundary(s[j])) {
    if (s.compare(j, 2, "${") == 0) {
      const std::size_t close = s.find('}', j);
      j = close == std::string::npos ? s.size() : close + 1;
    } else {
      ++j;
    }
  }
  return j;
}

/// Masks the value of every `password=…`-style pair (libpq, ODBC, URL query).
void mask_pairs(std::string& s) {
  std::string low(s);
  for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string_view key : kPairKeys) {
    for (std::size_t at = low.find(key); at != std::string::npos; at = low.find(key, at + 1)) {
      if (at > 0 && !boundary(low[at - 1])) continue;
      std::size_t i = at + key.size();
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      if (i >= s.size() || s[i] != '=') continue;
      ++i;
      while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
      const std::size_t end = value_end(s, i);
      std::string_view value = std::string_view(s).substr(i, end - i);
      if (value.size() >= 2 &&
          (value.front() == '\'' || value.front() == '"' || value.front() == '{')) {
        value = value.substr(1, value.size() - 2);
      }
      if (!literal(value)) continue;
      s.replace(i, end - i, kPlaceholder);
      low.replace(i, end - i, kPlaceholder);
    }
  }
}

void replace_placeholders(std::string& s) {
  for (std::size_t at = s.find(kPlaceholder); at != std::string::npos;
       at = s.find(kPlaceholder, at + kMasked.size())) {
    s.replace(at, kPlaceholder.size(), kMasked);
  }
}

Json mask_string(const std::string& value, bool secret_key) {
  if (secret_key) return literal(value) ? Json(kMasked) : Json(value);
  if (!security::find_literal_secret(Json(value))) return value;
  std::string masked = value;
  mask_userinfo(masked);
  mask_pairs(masked);
  // A form the two scans above do not know: mask the whole value.
  if (security::find_literal_secret(Json(masked))) return kMasked;
  replace_placeholders(masked);
  return masked;
}

Json mask(const Json& node, bool secret_key) {
  switch (node.type()) {
    case Json::value_t::object: {
      Json out = Json::object();
      for (auto it = node.begin(); it != node.end(); ++it) {
        out[it.key()] = mask(it.value(), security::is_secret_key(it.key()));
      }
      return out;
    }
    case Json::value_t::array: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(mask(item, secret_key));
      return out;
    }
    case Json::value_t::string: return mask_string(node.get<std::string>(), secret_key);
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return secret_key ? Json(kMasked) : node;
    default: return node;
  }
}

}  // namespace

Json mask_secrets(const Json& config) {
  return mask(config, false);
}

}  // namespace outpost::hub
