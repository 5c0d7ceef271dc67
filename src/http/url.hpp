#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::http {

/// An absolute http(s) URL split into the parts the client needs.
struct Url {
  std::string scheme;    ///< "http" or "https"
  std::string host;      ///< without brackets for IPv6
  std::uint16_t port = 0;
  std::string path;      ///< without a trailing slash ("" or "/api")
  std::string userinfo;  ///< "user:password" (proxies only); never logged

  /// scheme://host:port/path without user info: safe to log.
  [[nodiscard]] std::string redacted() const;
  [[nodiscard]] bool is_https() const noexcept { return scheme == "https"; }
};

/// Parses an absolute URL; nullopt with `error` set when it is not http(s) or malformed.
std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

/// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host) noexcept;

}  // namespace outpost::http
