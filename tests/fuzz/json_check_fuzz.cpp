// Differential: the hub's DOM-free JSON validator (hub/json_check) must agree
// with nlohmann::json::accept on any bytes, except where its nesting bound
// deliberately refuses what nlohmann (which has none) accepts, and on a
// leading UTF-8 byte order mark or a NUL byte, which nlohmann skips or takes
// for the end and the hub refuses.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "json_check.hpp"

namespace {

// Deepest bracket nesting outside strings (an over-estimate is fine: it only
// excuses disagreements).
std::size_t nesting(std::string_view text) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool ours = outpost::hub::is_json(text);
  const bool theirs = nlohmann::json::accept(text);
  if (ours == theirs) return 0;
  if (!ours && text.substr(0, 3) == "\xEF\xBB\xBF") return 0;
  // nlohmann's lexer takes a NUL byte for the end of the input and accepts
  // "1\0garbage"; the hub refuses a line with a NUL in it.
  if (!ours && text.find('\0') != std::string_view::npos) return 0;
  if (!ours && nesting(text) > outpost::hub::kMaxJsonDepth) return 0;
  std::abort();
}
