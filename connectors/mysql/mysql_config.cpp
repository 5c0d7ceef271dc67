#include "mysql/mysql_config.hpp"

#include <nlohmann/json.hpp>

#include "common/source_config.hpp"
#include "outpost/policy.hpp"

namespace outpost::connectors::mysql {

ParsedConfig parse_config(const nlohmann::json& config) {
  common::ConfigReader reader(config, "mysql source config");
  reader.allow_only({"host", "port", "database", "user", "password", "ssl_mode", "ssl_ca",
                     "connect_timeout", kAllowPrivilegedLoginKey});
  // Read (and type-checked) by privileged_login_allowed(); only honoured for
  // sources of the operator's sources file.
  (void)reader.boolean(kAllowPrivilegedLoginKey);
  MysqlConfig out;
  if (auto host = reader.string("host")) out.host = *host;
  if (auto port = reader.integer("port", 1, 65535)) out.port = static_cast<std::uint16_t>(*port);
  if (auto database = reader.string("database")) out.database = *database;
  if (auto user = reader.string("user")) out.user = *user;
  if (auto password = reader.string("password")) out.password = *password;
  if (auto ca = reader.string("ssl_ca")) out.ssl_ca = *ca;
  if (auto timeout = reader.integer("connect_timeout", 1, 3600)) {
    out.connect_timeout = std::chrono::seconds(*timeout);
  }
  if (auto mode = reader.choice(
          "ssl_mode", {"disabled", "preferred", "required", "verify_ca", "verify_identity"})) {
    if (*mode == "disabled") out.ssl_mode = SslMode::kDisabled;
    if (*mode == "preferred") out.ssl_mode = SslMode::kPreferred;
    if (*mode == "required") out.ssl_mode = SslMode::kRequired;
    if (*mode == "verify_ca") out.ssl_mode = SslMode::kVerifyCa;
    if (*mode == "verify_identity") out.ssl_mode = SslMode::kVerifyIdentity;
  }
  if (!reader.error() && out.host.empty()) reader.fail("mysql source config: \"host\" is required");
  if (!reader.error() && out.user.empty()) reader.fail("mysql source config: \"user\" is required");
  if (!reader.error() && out.host.find('/') != std::string::npos) {
    reader.fail("mysql source config: \"host\" must be a host name or address, not a socket path");
  }
  if (!reader.error() && out.ssl_ca.empty() &&
      (out.ssl_mode == SslMode::kVerifyCa || out.ssl_mode == SslMode::kVerifyIdentity)) {
    // Connector/C has no system trust store fallback we can rely on across builds.
    reader.fail(
        "mysql source config: \"ssl_ca\" is required with ssl_mode verify_ca/verify_identity");
  }
  if (reader.error()) return ParsedConfig{std::nullopt, *reader.error()};
  return ParsedConfig{std::move(out), {}};
}

}  // namespace outpost::connectors::mysql
