#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace outpost::connectors::odbc {

/// An `odbc` source: either a full connection string, or a DSN with
/// credentials and extra attributes. Parsed strictly (unknown keys refused).
struct Attribute {
  std::string key;
  std::string value;
};

struct OdbcConfig {
  /// What SQLDriverConnect gets (credentials included; never logged).
  std::vector<Attribute> attributes;
  /// The network endpoint named in the string (Server/Host/Servername and
  /// Port), when there is one: checked through the egress policy.
  std::string host;
  std::uint16_t port = 0;
  /// Replace the host in the string by the address the policy permitted, so
  /// the driver cannot resolve the name differently (breaks drivers that
  /// verify a TLS certificate against the name; off by default).
  bool pin_address = false;
  std::chrono::seconds connect_timeout{15};
};

struct ParsedConfig {
  std::optional<OdbcConfig> config;
  std::string error;  ///< names keys, never values
};

ParsedConfig parse_config(const nlohmann::json& config);

/// Splits an ODBC connection string ("k=v;k={v;with;semicolons}"). nullopt
/// when it is malformed (an unterminated brace).
std::optional<std::vector<Attribute>> split_connection_string(std::string_view text);

/// Joins attributes back, bracing values that need it.
std::string join_connection_string(const std::vector<Attribute>& attributes);

/// The connection string for SQLDriverConnect; with `pinned_address` set, the
/// host attribute's value is replaced by it (the port stays).
std::string connection_string(const OdbcConfig& config, const std::string& pinned_address = {});

}  // namespace outpost::connectors::odbc
