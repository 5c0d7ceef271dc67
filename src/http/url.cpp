#include "http/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace outpost::http {
namespace {

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool fail(std::string* error, std::string message) {
  if (error != nullptr) *error = std::move(message);
  return false;
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

// A registered name or IPv4 literal: letters, digits, '-', '.', '_' (the last
// appears in some internal DNS names even though RFC 952 forbids it).
bool is_valid_reg_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_';
  });
}

// Splits "host[:port]" / "[v6][:port]" into the Url; false with `error` set.
bool parse_authority(std::string_view authority, Url& url, std::string* error) {
  std::string_view host_port = authority;
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    url.userinfo = std::string(authority.substr(0, at));
    host_port = authority.substr(at + 1);
  }
  std::string_view port_text;
  if (!host_port.empty() && host_port.front() == '[') {
    const auto close = host_port.find(']');
    if (close == std::string_view::npos) return fail(error, "unterminated '[' in IPv6 host");
    url.host = to_lower(host_port.substr(1, close - 1));
    if (!is_ipv6_literal(url.host)) {
      return fail(error, "'" + url.host + "' is not a valid IPv6 address");
    }
    const auto rest = host_port.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail(error, "unexpected text after ']' in host");
      port_text = rest.substr(1);
      if (port_text.empty()) return fail(error, "empty port after ':'");
    }
  } else {
    const auto colon = host_port.find(':');
    if (colon != std::string_view::npos) {
      if (host_port.find(':', colon + 1) != std::string_view::npos) {
        return fail(error, "IPv6 addresses must be written in brackets, e.g. https://[::1]:8443");
      }
      port_text = host_port.substr(colon + 1);
      host_port = host_port.substr(0, colon);
      if (port_text.empty()) return fail(error, "empty port after ':'");
    }
    url.host = to_lower(host_port);
    if (url.host.empty()) return fail(error, "missing host name");
    if (!is_valid_reg_name(url.host)) {
      return fail(error, "invalid character in host name '" + url.host + "'");
    }
  }
  if (!port_text.empty()) {
    unsigned long port = 0;
    for (const char c : port_text) {
      if (std::isdigit(static_cast<unsigned char>(c)) == 0 || port > 65535) {
        return fail(error, "invalid port '" + std::string(port_text) + "' (expected 1-65535)");
      }
      port = port * 10 + static_cast<unsigned long>(c - '0');
    }
    if (port == 0 || port > 65535) {
      return fail(error, "invalid port '" + std::string(port_text) + "' (expected 1-65535)");
    }
    url.port = static_cast<std::uint16_t>(port);
  } else {
    url.port = url.scheme == "https" ? 443 : 80;
  }
  return true;
}

}  // namespace

std::string Url::redacted() const {
  std::string out = scheme + "://";
  if (host.find(':') != std::string::npos) {
    out += "[" + host + "]";
  } else {
    out += host;
  }
  out += ":" + std::to_string(port);
  out += path;
  return out;
}

std::optional<Url> parse_url(std::string_view text, std::string* error) {
  // Error messages never echo the input: a proxy URL may carry a password.
  if (text.empty()) {
    fail(error, "URL is empty");
    return std::nullopt;
  }
  if (std::any_of(text.begin(), text.end(),
                  [](unsigned char c) { return c <= 0x20 || c >= 0x7f; })) {
    fail(error, "URL contains white space or non-ASCII characters");
    return std::nullopt;
  }
  const auto scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    fail(error, "URL must start with http:// or https://");
    return std::nullopt;
  }
  Url url;
  url.scheme = to_lower(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") {
    fail(error, "unsupported URL scheme '" + url.scheme + "' (expected http or https)");
    return std::nullopt;
  }
  const std::string_view rest = text.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  if (!parse_authority(authority, url, error)) return std::nullopt;

  std::string_view path =
      authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
  if (path.find_first_of("?#") != std::string_view::npos) {
    fail(error, "URL must not contain a query string or fragment");
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path = std::string(path);
  return url;
}

bool is_loopback_host(std::string_view host) noexcept {
  try {
    std::string h = to_lower(host);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (!h.empty() && h.back() == '.') h.pop_back();
    if (h == "localhost") return true;
    in_addr v4{};
    if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
      return (ntohl(v4.s_addr) >> 24) == 127;
    }
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

}  // namespace outpost::http
