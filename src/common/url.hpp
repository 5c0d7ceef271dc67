#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::common {

/// An absolute http(s) URL without query or fragment, split into its parts:
/// the control plane's base URL and proxy URLs. One parser for configuration
/// checks and for the HTTP client, so both accept exactly the same URLs.
struct Url {
  std::string scheme;      ///< lower case: "http" or "https"
  std::string userinfo;    ///< "user:password" as written (still percent-encoded); never logged
  std::string host;        ///< lower case, without brackets for IPv6
  std::uint16_t port = 0;  ///< as written, else 443 for https and 80 for http
  std::string path;        ///< "" or "/…" without trailing slashes ("/api")

  /// scheme://host:port/path without user info: safe to log.
  [[nodiscard]] std::string redacted() const;
  [[nodiscard]] bool is_https() const noexcept { return scheme == "https"; }
  bool operator==(const Url&) const = default;
};

/// Parses an absolute http(s) URL. On failure returns nullopt and sets
/// `*error` (when given) to a sentence that says what to fix; it never echoes
/// the user info, which may hold a proxy password.
[[nodiscard]] std::optional<Url> parse_url(std::string_view text, std::string* error = nullptr);

/// `url` as text with any user info replaced by "***": safe in messages even
/// when the URL could not be parsed.
[[nodiscard]] std::string redact_userinfo(std::string_view url);

/// True for an RFC 1123 host name or IPv4 literal: dot-separated labels of
/// 1-63 letters, digits, '-' or '_' (underscores occur in internal DNS), 253
/// characters at most. Case is not checked.
[[nodiscard]] bool is_host_name(std::string_view name) noexcept;

/// True for "localhost", 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104, with or
/// without IPv6 brackets or a trailing dot. Other *.localhost names are not
/// loopback here: DNS, not the agent, decides where they go.
[[nodiscard]] bool is_loopback_host(std::string_view host) noexcept;

}  // namespace outpost::common
