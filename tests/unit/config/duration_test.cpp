#include "config/duration.hpp"

#include <gtest/gtest.h>

#include "config/size.hpp"

namespace outpost::config {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds ok(std::string_view text) {
  std::string error;
  const auto value = parse_duration(text, &error);
  EXPECT_TRUE(value.has_value()) << text << ": " << error;
  return value.value_or(-1ns);
}

std::string bad(std::string_view text) {
  std::string error;
  const auto value = parse_duration(text, &error);
  EXPECT_FALSE(value.has_value()) << text;
  EXPECT_FALSE(error.empty()) << text;
  return error;
}

TEST(Duration, EveryUnit) {
  EXPECT_EQ(ok("7ns"), 7ns);
  EXPECT_EQ(ok("7us"), 7us);
  EXPECT_EQ(ok("7\xC2\xB5s"), 7us);  // micro sign
  EXPECT_EQ(ok("7\xCE\xBCs"), 7us);  // Greek mu
  EXPECT_EQ(ok("150ms"), 150ms);
  EXPECT_EQ(ok("10s"), 10s);
  EXPECT_EQ(ok("1m"), 1min);
  EXPECT_EQ(ok("2h"), 2h);
}

TEST(Duration, CompoundAndFractional) {
  EXPECT_EQ(ok("1m30s"), 90s);
  EXPECT_EQ(ok("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
  EXPECT_EQ(ok("1.5s"), 1500ms);
  EXPECT_EQ(ok("0.5h"), 30min);
  EXPECT_EQ(ok(".25s"), 250ms);
  EXPECT_EQ(ok("1s500ms"), 1500ms);
}

TEST(Duration, ZeroForms) {
  EXPECT_EQ(ok("0"), 0ns);
  EXPECT_EQ(ok("0s"), 0ns);
  EXPECT_EQ(ok("0ms"), 0ns);
}

TEST(Duration, BareNumberIsAnErrorWithAHint) {
  const std::string error = bad("30");
  EXPECT_NE(error.find("no unit"), std::string::npos) << error;
  EXPECT_NE(error.find("30s"), std::string::npos) << error;
  EXPECT_NE(error.find("30ms"), std::string::npos) << error;
}

TEST(Duration, Rejections) {
  EXPECT_NE(bad("").find("empty"), std::string::npos);
  EXPECT_NE(bad("-5s").find("negative"), std::string::npos);
  EXPECT_NE(bad("10x").find("unknown unit"), std::string::npos);
  EXPECT_NE(bad("10 s").find("unknown unit"), std::string::npos);
  EXPECT_NE(bad("s").find("expected a number"), std::string::npos);
  EXPECT_NE(bad("1m30").find("no unit"), std::string::npos);
  EXPECT_NE(bad("1.s.").find("invalid duration"), std::string::npos);
  EXPECT_NE(bad("10S").find("unknown unit"), std::string::npos);
  EXPECT_NE(bad("99999999999h").find("too large"), std::string::npos);
  EXPECT_NE(bad("99999999999999999999999s").find("too large"), std::string::npos);
}

TEST(Duration, FormatsExactly) {
  EXPECT_EQ(format_duration(0ns), "0s");
  EXPECT_EQ(format_duration(150ms), "150ms");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(1h + 1500ms), "1h1500ms");
  EXPECT_EQ(format_duration(7us), "7us");
  EXPECT_EQ(format_duration(7ns), "7ns");
  for (const auto text : {"1m30s", "150ms", "2h", "45s", "1h5m"}) {
    EXPECT_EQ(format_duration(ok(text)), text);
  }
}

std::uint64_t size_ok(std::string_view text) {
  std::string error;
  const auto value = parse_size(text, &error);
  EXPECT_TRUE(value.has_value()) << text << ": " << error;
  return value.value_or(0);
}

TEST(Size, UnitsBinaryAndDecimal) {
  EXPECT_EQ(size_ok("1024"), 1024u);
  EXPECT_EQ(size_ok("100B"), 100u);
  EXPECT_EQ(size_ok("1KiB"), 1024u);
  EXPECT_EQ(size_ok("1kb"), 1000u);
  EXPECT_EQ(size_ok("1KB"), 1000u);
  EXPECT_EQ(size_ok("256MiB"), 256u * 1024 * 1024);
  EXPECT_EQ(size_ok("10MB"), 10'000'000u);
  EXPECT_EQ(size_ok("2GiB"), 2ull * 1024 * 1024 * 1024);
  EXPECT_EQ(size_ok("1GB"), 1'000'000'000u);
  EXPECT_EQ(size_ok("1TiB"), 1ull << 40);
  EXPECT_EQ(size_ok("64k"), 65536u);
  EXPECT_EQ(size_ok("1.5MiB"), 1572864u);
}

TEST(Size, Rejections) {
  std::string error;
  EXPECT_FALSE(parse_size("-1MiB", &error));
  EXPECT_NE(error.find("negative"), std::string::npos);
  EXPECT_FALSE(parse_size("10XB", &error));
  EXPECT_NE(error.find("unknown unit"), std::string::npos);
  EXPECT_FALSE(parse_size("MiB", &error));
  EXPECT_FALSE(parse_size("", &error));
  EXPECT_FALSE(parse_size("99999999TiB", &error));
  EXPECT_NE(error.find("too large"), std::string::npos);
}

TEST(Size, Formats) {
  EXPECT_EQ(format_size(256u * 1024 * 1024), "256MiB");
  EXPECT_EQ(format_size(1000), "1000B");
  EXPECT_EQ(format_size(0), "0B");
  EXPECT_EQ(format_size(3072), "3KiB");
}

}  // namespace
}  // namespace outpost::config
