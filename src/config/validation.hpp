#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/environment.hpp"
#include "config/options.hpp"

namespace outpost::config {

/// An absolute http(s) URL, split for validation.
struct HttpUrl {
  std::string scheme;    ///< lower case: "http" or "https"
  std::string userinfo;  ///< "user:password" or empty
  std::string host;      ///< without brackets for IPv6
  std::uint16_t port = 0;
  std::string path;  ///< "" or starting with '/'
};

/// Parses an absolute http(s) URL without query or fragment; nullopt with
/// `error` set (never echoing user info) when it is not one.
std::optional<HttpUrl> parse_http_url(std::string_view text, std::string* error);

/// The URL as text with any user info replaced by "***" (safe for messages).
std::string redact_userinfo(std::string_view url);

/// True for "localhost" (and *.localhost), 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

/// "HOST:PORT", ":PORT" (all interfaces) or "off"; returns the normalised
/// form ("0.0.0.0:PORT" for ":PORT"). Throws ConfigError.
std::string normalize_health_addr(const RawValue& value);

/// Splits and checks a comma-separated allow list with the guard's own
/// parser (security/allowlist.hpp): host names, "*.suffix" patterns, IP
/// addresses and CIDR blocks with optional ports, unix:PATH and dsn:NAME.
/// Entries are trimmed (not lower-cased: socket paths are case-sensitive),
/// blanks dropped. Throws ConfigError naming the first bad entry.
std::vector<std::string> parse_allow_hosts(const RawValue& value);

/// Splits a comma-separated list of absolute directory paths (blanks
/// dropped, trailing slashes removed). Throws ConfigError naming the first
/// relative or malformed entry. Existence is checked at start-up.
std::vector<std::string> parse_dir_list(const RawValue& value);

/// Splits a comma-separated list of environment variable names, each
/// optionally ending in `*` (a prefix: `DB_*`). Throws ConfigError naming the
/// first entry that is not [A-Za-z_][A-Za-z0-9_]*[*]?; `*` alone is refused
/// (it would expose the whole environment, the agent's token among it).
std::vector<std::string> parse_env_name_list(const RawValue& value);

/// Checks a --proxy URL (http or https, user info allowed); throws ConfigError.
std::string validate_proxy_url(const RawValue& value);

/// Checks what single options cannot: the control plane URL's scheme against
/// --allow-insecure-http, certificate/key pairs, readable files. Throws
/// ConfigError; returns warnings (e.g. a URL without the /api suffix).
std::vector<std::string> validate_config(const AgentConfig& config, const Environment& env);

}  // namespace outpost::config
