#pragma once

#include <string>
#include <string_view>

namespace outpost::common {

/// SHA-256 of `data` as 64 lower-case hex digits. Throws std::runtime_error
/// only if OpenSSL itself fails.
[[nodiscard]] std::string sha256_hex(std::string_view data);

}  // namespace outpost::common
