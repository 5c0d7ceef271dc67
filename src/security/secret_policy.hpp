#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace outpost::security {

/// The --require-secret-refs check, run on a job's inline `source.config`
/// before any connection is made (a `{"ref": NAME}` source is the operator's
/// own definition and is not subject to it).
///
/// Returns the key path of the first literal secret found ("password",
/// "options.sslpassword", "hosts[1].token"), or nullopt when the config is
/// clean. A secret is literal when it is not made of secret references only
/// (`${env:…}` / `${file:…}`, see secrets.hpp). Two kinds are recognised:
///  - a value under a secret-looking key (is_secret_key()): a non-empty string
///    or a number; null, "", booleans and nested objects (which are searched)
///    are fine;
///  - a password embedded in any string value: the user-info of a URI
///    ("postgres://u:pw@h/db"), or a `password=` / `pwd=` / `token=`-style
///    pair of a libpq conninfo, an ODBC connection string or a URL query. The
///    returned path is then the key holding the string (e.g. "dsn").
/// Never returns or logs the value itself.
std::optional<std::string> find_literal_secret(const nlohmann::json& config);

/// Whether a config key names a secret: password, passwd, pwd, passphrase,
/// secret, token, key, api_key, private_key, sslpassword, credentials, and the
/// names ending in them (db_password, client_secret, access_token, account_key),
/// case-insensitive with `-` same as `_`. Keys that name a file or path
/// (sslkey, ssl_key, tls_key, *_file, *_path) and public keys are not secrets:
/// pointing at a file on the agent's host is exactly what operators should do.
bool is_secret_key(std::string_view key);

}  // namespace outpost::security
