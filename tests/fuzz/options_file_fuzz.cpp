// Fuzzes the options-file splitter: any text must split or fail with an
// error message, never crash, and a successful split must be stable when
// re-joined with quoting.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/options_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto args = outpost::config::split_options_text(text, &error);
  if (!args && error.empty()) std::abort();  // a failure must say why
  if (args) {
    // Re-quote every argument with single quotes (escaping embedded ones by
    // closing, emitting a double-quoted quote, reopening) and split again.
    std::string joined;
    for (const auto& a : *args) {
      joined += '\'';
      for (char c : a) {
        if (c == '\'') {
          joined += "'\"'\"'";
        } else {
          joined += c;
        }
      }
      joined += "' ";
    }
    std::string error2;
    const auto again = outpost::config::split_options_text(joined, &error2);
    if (!again || *again != *args) std::abort();
  }
  return 0;
}
