#include "observability/redaction.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace outpost::obs
