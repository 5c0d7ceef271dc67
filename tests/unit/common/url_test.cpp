#include "common/url.hpp"

#include <gtest/gtest.h>

namespace outpost::common {
namespace {

Url must_parse(std::string_view text) {
  std::string error;
  auto url = parse_url(text, &error);
  EXPECT_TRUE(url.has_value()) << text << ": " << error;
  return url.value_or(Url{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_url(text, &error).has_value()) << text;
  return error;
}

TEST(ParseUrl, HttpsWithPathAndDefaultPort) {
  const Url url = must_parse("https://tenant.example.com/api");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "tenant.example.com");
  EXPECT_EQ(url.port, 443);
  EXPECT_EQ(url.path, "/api");
  EXPECT_TRUE(url.userinfo.empty());
  EXPECT_TRUE(url.is_https());
}

TEST(ParseUrl, HttpDefaultPortAndExplicitPort) {
  EXPECT_EQ(must_parse("http://h").port, 80);
  EXPECT_EQ(must_parse("http://h:8080/api").port, 8080);
  EXPECT_EQ(must_parse("https://h:65535").port, 65535);
}

TEST(ParseUrl, TrailingSlashesAreDropped) {
  EXPECT_EQ(must_parse("https://h/api/").path, "/api");
  EXPECT_EQ(must_parse("https://h/api//").path, "/api");
  EXPECT_EQ(must_parse("https://h/").path, "");
  EXPECT_EQ(must_parse("https://h").path, "");
  EXPECT_EQ(must_parse("https://h/a/b").path, "/a/b");
}

TEST(ParseUrl, SchemeAndHostAreCaseInsensitive) {
  const Url url = must_parse("HTTPS://Tenant.Example.COM/Api");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "tenant.example.com");
  EXPECT_EQ(url.path, "/Api");  // paths are case-sensitive
}

TEST(ParseUrl, Ipv6InBrackets) {
  const Url url = must_parse("https://[::1]:8443/api");
  EXPECT_EQ(url.host, "::1");
  EXPECT_EQ(url.port, 8443);
  EXPECT_EQ(url.path, "/api");
  EXPECT_EQ(must_parse("http://[fd00::1]").port, 80);
}

TEST(ParseUrl, UserInfo) {
  const Url url = must_parse("http://alice:s%40cret@proxy.corp:3128");
  EXPECT_EQ(url.userinfo, "alice:s%40cret");
  EXPECT_EQ(url.host, "proxy.corp");
  EXPECT_EQ(url.port, 3128);
  EXPECT_EQ(url.redacted().find("alice"), std::string::npos);
  EXPECT_EQ(url.redacted().find("cret"), std::string::npos);
}

TEST(ParseUrl, RedactedFormat) {
  EXPECT_EQ(must_parse("https://u:p@h.example/api").redacted(), "https://h.example:443/api");
  EXPECT_EQ(must_parse("http://[::1]:81").redacted(), "http://[::1]:81");
}

TEST(ParseUrl, RejectsOtherSchemes) {
  EXPECT_NE(parse_error("ftp://h/x").find("the scheme 'ftp' is not supported; use https://"),
            std::string::npos);
  EXPECT_NE(parse_error("h.example.com/api").find("not an absolute URL; write it as https://"),
            std::string::npos);
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
}

TEST(ParseUrl, RejectsBadPorts) {
  const std::string range = "is not a number from 1 to 65535";
  EXPECT_NE(parse_error("https://h:0").find("port '0' " + range), std::string::npos);
  EXPECT_NE(parse_error("https://h:65536").find("port '65536' " + range), std::string::npos);
  EXPECT_NE(parse_error("https://h:12ab").find(range), std::string::npos);
  EXPECT_NE(parse_error("https://h:-1").find(range), std::string::npos);
  EXPECT_NE(parse_error("https://h:").find("port is missing"), std::string::npos);
  EXPECT_NE(parse_error("https://[::1]:").find("port is missing"), std::string::npos);
  EXPECT_NE(parse_error("https://h:99999999999999999999").find(range), std::string::npos);
}

TEST(ParseUrl, RejectsBadHosts) {
  EXPECT_NE(parse_error("https:///api").find("host name is missing"), std::string::npos);
  EXPECT_NE(parse_error("https://::1/api").find("brackets"), std::string::npos);
  EXPECT_NE(parse_error("https://[::1/api").find("missing its closing ']'"), std::string::npos);
  EXPECT_NE(parse_error("https://[::1]x/api").find("after the IPv6 address"), std::string::npos);
  EXPECT_NE(parse_error("https://[nope]/api").find("IPv6"), std::string::npos);
  EXPECT_NE(parse_error("https://ho$t/api").find("'ho$t' is not a valid host name"),
            std::string::npos);
  EXPECT_NE(parse_error("https://a..b/api").find("not a valid host name"), std::string::npos);
  EXPECT_NE(parse_error("https://" + std::string(64, 'a') + ".example/api").find("host name"),
            std::string::npos);
  EXPECT_NE(parse_error("https://h st/api").find("white space"), std::string::npos);
  EXPECT_NE(parse_error("https://h\xc3\xa9/api").find("non-ASCII"), std::string::npos);
}

TEST(ParseUrl, AcceptsUnderscoresAndIpLiterals) {
  EXPECT_EQ(must_parse("https://db_1.corp.internal/api").host, "db_1.corp.internal");
  EXPECT_EQ(must_parse("http://10.0.0.1:8080").host, "10.0.0.1");
  EXPECT_EQ(must_parse("http://[FD00::1]").host, "fd00::1");  // lower case, no brackets
}

TEST(ParseUrl, RejectsQueryAndFragment) {
  EXPECT_NE(parse_error("https://h/api?x=1").find("query"), std::string::npos);
  EXPECT_NE(parse_error("https://h/api#top").find("fragment"), std::string::npos);
  EXPECT_NE(parse_error("https://h?x=1").find("query"), std::string::npos);
}

TEST(RedactUserinfo, HidesCredentialsEvenWhenUnparsable) {
  EXPECT_EQ(redact_userinfo("http://alice:hunter2@proxy:3128"), "http://***@proxy:3128");
  EXPECT_EQ(redact_userinfo("http://alice:hunter2@pro$xy:99999/p"), "http://***@pro$xy:99999/p");
  EXPECT_EQ(redact_userinfo("https://h/a@b"), "https://h/a@b");  // '@' in the path is no user
  EXPECT_EQ(redact_userinfo("no scheme"), "no scheme");
}

TEST(ParseUrl, ErrorsNeverEchoCredentials) {
  std::string error;
  EXPECT_FALSE(parse_url("http://alice:hunter2@proxy:99999", &error));
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
  EXPECT_FALSE(parse_url("http://alice:hunter2@pro$xy:1", &error));
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

TEST(ParseUrl, NullErrorPointerIsFine) {
  EXPECT_FALSE(parse_url("gopher://x").has_value());
}

TEST(IsLoopbackHost, Loopbacks) {
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_TRUE(is_loopback_host("LOCALHOST"));
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("127.255.3.4"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("[::1]"));
  EXPECT_TRUE(is_loopback_host("::ffff:127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("localhost."));
}

TEST(IsLoopbackHost, NotLoopbacks) {
  EXPECT_FALSE(is_loopback_host("128.0.0.1"));
  EXPECT_FALSE(is_loopback_host("10.0.0.1"));
  EXPECT_FALSE(is_loopback_host("::2"));
  EXPECT_FALSE(is_loopback_host("localhost.example.com"));
  EXPECT_FALSE(is_loopback_host("127.0.0.1.nip.io"));
  EXPECT_FALSE(is_loopback_host(""));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  // DNS, not the agent, decides where other *.localhost names go.
  EXPECT_FALSE(is_loopback_host("api.localhost"));
}

TEST(IsHostName, Labels) {
  EXPECT_TRUE(is_host_name("a"));
  EXPECT_TRUE(is_host_name("a-b.c_d.example"));
  EXPECT_TRUE(is_host_name(std::string(63, 'a') + ".b"));
  EXPECT_FALSE(is_host_name(std::string(64, 'a') + ".b"));
  EXPECT_FALSE(is_host_name(""));
  EXPECT_FALSE(is_host_name("a..b"));
  EXPECT_FALSE(is_host_name(".a"));
  EXPECT_FALSE(is_host_name("a b"));
}

}  // namespace
}  // namespace outpost::common
