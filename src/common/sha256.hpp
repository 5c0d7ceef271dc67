#pragma once

#include <string>
#include <string_view>

namespace outpost::common {

/// SHA-256 of `data` as its 32 raw bytes (what the hub stores for a token).
/// Throws std::runtime_error only if OpenSSL itself fails.
[[nodiscard]] std::string sha256_digest(std::string_view data);

/// SHA-256 of `data` as 64 lower-case hex digits (audit log, connector
/// config fingerprints). Throws std::runtime_error only if OpenSSL fails.
[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace outpost::common
