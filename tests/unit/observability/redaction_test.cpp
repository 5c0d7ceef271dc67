#include "observability/redaction.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "observability/log.hpp"

namespace outpost::obs {
namespace {

class Redaction : public ::testing::Test {
 protected:
  void SetUp() override { clear_secrets_for_testing(); }
  void TearDown() override { clear_secrets_for_testing(); }
};

TEST_F(Redaction, NothingRegisteredNothingChanged) {
  EXPECT_FALSE(has_secrets());
  EXPECT_EQ(redact("plain text"), "plain text");
}

TEST_F(Redaction, EveryOccurrenceIsReplaced) {
  add_secret("s3cr3t-token");
  EXPECT_TRUE(has_secrets());
  EXPECT_EQ(redact("a s3cr3t-token b s3cr3t-tokens3cr3t-token"),
            "a [REDACTED] b [REDACTED][REDACTED]");
  EXPECT_EQ(redact("s3cr3t-token"), "[REDACTED]");
  EXPECT_EQ(redact("s3cr3t-toke"), "s3cr3t-toke");
}

TEST_F(Redaction, LongerSecretWinsOverItsPrefix) {
  add_secret("abcd");
  add_secret("abcdefgh");
  EXPECT_EQ(redact("xabcdefghx abcd"), "x[REDACTED]x [REDACTED]");
}

TEST_F(Redaction, OverlappingSecrets) {
  add_secret("1234abcd");
  add_secret("abcd5678");
  EXPECT_EQ(redact("1234abcd5678"), "[REDACTED]5678");
}

TEST_F(Redaction, ShortSecretsOnlyAsWholeWords) {
  add_secret("ab1");
  EXPECT_EQ(redact("ab1"), "[REDACTED]");
  EXPECT_EQ(redact("token=ab1, next"), "token=[REDACTED], next");
  EXPECT_EQ(redact("grab1t cab1"), "grab1t cab1");
}

TEST_F(Redaction, SecretThatLooksLikeTheMark) {
  add_secret("REDACTED");
  EXPECT_EQ(redact("[REDACTED] REDACTED"), "[[REDACTED]] [REDACTED]");
}

TEST_F(Redaction, EmptyAndDuplicateSecretsAreIgnored) {
  add_secret("");
  EXPECT_FALSE(has_secrets());
  add_secret("dup-secret");
  add_secret("dup-secret");
  EXPECT_EQ(redact("dup-secret"), "[REDACTED]");
}

// Issue 14 class 5: what a server may echo back of a secret.
TEST(SecretVariants, TruncationPrefixesAndTrimmedForm) {
  const std::string long_secret(100, 'k');
  const auto v = secret_variants(long_secret);
  for (const std::size_t n : {100u, 64u, 63u, 32u}) {
    EXPECT_NE(std::find(v.begin(), v.end(), std::string(n, 'k')), v.end()) << n;
  }
  EXPECT_EQ(secret_variants("short-pw"), std::vector<std::string>{"short-pw"});
  EXPECT_EQ(secret_variants(" padded-secret \n"),
            (std::vector<std::string>{" padded-secret \n", "padded-secret"}));
  // PostgreSQL cuts at a character boundary: a 2-byte character across byte 63.
  const std::string utf8 = std::string(62, 'a') + "\xc3\xa9" + std::string(10, 'b');
  const auto u = secret_variants(utf8);
  EXPECT_NE(std::find(u.begin(), u.end(), std::string(62, 'a')), u.end());
}

TEST(ValueScrubber, RedactsSecretsInRowLinesAndKeepsJson) {
  const ValueScrubber scrubber(secret_variants(std::string(70, 'S') + "\"q"));
  std::string clean = R"([1,"nothing here"])";
  EXPECT_FALSE(scrubber.scrub_line(clean));
  EXPECT_EQ(clean, R"([1,"nothing here"])");
  // Reflected whole, JSON-escaped (the quote), or truncated to 63 bytes.
  std::string whole = "[\"x " + std::string(70, 'S') + "\\\"q y\",2]";
  EXPECT_TRUE(scrubber.scrub_line(whole));
  EXPECT_EQ(whole, R"(["x [REDACTED] y",2])");
  std::string truncated = "[\"" + std::string(63, 'S') + "\"]";
  EXPECT_TRUE(scrubber.scrub_line(truncated));
  EXPECT_EQ(truncated, R"(["[REDACTED]"])");
  const ValueScrubber numeric({"12345678"});
  std::string number = "[912345678,\"a\"]";
  EXPECT_TRUE(numeric.scrub_line(number));
  EXPECT_EQ(number, R"(["[REDACTED]","a"])");
  const ValueScrubber tiny({"ab"});
  std::string words = R"(["abc","ab"])";
  EXPECT_TRUE(tiny.scrub_line(words));
  EXPECT_EQ(words, R"(["abc","[REDACTED]"])");
  nlohmann::json result = {{"server", {{"setting", "has 12345678 in it"}}}};
  EXPECT_TRUE(numeric.scrub(result));
  EXPECT_EQ(result["server"]["setting"], "has [REDACTED] in it");
}

}  // namespace
}  // namespace outpost::obs
