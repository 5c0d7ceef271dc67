#pragma once

#include <string>
#include <string_view>

// The redaction layer behind obs::add_secret() and obs::redact() (log.hpp).

namespace outpost::obs {

/// Secrets shorter than this many bytes are replaced only where they stand as
/// a whole word (not inside a longer run of letters and digits): replacing
/// every "ab" in every line would make logs unreadable while hiding nothing.
inline constexpr std::size_t kMinSubstringSecret = 4;

/// What a secret is replaced with.
inline constexpr std::string_view kRedactedMark = "[REDACTED]";

/// True once any secret is registered (a lock-free check for the fast path).
bool has_secrets() noexcept;

/// Appends `text` to `out` with every registered secret replaced.
void append_redacted(std::string& out, std::string_view text);

/// Forgets every registered secret. For tests only.
void clear_secrets_for_testing();

}  // namespace outpost::obs
