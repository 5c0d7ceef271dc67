#pragma once

#include <string>
#include <string_view>

namespace outpost::common {

/// ASCII lower case (host names, keywords, keys): locale-independent, so a
/// Turkish or any other locale cannot change what a rule matches.
[[nodiscard]] std::string ascii_lower(std::string_view text);

/// Case-insensitive ASCII equality (header names, schemes, keywords).
[[nodiscard]] bool ascii_iequals(std::string_view a, std::string_view b) noexcept;

/// Appends `text` to `out` as a JSON string, quotes included. Valid UTF-8
/// passes through unchanged; each byte that is not part of a valid UTF-8
/// sequence becomes U+FFFD, so the output is always valid JSON and valid
/// UTF-8. `"`, `\` and control characters are escaped (\n, \t, … or \u00XX).
void append_json_string(std::string& out, std::string_view text);

/// `text` as a JSON string, quotes included (see append_json_string).
[[nodiscard]] std::string json_string(std::string_view text);

}  // namespace outpost::common
