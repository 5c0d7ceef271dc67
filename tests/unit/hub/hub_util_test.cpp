// Pure helpers of the hub and the HTTP message layer: no sockets, no files.
#include "util.hpp"

#include <gtest/gtest.h>

#include "http/message.hpp"
#include "http/server.hpp"

namespace outpost::hub {
namespace {

TEST(HubUtilTest, Rfc3339IsUtcWithMilliseconds) {
  const SystemTime t{std::chrono::milliseconds(1'795'000'000'123)};
  EXPECT_EQ(rfc3339(t), "2026-11-18T11:06:40.123Z");
}

TEST(HubUtilTest, RandomHexHasTheRequestedLengthAndDiffers) {
  const auto a = random_hex(16);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(a, random_hex(16));
}

TEST(HubUtilTest, Sha256AndConstantTimeEqual) {
  const auto h = sha256("abc");
  ASSERT_EQ(h.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(h[0]), 0xbau);  // ba7816bf…
  EXPECT_TRUE(constant_time_equal(h, sha256("abc")));
  EXPECT_FALSE(constant_time_equal(h, sha256("abd")));
  EXPECT_FALSE(constant_time_equal("short", "longer"));
}

TEST(HubUtilTest, BearerTokenParsing) {
  http::Request r;
  EXPECT_FALSE(bearer_token(r));
  r.headers.push_back({"authorization", "bearer  tok-1 "});
  ASSERT_TRUE(bearer_token(r));
  EXPECT_EQ(*bearer_token(r), "tok-1");
  r.headers[0].value = "Basic dXNlcjpwYXNz";
  EXPECT_FALSE(bearer_token(r));
  r.headers[0].value = "Bearer ";
  EXPECT_FALSE(bearer_token(r));
}

TEST(HubUtilTest, FieldParsersNameTheFieldOnBadInput) {
  EXPECT_THROW(parse_object("{"), BadRequest);
  EXPECT_THROW(parse_object("[]"), BadRequest);
  const Json j = parse_object(R"({"n": 5, "s": "x", "o": {}, "bad": "5", "neg": -1})");
  EXPECT_EQ(opt_int(j, "n", 1, 10), 5);
  EXPECT_FALSE(opt_int(j, "missing", 1, 10));
  try {
    (void)opt_int(j, "bad", 1, 10);
    FAIL();
  } catch (const BadRequest& e) {
    EXPECT_NE(e.message.find("'bad'"), std::string::npos);
  }
  EXPECT_THROW((void)opt_int(j, "neg", 0, 10), BadRequest);
  EXPECT_EQ(req_string(j, "s"), "x");
  EXPECT_THROW((void)req_string(j, "n"), BadRequest);
  EXPECT_THROW((void)req_string(j, "missing"), BadRequest);
  EXPECT_TRUE(opt_object(j, "o"));
  EXPECT_THROW((void)opt_object(j, "s"), BadRequest);
}

TEST(HttpMessageTest, GzipRoundTripAndLimits) {
  const std::string text(100'000, 'a');
  const auto packed = http::gzip(text);
  EXPECT_LT(packed.size(), 1000u);
  auto out = http::gunzip(packed, text.size());
  ASSERT_TRUE(out.data);
  EXPECT_EQ(*out.data, text);
  auto bomb = http::gunzip(packed, 1000);
  EXPECT_FALSE(bomb.data);
  EXPECT_TRUE(bomb.too_large);
  auto junk = http::gunzip("definitely not gzip", 1000);
  EXPECT_FALSE(junk.data);
  EXPECT_FALSE(junk.too_large);
  auto truncated = http::gunzip(packed.substr(0, packed.size() / 2), text.size());
  EXPECT_FALSE(truncated.data);
}

TEST(HttpMessageTest, HeaderLookupIsCaseInsensitive) {
  http::Response r;
  r.headers.push_back({"Content-Type", "application/json"});
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_FALSE(r.header("content-length"));
  EXPECT_TRUE(http::iequals("X-Lease-Token", "x-lease-token"));
  EXPECT_FALSE(http::iequals("X-Lease-Token", "x-lease-tokens"));
}

TEST(HttpMessageTest, JsonErrorBodyEscapes) {
  EXPECT_EQ(http::json_error_body("bad_request", "a \"quoted\"\nline\\"),
            R"({"error":{"code":"bad_request","message":"a \"quoted\"\nline\\"}})");
  EXPECT_EQ(Json::parse(http::json_error_body("c", std::string("\x01", 1)))["error"]["message"],
            "\x01");
}

TEST(HttpMessageTest, ResponderIsCalledOnceAndWrapsPlainCallables) {
  int calls = 0;
  http::Responder respond = [&calls](http::Response) { ++calls; };
  respond(http::Response{});
  respond(http::Response{});
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(respond.peer_gone());
}

}  // namespace
}  // namespace outpost::hub
