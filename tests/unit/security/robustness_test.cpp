// Hostile input never crashes or hangs the parsers: a deterministic stream of
// random strings built from the characters that matter to each grammar (run
// under ASan/UBSan in CI).
#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

#include "security/egress.hpp"
#include "security/secret_policy.hpp"
#include "security/secrets.hpp"
#include "security/sources_file.hpp"

namespace outpost::security {
namespace {

std::string random_text(std::mt19937& rng, std::string_view alphabet, std::size_t max_length) {
  std::uniform_int_distribution<std::size_t> length(0, max_length);
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
  std::string out(length(rng), ' ');
  for (char& c : out) c = alphabet[pick(rng)];
  return out;
}

TEST(SecurityRobustness, SecretScannersAcceptAnyString) {
  std::mt19937 rng(20261123);
  const SecretLookups lookups{[](const std::string& name) -> std::optional<std::string> {
                                if (name.size() % 2 == 0) return std::nullopt;
                                return "v" + name;
                              },
                              [](const std::string& path) -> FileLookup {
                                return {"  " + path + "\n", {}};
                              },
                              {}};
  const std::string_view alphabet = "${}:envfil/=@;'\"\\ ?&,pwdPWDasrkeytoin_-.A1";
  for (int i = 0; i < 5000; ++i) {
    const std::string text = random_text(rng, alphabet, 40);
    const nlohmann::json config = {{"password", text}, {"dsn", text}, {"n", {{"k", {text}}}}};
    const auto expanded = expand_secret_refs(config, lookups);
    if (!expanded.error) {
      EXPECT_TRUE(expanded.config.is_object());
    }
    (void)check_secret_ref_syntax(config);
    (void)is_only_secret_refs(text);
    const auto found = find_literal_secret(config);
    if (found && text.size() > 8) {  // longer than any key path in `config`
      EXPECT_EQ(found->find(text), std::string::npos) << "a path, never the value";
    }
  }
}

TEST(SecurityRobustness, EgressEntriesAndHostsAcceptAnyString) {
  std::mt19937 rng(7);
  const std::string_view alphabet = "0123456789abcdef:./*[]%-x ";
  const EgressGuard guard({"10.0.0.0/8", "fd00::/8", "*.corp.example", "db.internal"});
  for (int i = 0; i < 5000; ++i) {
    const std::string text = random_text(rng, alphabet, 24);
    try {
      const EgressGuard parsed({text});
      (void)parsed.allows_address(text, 5432);
    } catch (const std::invalid_argument&) {
    }
    (void)guard.allows_address(text, 5432);
    (void)guard.allows_name(text, 5432);
    (void)guard.check(text, 5432, {text});
  }
}

TEST(SecurityRobustness, SourcesFileRejectsGarbageCleanly) {
  std::mt19937 rng(42);
  const std::string_view alphabet = "sources:type config{}[],-&*!|>'\"\n #a1~";
  for (int i = 0; i < 3000; ++i) {
    const std::string text = "sources:\n  a:\n" + random_text(rng, alphabet, 60);
    try {
      (void)SourcesFile::parse(text, "<fuzz>");
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()).rfind("sources file <fuzz>:", 0), 0u) << e.what();
    }
  }
}

}  // namespace
}  // namespace outpost::security
