// Fuzzes the ODBC connection-string parser every odbc source goes through:
// any bytes either parse or give an error (never a crash), an error never
// echoes a value, and what parses formats back to the same attributes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "outpost/conn_string.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = outpost::parse_odbc_connection_string(text);
  if (!parsed.ok()) {
    if (!parsed.attributes.empty()) std::abort();
    return 0;
  }
  (void)outpost::duplicate_odbc_key(parsed.attributes);
  const auto formatted = outpost::format_odbc_connection_string(parsed.attributes);
  const auto again = outpost::parse_odbc_connection_string(formatted);
  if (!again.ok() || again.attributes.size() != parsed.attributes.size()) std::abort();
  for (std::size_t i = 0; i < parsed.attributes.size(); ++i) {
    if (again.attributes[i].key != parsed.attributes[i].key ||
        again.attributes[i].value != parsed.attributes[i].value) {
      std::abort();
    }
  }
  return 0;
}
