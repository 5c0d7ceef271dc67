// Fuzzes the JSON string escaper behind every result row and log line: any
// bytes must come out as one valid JSON string.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "outpost/row_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  std::string out;
  outpost::RowWriter::append_json_string(out, bytes);
  if (!nlohmann::json::accept(out)) std::abort();
  const auto parsed = nlohmann::json::parse(out);
  if (!parsed.is_string()) std::abort();
  std::string b64;
  outpost::RowWriter::append_base64(b64, bytes);
  if (b64.size() != (size + 2) / 3 * 4) std::abort();
  return 0;
}
