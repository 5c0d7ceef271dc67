#include "common/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "common/text.hpp"

namespace outpost::common {
namespace {

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool is_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool parse_port(std::string_view text, Url& url, std::string* error) {
  if (text.empty()) return fail(error, "the port is missing after ':'");
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
    return fail(error, "the port '" + std::string(text) + "' is not a number from 1 to 65535");
  }
  url.port = static_cast<std::uint16_t>(port);
  return true;
}

// "[v6]" or "[v6]:port"; sets host and returns the port text through `port`.
bool parse_bracketed(std::string_view host_port, Url& url, std::string_view& port,
                     std::string* error) {
  const auto close = host_port.find(']');
  if (close == std::string_view::npos) {
    return fail(error, "the IPv6 address is missing its closing ']'");
  }
  url.host = ascii_lower(host_port.substr(1, close - 1));
  if (!is_ipv6_literal(url.host)) {
    return fail(error, "'" + url.host + "' is not a valid IPv6 address");
  }
  const std::string_view after = host_port.substr(close + 1);
  if (after.empty()) return true;
  if (after.front() != ':') return fail(error, "unexpected text after the IPv6 address");
  port = after.substr(1);
  return !port.empty() || fail(error, "the port is missing after ':'");
}

// Splits "[user@]host[:port]" / "[user@][v6][:port]" into `url`.
bool parse_authority(std::string_view authority, Url& url, std::string* error) {
  std::string_view host_port = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    host_port = authority.substr(at + 1);
  }
  std::string_view port;
  bool has_port = false;
  if (!host_port.empty() && host_port.front() == '[') {
    if (!parse_bracketed(host_port, url, port, error)) return false;
    has_port = !port.empty();
  } else {
    const auto colon = host_port.find(':');
    if (colon != std::string_view::npos) {
      if (host_port.find(':', colon + 1) != std::string_view::npos) {
        return fail(error, "IPv6 addresses must be written in brackets, e.g. https://[::1]:8443");
      }
      port = host_port.substr(colon + 1);
      has_port = true;
      host_port = host_port.substr(0, colon);
    }
    url.host = ascii_lower(host_port);
    if (url.host.empty()) return fail(error, "the host name is missing");
    if (!is_host_name(url.host)) {
      return fail(error, "'" + url.host + "' is not a valid host name");
    }
  }
  if (has_port) return parse_port(port, url, error);
  url.port = url.is_https() ? 443 : 80;
  return true;
}

}  // namespace

std::string Url::redacted() const {
  std::string out = scheme + "://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ":" + std::to_string(port);
  out += path;
  return out;
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  // Messages never echo the whole input: a proxy URL may carry a password.
  const auto refuse = [error](std::string message) -> std::optional<Url> {
    fail(error, std::move(message));
    return std::nullopt;
  };
  if (text.empty()) return refuse("the URL is empty");
  if (std::any_of(text.begin(), text.end(),
                  [](unsigned char c) { return c <= 0x20 || c >= 0x7f; })) {
    return refuse("the URL contains white space, control or non-ASCII characters");
  }
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    return refuse("it is not an absolute URL; write it as https://HOST[:PORT]/PATH");
  }
  Url url;
  url.scheme = ascii_lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    return refuse("the scheme '" + url.scheme + "' is not supported; use https:// (or http://)");
  }
  const std::string_view rest = text.substr(scheme_end + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return refuse("a query (?) or fragment (#) is not allowed; give the base URL only");
  }
  const auto slash = rest.find('/');
  if (!parse_authority(rest.substr(0, slash), url, error)) return std::nullopt;
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);
  return url;
}

std::string redact_userinfo(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto authority_start = scheme_end + 3;
  const auto authority_end = url.find('/', authority_start);
  const auto at = url.substr(0, authority_end).rfind('@');
  if (at == std::string_view::npos || at < authority_start) return std::string(url);
  return std::string(url.substr(0, authority_start)) + "***" + std::string(url.substr(at));
}

bool is_host_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      if (label == 0 || label > 63) return false;
      label = 0;
      continue;
    }
    if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_') return false;
    ++label;
  }
  return true;
}

bool is_loopback_host(std::string_view host) noexcept {
  try {
    std::string h = ascii_lower(host);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (!h.empty() && h.back() == '.') h.pop_back();
    if (h == "localhost") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
      if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
      // ::ffff:127.x.y.z, the IPv4-mapped form of a loopback address.
      return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
    }
    return false;
  } catch (...) {
    return false;  // allocation failure: "not loopback" is the safe answer
  }
}

}  // namespace outpost::common
