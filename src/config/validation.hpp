#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/url.hpp"
#include "config/config.hpp"
#include "config/environment.hpp"
#include "config/options.hpp"

namespace outpost::config {

/// The URL helpers live one floor down (common/url.hpp), shared with http.
/// These names stay for callers written against config (src/main.cpp).
using HttpUrl = common::Url;
using common::is_loopback_host;
using common::redact_userinfo;
inline std::optional<HttpUrl> parse_http_url(std::string_view text, std::string* error) {
  return common::parse_url(text, error);
}

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
/// --allow-insecure-http, certificate/key pairs, readable files, and stores
/// the parsed URL in `config.control_plane`. Throws ConfigError; returns
/// warnings (e.g. a URL without the /api suffix).
std::vector<std::string> validate_config(AgentConfig& config, const Environment& env);

}  // namespace outpost::config
