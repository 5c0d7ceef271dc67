#include "config/validation.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>

#include "common/text.hpp"
#include "common/url.hpp"
#include "security/allowlist.hpp"

namespace outpost::config {
namespace {

bool is_ipv4(const std::string& text) {
  in_addr addr{};
  return ::inet_pton(AF_INET, text.c_str(), &addr) == 1;
}

bool is_ipv6(const std::string& text) {
  in6_addr addr{};
  return ::inet_pton(AF_INET6, text.c_str(), &addr) == 1;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || port > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(port);
}

void check_readable(const Environment& env, std::string_view option, const std::string& path) {
  if (path.empty()) return;
  const FileRead read = env.read_file(path);
  if (!read.content) {
    throw ConfigError("cannot read " + std::string(option) + " '" + path + "': " + read.error +
                      "; check the path and its permissions");
  }
}

}  // namespace

std::string normalize_health_addr(const RawValue& value) {
  const std::string& text = value.text;
  if (common::ascii_lower(text) == "off") return "off";
  const auto hint = "; write HOST:PORT (e.g. 0.0.0.0:8080 or [::]:8080) or off";
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    throw ConfigError("invalid value for " + value.origin + ": '" + text + "' has no port" + hint);
  }
  std::string host = text.substr(0, colon);
  const auto port = parse_port(std::string_view(text).substr(colon + 1));
  if (!port) {
    throw ConfigError("invalid value for " + value.origin + ": the port of '" + text +
                      "' is not a number from 0 to 65535" + hint);
  }
  if (host.empty()) return "0.0.0.0:" + std::to_string(*port);
  const bool bracketed = host.size() > 2 && host.front() == '[' && host.back() == ']';
  const bool valid = bracketed ? is_ipv6(host.substr(1, host.size() - 2))
                               : (is_ipv4(host) || common::is_host_name(host));
  if (!valid) {
    throw ConfigError("invalid value for " + value.origin + ": '" + host +
                      "' is not an IP address or host name" + hint);
  }
  return host + ":" + std::to_string(*port);
}

std::vector<std::string> parse_allow_hosts(const RawValue& value) {
  // One grammar for config and guard (security/allowlist.hpp): what passes
  // here is what EgressGuard enforces.
  std::vector<std::string> entries;
  std::string_view rest = value.text;
  while (true) {
    const auto comma = rest.find(',');
    std::string entry(rest.substr(0, comma));
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (!entry.empty()) {
      try {
        (void)security::parse_allow_entry(entry);
      } catch (const std::invalid_argument& e) {
        throw ConfigError("invalid entry '" + entry + "' in " + value.origin + ": it " + e.what() +
                          "; use host names, *.suffix patterns, IP addresses or CIDR blocks, each "
                          "with an optional :PORT or :FIRST-LAST, unix:/socket/path or dsn:NAME, "
                          "such as db.internal:5432,*.corp.example,10.0.0.0/8:5432-5439,"
                          "[fd00::/8]:5432,unix:/var/run/postgresql,dsn:Reporting");
      }
      entries.push_back(std::move(entry));
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return entries;
}

namespace {

// Calls `each` with every trimmed, non-blank entry of a comma-separated list.
template <typename F>
void for_each_entry(std::string_view rest, F each) {
  while (true) {
    const auto comma = rest.find(',');
    std::string entry(rest.substr(0, comma));
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (!entry.empty()) each(std::move(entry));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace

std::vector<std::string> parse_dir_list(const RawValue& value) {
  std::vector<std::string> dirs;
  for_each_entry(value.text, [&](std::string entry) {
    if (entry.front() != '/' || entry.find('\0') != std::string::npos) {
      throw ConfigError("invalid entry '" + entry + "' in " + value.origin +
                        ": use absolute directory paths such as /data/sqlite,/srv/db");
    }
    while (entry.size() > 1 && entry.back() == '/') entry.pop_back();
    dirs.push_back(std::move(entry));
  });
  return dirs;
}

std::vector<std::string> parse_env_name_list(const RawValue& value) {
  std::vector<std::string> names;
  for_each_entry(value.text, [&](std::string entry) {
    std::string_view name = entry;
    if (name.ends_with('*')) name.remove_suffix(1);
    bool valid =
        !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_');
    for (char c : name) {
      valid = valid && (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_');
    }
    if (!valid) {
      throw ConfigError("invalid entry '" + entry + "' in " + value.origin +
                        ": use variable names or prefixes ending in '*', such as "
                        "PGPASSWORD,DB_*");
    }
    names.push_back(std::move(entry));
  });
  return names;
}

std::string validate_proxy_url(const RawValue& value) {
  std::string error;
  if (!common::parse_url(value.text, &error)) {
    throw ConfigError("invalid value for " + value.origin + " '" + redact_userinfo(value.text) +
                      "': " + error);
  }
  return value.text;
}

std::vector<std::string> validate_config(AgentConfig& config, const Environment& env) {
  std::vector<std::string> warnings;
  const std::string shown = redact_userinfo(config.url);
  std::string error;
  const auto url = common::parse_url(config.url, &error);
  if (!url) {
    throw ConfigError("invalid control plane URL '" + shown + "': " + error +
                      " (--url / AGENT_URL)");
  }
  if (!url->userinfo.empty()) {
    throw ConfigError(
        "the control plane URL must not carry credentials (user:password@); "
        "pass the access token with --token-file, AGENT_TOKEN or --token");
  }
  if (url->scheme == "http" && !is_loopback_host(url->host) && !config.allow_insecure_http) {
    throw ConfigError("refusing plain http to '" + url->host +
                      "': the access token would cross the network unencrypted; use https://, "
                      "or pass --allow-insecure-http if this network is trusted");
  }
  if (!url->path.ends_with("/api")) {
    warnings.push_back("the control plane URL " + shown +
                       " does not end in /api; if start-up fails with 404, add the /api suffix");
  }
  if (config.client_cert.empty() != config.client_key.empty()) {
    throw ConfigError(config.client_cert.empty()
                          ? "--client-key needs --client-cert (mutual TLS needs both)"
                          : "--client-cert needs --client-key (mutual TLS needs both)");
  }
  check_readable(env, "--ca-file", config.ca_file);
  check_readable(env, "--client-cert", config.client_cert);
  check_readable(env, "--client-key", config.client_key);
  check_readable(env, "--sources-file", config.sources_file);
  config.control_plane = *url;
  return warnings;
}

}  // namespace outpost::config
