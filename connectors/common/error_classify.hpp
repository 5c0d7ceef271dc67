#pragma once

#include <optional>
#include <string_view>

#include "outpost/errors.hpp"

namespace outpost::connectors::common {

/// Case-insensitive substring search (ASCII).
bool contains_icase(std::string_view haystack, std::string_view needle);

/// Whether a driver message says a write was refused because the session,
/// transaction or database is read-only, e.g.
///   PostgreSQL "cannot execute INSERT in a read-only transaction" (25006),
///   MySQL/MariaDB "Cannot execute statement in a READ ONLY transaction" (1792)
///   and "--read-only option" (1290), SQLite "attempt to write a readonly database".
/// Use it when the driver has no dedicated code; prefer the code when it does.
bool is_read_only_refusal(std::string_view message);

/// Classifies the usual socket / resolver / TLS failure texts that drivers
/// pass through from the OS or OpenSSL ("Connection refused", "timed out",
/// "certificate verify failed", …): unreachable, timeout or tls_error.
/// nullopt when the text is none of these (the caller decides).
std::optional<ErrorCode> classify_network_message(std::string_view message);

/// Whether an error of this code is worth retrying as is (the next attempt
/// may succeed without anyone changing the config).
bool retryable(ErrorCode code) noexcept;

}  // namespace outpost::connectors::common
