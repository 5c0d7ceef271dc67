#include "http/proxy.hpp"

#include <gtest/gtest.h>

namespace outpost::http {
namespace {

Url target(std::string_view text) {
  return parse_url(text).value();
}

TEST(NoProxy, EmptyMatchesNothing) {
  EXPECT_FALSE(no_proxy_matches("", "example.com", 443));
  EXPECT_FALSE(no_proxy_matches(" , ,", "example.com", 443));
}

TEST(NoProxy, StarMatchesEverything) {
  EXPECT_TRUE(no_proxy_matches("*", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("foo, *", "10.1.2.3", 443));
}

TEST(NoProxy, ExactHost) {
  EXPECT_TRUE(no_proxy_matches("api.example.com", "api.example.com", 443));
  EXPECT_TRUE(no_proxy_matches("API.Example.com", "api.example.COM", 443));
  EXPECT_TRUE(no_proxy_matches("api.example.com.", "api.example.com", 443));
  EXPECT_FALSE(no_proxy_matches("api.example.com", "example.com", 443));
}

TEST(NoProxy, DomainSuffixWithAndWithoutDot) {
  for (const char* entry : {"example.com", ".example.com", "*.example.com"}) {
    EXPECT_TRUE(no_proxy_matches(entry, "example.com", 443)) << entry;
    EXPECT_TRUE(no_proxy_matches(entry, "api.example.com", 443)) << entry;
    EXPECT_TRUE(no_proxy_matches(entry, "a.b.example.com", 443)) << entry;
    EXPECT_FALSE(no_proxy_matches(entry, "badexample.com", 443)) << entry;
    EXPECT_FALSE(no_proxy_matches(entry, "example.com.evil.net", 443)) << entry;
  }
}

TEST(NoProxy, ListSeparators) {
  const char* list = "localhost, .internal,10.0.0.0/8 \t svc.cluster.local";
  EXPECT_TRUE(no_proxy_matches(list, "localhost", 80));
  EXPECT_TRUE(no_proxy_matches(list, "db.internal", 80));
  EXPECT_TRUE(no_proxy_matches(list, "10.9.8.7", 80));
  EXPECT_TRUE(no_proxy_matches(list, "api.svc.cluster.local", 80));
  EXPECT_FALSE(no_proxy_matches(list, "example.com", 80));
}

TEST(NoProxy, Ipv4LiteralsAndCidr) {
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "127.0.0.2", 80));
  EXPECT_TRUE(no_proxy_matches("192.168.0.0/16", "192.168.44.1", 80));
  EXPECT_FALSE(no_proxy_matches("192.168.0.0/16", "192.169.0.1", 80));
  EXPECT_TRUE(no_proxy_matches("10.1.2.3/32", "10.1.2.3", 80));
  EXPECT_TRUE(no_proxy_matches("0.0.0.0/0", "8.8.8.8", 80));
  EXPECT_TRUE(no_proxy_matches("172.16.0.0/12", "172.31.255.255", 80));
  EXPECT_FALSE(no_proxy_matches("172.16.0.0/12", "172.32.0.0", 80));
}

TEST(NoProxy, Ipv6LiteralsAndCidr) {
  EXPECT_TRUE(no_proxy_matches("::1", "::1", 80));
  EXPECT_TRUE(no_proxy_matches("::1", "[::1]", 80));
  EXPECT_TRUE(no_proxy_matches("[::1]", "::1", 80));
  EXPECT_TRUE(no_proxy_matches("0:0::1", "::1", 80));  // compared as addresses, not text
  EXPECT_TRUE(no_proxy_matches("fd00::/8", "fd12:3456::1", 80));
  EXPECT_FALSE(no_proxy_matches("fd00::/8", "fe80::1", 80));
  EXPECT_TRUE(no_proxy_matches("[fd00::]/8", "fd00::5", 80));
}

TEST(NoProxy, CidrNeverMatchesNamesAndDomainsNeverMatchIps) {
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "ten.example.com", 80));
  EXPECT_FALSE(no_proxy_matches("0.0.1", "10.0.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/8", "::ffff:11.0.0.1", 80));
}

TEST(NoProxy, MalformedEntriesAreIgnored) {
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/abc", "10.0.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("10.0.0.0/99", "10.0.0.1", 80));
  EXPECT_FALSE(no_proxy_matches("[::1", "::1", 80));
  EXPECT_FALSE(no_proxy_matches(".", "example.com", 80));
  EXPECT_TRUE(no_proxy_matches("10.0.0.0/abc, example.com", "example.com", 80));
}

TEST(NoProxy, PortQualifiedEntries) {
  EXPECT_TRUE(no_proxy_matches("example.com:8443", "example.com", 8443));
  EXPECT_FALSE(no_proxy_matches("example.com:8443", "example.com", 443));
  EXPECT_TRUE(no_proxy_matches("[::1]:8080", "::1", 8080));
  EXPECT_FALSE(no_proxy_matches("[::1]:8080", "::1", 8081));
}

TEST(SelectProxy, DirectWhenNothingConfigured) {
  const auto choice = select_proxy(target("https://cp.example.com/api"), "", {});
  EXPECT_TRUE(choice.ok());
  EXPECT_FALSE(choice.proxy.has_value());
  EXPECT_FALSE(choice.bypassed);
  EXPECT_EQ(choice.source, "");
}

TEST(SelectProxy, ExplicitWinsOverEnvironment) {
  ProxyEnvironment env;
  env.https_proxy = "http://env-proxy:3128";
  const auto choice =
      select_proxy(target("https://cp.example.com/api"), "http://cli-proxy:8080", env);
  ASSERT_TRUE(choice.proxy.has_value());
  EXPECT_EQ(choice.proxy->host, "cli-proxy");
  EXPECT_EQ(choice.proxy->port, 8080);
  EXPECT_EQ(choice.source, "--proxy");
}

TEST(SelectProxy, HttpsProxyForHttpsTargets) {
  ProxyEnvironment env;
  env.https_proxy = "http://secure-proxy:3128";
  env.http_proxy = "http://plain-proxy:3128";
  auto choice = select_proxy(target("https://cp.example.com/api"), "", env);
  ASSERT_TRUE(choice.proxy.has_value());
  EXPECT_EQ(choice.proxy->host, "secure-proxy");
  EXPECT_EQ(choice.source, "HTTPS_PROXY");

  choice = select_proxy(target("http://cp.example.com/api"), "", env);
  ASSERT_TRUE(choice.proxy.has_value());
  EXPECT_EQ(choice.proxy->host, "plain-proxy");
  EXPECT_EQ(choice.source, "HTTP_PROXY");
}

TEST(SelectProxy, HttpProxyIsNotUsedForHttpsTargets) {
  ProxyEnvironment env;
  env.http_proxy = "http://plain-proxy:3128";
  EXPECT_FALSE(select_proxy(target("https://cp.example.com"), "", env).proxy.has_value());
}

TEST(SelectProxy, NoProxyBypassesEnvironmentAndExplicitProxies) {
  ProxyEnvironment env;
  env.https_proxy = "http://env-proxy:3128";
  env.no_proxy = ".example.com";
  auto choice = select_proxy(target("https://cp.example.com/api"), "", env);
  EXPECT_FALSE(choice.proxy.has_value());
  EXPECT_TRUE(choice.bypassed);
  choice = select_proxy(target("https://cp.example.com/api"), "http://cli:1", env);
  EXPECT_FALSE(choice.proxy.has_value());
  EXPECT_TRUE(choice.bypassed);
  choice = select_proxy(target("https://cp.other.org/api"), "", env);
  EXPECT_TRUE(choice.proxy.has_value());
}

TEST(SelectProxy, SchemelessProxyMeansHttp) {
  ProxyEnvironment env;
  env.https_proxy = "proxy.corp:3128";
  const auto choice = select_proxy(target("https://cp.example.com"), "", env);
  ASSERT_TRUE(choice.proxy.has_value());
  EXPECT_EQ(choice.proxy->scheme, "http");
  EXPECT_EQ(choice.proxy->port, 3128);
}

TEST(SelectProxy, UserInfoIsKeptForBasicAuthButNotInErrors) {
  ProxyEnvironment env;
  env.https_proxy = "http://bob:hunter2@proxy.corp:3128/";
  auto choice = select_proxy(target("https://cp.example.com"), "", env);
  ASSERT_TRUE(choice.proxy.has_value());
  EXPECT_EQ(choice.proxy->userinfo, "bob:hunter2");
  EXPECT_EQ(choice.proxy->path, "");

  choice = select_proxy(target("https://cp.example.com"), "http://bob:hunter2@proxy:0", {});
  EXPECT_FALSE(choice.ok());
  EXPECT_EQ(choice.error.find("hunter2"), std::string::npos) << choice.error;
  EXPECT_NE(choice.error.find("--proxy"), std::string::npos) << choice.error;
}

TEST(SelectProxy, RejectsHttpsProxiesAndPaths) {
  auto choice = select_proxy(target("https://cp.example.com"), "https://proxy:443", {});
  EXPECT_FALSE(choice.ok());
  EXPECT_NE(choice.error.find("only http:// proxies"), std::string::npos);
  choice = select_proxy(target("https://cp.example.com"), "http://proxy:3128/path", {});
  EXPECT_FALSE(choice.ok());
  EXPECT_NE(choice.error.find("path"), std::string::npos);
  choice = select_proxy(target("https://cp.example.com"), "socks5://proxy:1080", {});
  EXPECT_FALSE(choice.ok());
  EXPECT_NE(choice.error.find("socks5"), std::string::npos);
}

TEST(BasicProxyAuthorization, EncodesDecodedUserInfo) {
  EXPECT_EQ(basic_proxy_authorization(target("http://proxy:3128")), "");
  // RFC 7617 example: "Aladdin:open sesame".
  EXPECT_EQ(basic_proxy_authorization(target("http://Aladdin:open%20sesame@proxy:3128")),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(basic_proxy_authorization(target("http://a:p%40ss%3A@proxy:1")),
            "Basic YTpwQHNzOg==");  // "a:p@ss:"
  EXPECT_EQ(basic_proxy_authorization(target("http://a:100%zz@proxy:1")),
            "Basic YToxMDAleno=");  // a malformed escape is kept literally
}

}  // namespace
}  // namespace outpost::http
