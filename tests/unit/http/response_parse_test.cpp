// http::parse_response: the client's response handling on bytes in memory
// (the seam tests/fuzz/http_response fuzzes).
#include <gtest/gtest.h>

#include <string>

#include "http/client.hpp"

namespace outpost::http {
namespace {

constexpr std::size_t kLimit = 1024 * 1024;

TEST(ParseResponse, ContentLengthBodyAndHeaders) {
  auto out = parse_response(
      "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 5\r\nContent-Length: 2\r\n\r\n{}", kLimit);
  ASSERT_TRUE(out.ok()) << out.error;
  EXPECT_EQ(out.response->status, 429);
  EXPECT_EQ(out.response->body, "{}");
  EXPECT_EQ(out.response->header("retry-after"), "5");
}

TEST(ParseResponse, ChunkedAndBodyToEndOfStream) {
  auto chunked = parse_response(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
      kLimit);
  ASSERT_TRUE(chunked.ok()) << chunked.error;
  EXPECT_EQ(chunked.response->body, "abcde");
  auto to_eof = parse_response("HTTP/1.0 200 OK\r\n\r\nall of it", kLimit);
  ASSERT_TRUE(to_eof.ok()) << to_eof.error;
  EXPECT_EQ(to_eof.response->body, "all of it");
}

TEST(ParseResponse, NoContentAndHead) {
  auto no_content = parse_response("HTTP/1.1 204 No Content\r\n\r\n", kLimit);
  ASSERT_TRUE(no_content.ok()) << no_content.error;
  EXPECT_EQ(no_content.response->status, 204);
  auto head = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", kLimit, true);
  ASSERT_TRUE(head.ok()) << head.error;
  EXPECT_TRUE(head.response->body.empty());
}

TEST(ParseResponse, TruncatedOrEmptyIsAFailure) {
  auto short_body = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}", kLimit);
  EXPECT_FALSE(short_body.ok());
  EXPECT_EQ(short_body.failure, FailureKind::kProtocol) << short_body.error;
  auto nothing = parse_response("", kLimit);
  EXPECT_EQ(nothing.failure, FailureKind::kIo) << nothing.error;
  auto half_header = parse_response("HTTP/1.1 200 OK\r\nContent-", kLimit);
  EXPECT_FALSE(half_header.ok());
}

TEST(ParseResponse, NotHttpIsAProtocolFailure) {
  auto out = parse_response("SSH-2.0-OpenSSH_9.2\r\n\r\n", kLimit);
  EXPECT_EQ(out.failure, FailureKind::kProtocol) << out.error;
  EXPECT_NE(out.error.find("invalid HTTP response"), std::string::npos) << out.error;
}

TEST(ParseResponse, LimitsOnBodyAndHeader) {
  auto body = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 10);
  EXPECT_EQ(body.failure, FailureKind::kTooLarge) << body.error;
  // The client's header limit is 64 KiB.
  const std::string big =
      "HTTP/1.1 200 OK\r\nX-Padding: " + std::string(70 * 1024, 'a') + "\r\n\r\n";
  auto header = parse_response(big, kLimit);
  EXPECT_EQ(header.failure, FailureKind::kTooLarge) << header.error;
}

TEST(ParseResponse, GzipIsDecodedWithinTheLimit) {
  const std::string plain(5000, 'x');
  const std::string z = gzip(plain);
  const std::string raw =
      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " + std::to_string(z.size()) +
      "\r\n\r\n" + z;
  auto out = parse_response(raw, kLimit);
  ASSERT_TRUE(out.ok()) << out.error;
  EXPECT_EQ(out.response->body, plain);
  EXPECT_EQ(parse_response(raw, 1000).failure, FailureKind::kTooLarge);
  auto br = parse_response(
      "HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc", kLimit);
  EXPECT_EQ(br.failure, FailureKind::kProtocol) << br.error;
}

}  // namespace
}  // namespace outpost::http
