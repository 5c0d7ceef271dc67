#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/errors.hpp"
#include "outpost/network_guard.hpp"

namespace outpost::connectors::postgres {

/// libpq keyword/value pairs, owned. Passed to PQconnectStartParams as
/// NULL-terminated arrays with expand_dbname = 0, so no value is ever parsed
/// as a conninfo string.
struct ConnectParams {
  std::vector<std::string> keywords;
  std::vector<std::string> values;
  std::string application_name;  ///< base name sessions are tagged with
  int connect_timeout_s = 10;    ///< whole connection attempt

  void set(const std::string& keyword, std::string value);
  [[nodiscard]] const std::string* get(const std::string& keyword) const;
};

/// Parses a postgres `source.config` strictly (unknown keys → invalid_job).
/// Keys: host, port, database, user, password, sslmode, sslrootcert,
/// connect_timeout, application_name, options, allow_privileged_login — or
/// dsn/uri (a libpq conninfo string or postgresql:// URI, parsed by
/// PQconninfoParse), whose settings the explicit keys override. A dsn/uri's
/// keywords pass an allow-list; those that read agent-host files (passfile,
/// sslcert, sslkey, …) only when `operator_source` (the agent's sources
/// file), and an inline source never reads ~/.pgpass. No host is resolved here.
struct ParsedConfig {
  std::optional<JobError> error;
  ConnectParams params;
};
ParsedConfig parse_config(const nlohmann::json& config, bool operator_source = false);

/// Resolves every host in `params` through the egress guard and adds the
/// returned addresses as `hostaddr` (keeping `host` for TLS name checks; a
/// host with several addresses is repeated once per address, which libpq
/// tries in order). A unix-socket host (a directory, or '@' for the abstract
/// namespace; an empty entry is libpq's default directory) is checked with
/// check_local_socket on the socket path <dir>/.s.PGSQL.<port>.
/// Returns the guard's error (egress_denied / unreachable) when refused.
std::optional<JobError> apply_network_guard(ConnectParams& params, const NetworkGuard& guard);

}  // namespace outpost::connectors::postgres
