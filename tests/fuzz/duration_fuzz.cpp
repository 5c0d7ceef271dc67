// Fuzzes the duration parser: every input parses or fails with a message,
// and whatever parses formats back to text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto value = outpost::config::parse_duration(text, &error);
  if (!value) {
    if (error.empty()) std::abort();
    return 0;
  }
  std::string error2;
  const auto again =
      outpost::config::parse_duration(outpost::config::format_duration(*value), &error2);
  if (!again || *again != *value) std::abort();
  return 0;
}
