#include "security/conninfo.hpp"

#include <libpq-fe.h>

#include <cctype>
#include <memory>

#include "client_libs/libpq.hpp"
#include "common/text.hpp"
#include "outpost/conn_string.hpp"
#include "security/secret_policy.hpp"

namespace outpost::security {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as a URL query is read; `+` is a space when `plus_space`.
std::string percent_decode(std::string_view text, bool plus_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_space && text[i] == '+' ? ' ' : text[i]);
  }
  return out;
}

bool credential_keyword(std::string_view key) {
  const std::string lower = common::ascii_lower(key);
  return lower == "pwd" || lower == "password" || is_secret_key(lower);
}

}  // namespace

std::optional<std::vector<ConnPair>> parse_libpq_conninfo(std::string_view text) {
  if (client_libs::libpq().load() != nullptr) return std::nullopt;
  const std::string copy(text);
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(copy.c_str(), &error), PQconninfoFree);
  if (error != nullptr) PQfreemem(error);
  if (!options) return std::nullopt;
  std::vector<ConnPair> out;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const bool hidden = o->dispchar != nullptr && o->dispchar[0] == '*';
    out.push_back({o->keyword, o->val, hidden || credential_keyword(o->keyword)});
  }
  return out;
}

std::optional<std::vector<ConnPair>> parse_generic_uri(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  for (std::size_t i = 0; i < sep; ++i) {
    const char c = text[i];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) != 0 ||
                    (i > 0 && (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '+' ||
                               c == '-' || c == '.'));
    if (!ok) return std::nullopt;
  }
  std::vector<ConnPair> out;
  std::string_view rest = text.substr(sep + 3);
  std::string_view fragment;
  if (const auto hash = rest.find('#'); hash != std::string_view::npos) {
    fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view authority = rest;
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    authority = rest.substr(0, slash);
    path = rest.substr(slash);
  }
  // The last '@' ends the user info (a password may hold '@' unencoded).
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto colon = userinfo.find(':');
    out.push_back({"user", percent_decode(userinfo.substr(0, colon), false), false});
    if (colon != std::string_view::npos) {
      out.push_back({"password", percent_decode(userinfo.substr(colon + 1), false), true});
    }
  }
  out.push_back({"host", percent_decode(authority, false), false});
  if (!path.empty()) out.push_back({"path", percent_decode(path, false), false});
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key = common::ascii_lower(percent_decode(pair.substr(0, eq), true));
    std::string value =
        eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true);
    const bool credential = credential_keyword(key);
    out.push_back({std::move(key), std::move(value), credential});
  }
  if (!fragment.empty()) out.push_back({"fragment", percent_decode(fragment, false), false});
  return out;
}

std::optional<std::vector<ConnPair>> parse_attribute_string(std::string_view text) {
  // The SDK's parser, the one the ODBC connector itself uses: both must read
  // a string the same way, or a reference could hide where one looks.
  const OdbcParseResult parsed = parse_odbc_connection_string(text);
  if (!parsed.ok()) return std::nullopt;
  std::vector<ConnPair> out;
  out.reserve(parsed.attributes.size());
  for (const auto& attribute : parsed.attributes) {
    std::string key = odbc_key(attribute.key);
    const bool credential = credential_keyword(key);
    out.push_back({std::move(key), attribute.value, credential});
  }
  return out;
}

}  // namespace outpost::security
