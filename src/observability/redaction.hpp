#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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

/// Shortest truncated prefix registered by secret_variants().
inline constexpr std::size_t kMinSecretPrefix = 8;

/// The forms of a resolved secret a server may echo back: the secret, its
/// white-space-trimmed form, and its prefixes at the lengths servers truncate
/// names and settings to (PostgreSQL NAMEDATALEN-1 = 63 bytes, cut at a UTF-8
/// character boundary; MySQL 64 and 32 characters), each at least
/// kMinSecretPrefix bytes. Deduplicated, longest first.
std::vector<std::string> secret_variants(std::string_view secret);

/// Replaces one job's resolved secrets in its result (rows, tables, result
/// fields) before anything is sent to the control plane.
///
/// Cost: nothing for a job that resolved no secret (empty() is checked by
/// the caller). Otherwise one memmem per pattern per NDJSON line (each
/// secret variant, raw and JSON-escaped); a line that matches (rare) is
/// parsed, every string and number holding a secret is replaced with
/// kRedactedMark, and the line is serialised again. Secrets shorter than
/// kMinSubstringSecret only match a whole value.
///
/// Not thread safe; one per job, used on its worker.
class ValueScrubber {
 public:
  ValueScrubber() = default;
  /// `secrets`: the job's resolved values and their variants (secret_variants()).
  explicit ValueScrubber(std::vector<std::string> secrets);

  [[nodiscard]] bool empty() const noexcept { return secrets_.empty(); }
  /// Rewrites one NDJSON line in place when it holds a secret; true when it did.
  bool scrub_line(std::string& line) const;
  /// Rewrites every string, number and key of `value` holding a secret; true when any did.
  bool scrub(nlohmann::json& value) const;

 private:
  bool scrub_text(std::string& text) const;
  std::vector<std::string> secrets_;   ///< longest first
  std::vector<std::string> patterns_;  ///< secrets_ and their JSON-escaped forms
};

}  // namespace outpost::obs
