// gzip() and gunzip(): libdeflate's one-call path and zlib's streaming path
// must agree on every input, and zlib stays the judge of anything unusual.
#include <zlib.h>

#include <cstdint>
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "http/message.hpp"

namespace outpost::http {
namespace {

// NDJSON rows like a result part's, large enough to span many deflate blocks.
std::string ndjson_rows(int rows) {
  std::string text;
  std::mt19937 rng(7);
  for (int i = 0; i < rows; ++i) {
    text += "[" + std::to_string(i) + ", \"" + std::to_string(rng()) + "\", \"" +
            std::to_string(rng() % 100000) + ".37\", \"2026-01-01T00:00:00Z\"]\n";
  }
  return text;
}

// zlib's own compressor, with the wrapper selected by window_bits
// (15 + 16: gzip; 15: zlib).
std::string zlib_compress(const std::string& data, int window_bits) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

TEST(GzipTest, ALargePartRoundTripsAndShrinks) {
  const std::string text = ndjson_rows(60000);
  const std::string packed = gzip(text);
  EXPECT_LT(packed.size(), text.size() / 2);
  ASSERT_GE(packed.size(), 18u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  const auto out = gunzip(packed, text.size());
  ASSERT_TRUE(out.data) << out.error;
  EXPECT_EQ(*out.data, text);
}

TEST(GzipTest, AnEmptyBodyRoundTrips) {
  const auto out = gunzip(gzip(""), 0);
  ASSERT_TRUE(out.data) << out.error;
  EXPECT_EQ(*out.data, "");
}

TEST(GzipTest, ZlibsGzipAndZlibStreamsAreAccepted) {
  const std::string text = ndjson_rows(2000);
  for (const int bits : {15 + 16, 15}) {
    const auto out = gunzip(zlib_compress(text, bits), text.size());
    ASSERT_TRUE(out.data) << "window bits " << bits << ": " << out.error;
    EXPECT_EQ(*out.data, text);
  }
}

TEST(GzipTest, BytesAfterTheFirstMemberAreIgnoredAsBefore) {
  // zlib stops at the end of the first member; the one-call path must not
  // change that verdict (the trailer it reads is then not the member's).
  const std::string first = ndjson_rows(500);
  const std::string packed = gzip(first) + gzip("second member\n");
  const auto out = gunzip(packed, first.size() + 100);
  ASSERT_TRUE(out.data) << out.error;
  EXPECT_EQ(*out.data, first);
}

TEST(GzipTest, OutputPastTheLimitIsTooLargeEvenWhenTheTrailerLies) {
  const std::string text = ndjson_rows(20000);
  std::string packed = gzip(text);
  auto bomb = gunzip(packed, text.size() - 1);
  EXPECT_FALSE(bomb.data);
  EXPECT_TRUE(bomb.too_large);
  // ISIZE rewritten to 16: the one-call path runs out of room, zlib decides.
  packed[packed.size() - 4] = 16;
  for (std::size_t i = packed.size() - 3; i < packed.size(); ++i) packed[i] = 0;
  auto lying = gunzip(packed, 1000);
  EXPECT_FALSE(lying.data);
  EXPECT_TRUE(lying.too_large);
  auto lying_within = gunzip(packed, text.size());
  EXPECT_FALSE(lying_within.data);  // the length check fails
  EXPECT_FALSE(lying_within.too_large);
  EXPECT_NE(lying_within.error, "");
}

TEST(GzipTest, CorruptOrTruncatedDataIsAnErrorWithAReason) {
  const std::string text = ndjson_rows(3000);
  std::string packed = gzip(text);
  const auto truncated = gunzip(packed.substr(0, packed.size() / 2), text.size());
  EXPECT_FALSE(truncated.data);
  EXPECT_EQ(truncated.error, "truncated gzip data");
  packed[packed.size() / 2] = static_cast<char>(packed[packed.size() / 2] ^ 0x55);
  const auto corrupt = gunzip(packed, text.size());
  EXPECT_FALSE(corrupt.data);
  EXPECT_FALSE(corrupt.too_large);
  EXPECT_NE(corrupt.error, "");
  const auto junk = gunzip("\x1f\x8b not really gzip at all, just text", 1000);
  EXPECT_FALSE(junk.data);
  EXPECT_NE(junk.error, "");
}

}  // namespace
}  // namespace outpost::http
