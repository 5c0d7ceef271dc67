#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/postgres/pg_connection.hpp"

namespace outpost::hub::pg {

/// Turns `postgres://USER@HOST:PORT/DB?param=value` (or `postgresql://`)
/// into libpq keywords, with `password` (read by the caller from
/// --store-password-file) handed to libpq as the `password` keyword only.
///
/// A password inside the URL (`USER:PASSWORD@` or `?password=`) is refused:
/// the URL is a command-line argument (visible in `ps`) and gets logged, so
/// a secret there is already leaked. The error says what to do instead and
/// never repeats the URL.
///
/// Adds `application_name=outpost-hub`, `connect_timeout=5` and TCP
/// keepalives unless the URL sets them. Throws std::invalid_argument.
ConnParams parse_store_url(std::string_view url, const std::string& password);

/// The URL with any `:password@` and `password=` value replaced by `***`,
/// for log lines (the parser refuses such URLs; this is belt and braces).
std::string redact_url(std::string_view url);

}  // namespace outpost::hub::pg
