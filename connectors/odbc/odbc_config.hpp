#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "odbc/odbc_catalog.hpp"
#include "outpost/conn_string.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::odbc {

/// An `odbc` source after every check that needs no network: the driver is a
/// registered odbcinst.ini section (or the DSN exists), each attribute is on
/// its driver's allow-list (odbc_attributes.hpp), a SQLite file is under
/// --sqlite-dirs. Parsed strictly (unknown config keys refused).
struct OdbcConfig {
  DriverKind kind = DriverKind::kOther;
  std::string driver;  ///< the registered section name (Driver=), or empty
  std::string dsn;     ///< the DSN (DSN=), or empty
  /// Checked attributes other than Driver/DSN and the ones the agent writes
  /// itself (server, port, and the SQLite database).
  std::vector<OdbcAttribute> attributes;
  /// The endpoint to check through the egress policy before connecting:
  /// a host name or address (TCP), or a socket directory when `socket`.
  /// Empty for SQLite and for a DSN of another driver that names none.
  std::string host;
  std::uint16_t port = 0;
  bool socket = false;
  /// The host came from an attribute written `host,port` (SQL Server style).
  bool inline_port = false;
  /// sqliteodbc: the canonical database path (under --sqlite-dirs).
  std::string sqlite_path;
  std::chrono::seconds connect_timeout{15};
};

struct ParsedConfig {
  std::optional<OdbcConfig> config;
  std::string error;  ///< names keys, never values
  /// The error's code: invalid_job, except for a SQLite file missing inside
  /// --sqlite-dirs (unreachable, as the sqlite connector says for it).
  ErrorCode code = ErrorCode::kInvalidJob;
};

/// Reads and checks a source config against the installed drivers/DSNs and
/// the operator policy (sqlite_dirs).
ParsedConfig parse_config(const nlohmann::json& json, const DriverCatalog& catalog,
                          const OperatorPolicy& policy);

/// The connection string for SQLDriverConnect. `address` holds the numeric
/// addresses the egress policy permitted (TCP hosts, comma-separated, from
/// check_endpoint()); the driver dials them and nothing else (psqlODBC:
/// `Server=name,…;pqopt={hostaddr=a,…}`, so TLS still verifies the name;
/// other drivers: `Server=` the first address). Holds the password: wipe it
/// after use.
std::string connection_string(const OdbcConfig& config, const std::string& address);

/// The SQLite URI that opens `path` read-only ("file:/p%3Fq?mode=ro").
std::string sqlite_readonly_uri(const std::string& path);

}  // namespace outpost::connectors::odbc
