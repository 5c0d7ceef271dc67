#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json_fwd.hpp>

namespace outpost::connectors::mysql {

/// How the connection uses TLS (the names follow MySQL's --ssl-mode).
enum class SslMode {
  kDisabled,        ///< plain TCP
  kPreferred,       ///< TLS when the server offers it, plain otherwise
  kRequired,        ///< TLS or fail; the certificate is not checked
  kVerifyCa,        ///< TLS, certificate chain checked against ssl_ca
  kVerifyIdentity,  ///< as kVerifyCa, and the certificate must name the host
};

/// A `mysql`/`mariadb` source's config, parsed strictly (unknown keys refused).
struct MysqlConfig {
  std::string host;
  std::uint16_t port = 3306;
  std::string database;  ///< empty: no default database
  std::string user;
  std::string password;
  SslMode ssl_mode = SslMode::kPreferred;
  std::string ssl_ca;  ///< PEM file with the CA certificate(s)
  std::chrono::seconds connect_timeout{10};
};

/// The parsed config, or the reason it is invalid (reported as invalid_job;
/// the message names keys, never values).
struct ParsedConfig {
  std::optional<MysqlConfig> config;
  std::string error;
};

ParsedConfig parse_config(const nlohmann::json& config);

}  // namespace outpost::connectors::mysql
