// Fuzzes the secret-reference resolver with injected lookups: any string in a
// config must resolve or fail with secret_unresolved, never crash, and never
// put a resolved value into the error message.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "security/secrets.hpp"

namespace {
constexpr const char* kSecret = "s3cr3t-value-xyz";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  outpost::security::SecretLookups lookups;
  lookups.env = [](const std::string& name) -> std::optional<std::string> {
    if (name.empty() || name[0] == 'U') return std::nullopt;  // "unset" variables
    return kSecret;
  };
  lookups.file = [](const std::string& path) {
    outpost::security::FileLookup r;
    if (path.size() % 2 == 0) {
      r.contents = std::string("  ") + kSecret + "\n";
    } else {
      r.reason = "No such file or directory";
    }
    return r;
  };
  nlohmann::json config = {{"password", text}, {"nested", {{"a", text}, {"list", {text, 5}}}}};
  const auto result = outpost::security::expand_secret_refs(config, lookups);
  if (result.error) {
    if (result.error->code != outpost::ErrorCode::kSecretUnresolved) std::abort();
    // The message may quote the (malformed) reference the input wrote, so the
    // secret text only counts as leaked when the input did not contain it.
    if (result.error->message.find(kSecret) != std::string::npos &&
        text.find(kSecret) == std::string::npos) {
      std::abort();
    }
  } else if (!result.config.is_object()) {
    std::abort();
  }
  (void)outpost::security::check_secret_ref_syntax(config);
  (void)outpost::security::is_only_secret_refs(text);
  return 0;
}
