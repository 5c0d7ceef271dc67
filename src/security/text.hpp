#pragma once

#include <string>
#include <string_view>

namespace outpost::security {

/// ASCII lower case (host names, keywords, keys): locale-independent, so a
/// Turkish or other locale cannot change what a rule matches.
inline std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace outpost::security
