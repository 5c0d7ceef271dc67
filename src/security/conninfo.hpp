#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// How the drivers read a connection string, for the secret-reference scope
// (secrets.hpp) and --require-secret-refs (secret_policy.hpp): which values a
// string assigns to which keywords. No I/O.

namespace outpost::security {

/// One keyword of a connection string and the value it gets.
struct ConnPair {
  std::string key;          ///< as the parser reports it ("password", "application_name")
  std::string value;        ///< decoded (quotes, escapes, percent-encoding removed)
  bool credential = false;  ///< a password-like keyword: never echoed by a server
};

/// libpq's own reading (PQconninfoParse) of a `key=value` conninfo or a
/// postgres:// / postgresql:// URI (percent-decoded, as libpq does). Every
/// keyword libpq knows is reported once, with its value when set; credential
/// marks the keywords libpq itself hides (dispchar "*": password,
/// sslpassword, …) and any keyword is_secret_key() names. nullopt when libpq
/// refuses the string, or when libpq.so.5 cannot be loaded (then no postgres
/// source can run, and callers fall back to their generic URI and
/// attribute readings).
std::optional<std::vector<ConnPair>> parse_libpq_conninfo(std::string_view text);

/// A `scheme://user:password@host:port/path?key=value&…#fragment` URI of any
/// scheme: pairs "user", "password" (credential), "host", "path", "fragment",
/// and each query key percent-decoded (`+` as a space) and lower-cased, its
/// value decoded too (credential when is_secret_key() names the key). nullopt
/// when `text` does not start with `scheme://`.
std::optional<std::vector<ConnPair>> parse_generic_uri(std::string_view text);

/// An ODBC-style `key=value;key={va;lue}` string (`}}` inside braces is a
/// literal `}`): one pair per attribute, keys trimmed and lower-cased,
/// credential for PWD/Password and what is_secret_key() names. nullopt when
/// an attribute has no `=` or a brace is not closed.
std::optional<std::vector<ConnPair>> parse_attribute_string(std::string_view text);

}  // namespace outpost::security
