#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/url.hpp"

namespace outpost::config {

enum class BackoffStrategy { kLinear, kLinearJitter, kExponential, kExponentialJitter, kFallback };
enum class LogFormat { kJson, kText };
enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

/// The agent's whole configuration after command line, environment, options
/// files and defaults were merged and validated (agent-cli.md). Plain data:
/// every module reads what it needs from here and nothing re-parses options.
struct AgentConfig {
  // Control plane.
  std::string url;  ///< validated http(s) URL, as given (trailing slash tolerated)
  /// `url` parsed (set by validate_config): scheme, host, port, path without
  /// a trailing slash. Code that dials the control plane reads this, never
  /// re-parses `url`.
  common::Url control_plane;
  std::string token;  ///< never logged: registered with the log redactor at start
  std::string token_file;
  std::string ca_file;
  std::string client_cert;
  std::string client_key;
  std::string proxy;  ///< --proxy; empty = HTTPS_PROXY/https_proxy from the environment
  bool allow_insecure_http = false;

  // Capacity and pacing.
  int max_concurrency = 4;           ///< default sized from the container's CPU quota
  bool max_concurrency_set = false;  ///< given explicitly (else container sizing applies)
  double max_rate = 0;               ///< jobs started per second, 0 = unlimited
  int max_per_source = 0;            ///< 0 = no per-source cap
  std::chrono::milliseconds job_timeout{std::chrono::minutes(10)};
  std::chrono::milliseconds shutdown_grace{std::chrono::seconds(30)};
  std::chrono::milliseconds health_interval{std::chrono::seconds(10)};

  // Reconnection.
  BackoffStrategy backoff = BackoffStrategy::kExponentialJitter;
  std::chrono::milliseconds backoff_cap{std::chrono::seconds(60)};
  int max_retries = 0;  ///< 0 = forever

  // Local endpoints and logs.
  std::string health_addr = "0.0.0.0:8080";  ///< "off" disables
  LogLevel log_level = LogLevel::kInfo;
  LogFormat log_format = LogFormat::kJson;

  // Security.
  std::string sources_file;
  std::vector<std::string> allow_hosts;  ///< names, *.suffix patterns, CIDRs
  bool require_secret_refs = false;
  /// --allow-privileged-logins: run query/metadata jobs on logins that can do
  /// more than read (off: permission_denied naming the privilege).
  bool allow_privileged_logins = false;
  /// --sqlite-dirs: absolute directories SQLite files may be opened under
  /// (canonicalised at start); empty = no SQLite file may be opened.
  std::vector<std::string> sqlite_dirs;
  /// --secret-dirs: absolute directories `${file:…}` references may read under.
  std::vector<std::string> secret_dirs{"/run/secrets", "/var/run/secrets"};
  /// --secret-env: variable names `${env:…}` references may read; an entry
  /// ending in `*` is a prefix (`DB_*`). Empty = no environment references.
  std::vector<std::string> secret_env;
  bool no_gzip = false;  ///< never gzip request bodies, whatever the control plane accepts
  std::uint64_t max_result_rows = 1'000'000;
  std::uint64_t max_result_bytes = 256ull * 1024 * 1024;
  std::string audit_log;

  /// Field-by-field equality (tests compare configurations reached different ways).
  bool operator==(const AgentConfig&) const = default;
};

std::string_view to_string(BackoffStrategy strategy) noexcept;
std::string_view to_string(LogLevel level) noexcept;
std::string_view to_string(LogFormat format) noexcept;

}  // namespace outpost::config
