// The console's HTTP side without a socket: pages and their security
// headers, sign-in with cookie attributes, rate limits, session expiry,
// CSRF checks for the admin API, and sign-out.
#include "console/console.hpp"

#include <gtest/gtest.h>

#include "console/assets.hpp"
#include "util.hpp"

namespace outpost::hub::console {
namespace {

using std::chrono::minutes;

std::string header(const http::Response& r, std::string_view name) {
  return std::string(r.header(name).value_or(""));
}

http::Request request(std::string method, std::string target, std::string body = {}) {
  http::Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.remote_address = "127.0.0.1";
  r.headers.push_back({"Host", "127.0.0.1:8443"});
  return r;
}

class ConsoleTest : public ::testing::Test {
 protected:
  ConsoleOptions options() {
    ConsoleOptions o;
    o.sign_in_failures = 3;
    o.agent_image = "registry.example/outpost-agent:1.2";
    return o;
  }
  std::shared_ptr<ManualClock> clock_ = std::make_shared<ManualClock>();
  Console console_{options(), sha256("ADMIN-TOKEN"), false, std::chrono::seconds(10), clock_};

  /// Signs in; returns {cookie value, csrf token}.
  std::pair<std::string, std::string> sign_in() {
    auto r = console_.handle(request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})"));
    EXPECT_EQ(r.status, 200) << r.body;
    const auto cookie = header(r, "Set-Cookie");
    const auto start = cookie.find('=') + 1;
    return {cookie.substr(start, cookie.find(';') - start),
            Json::parse(r.body)["csrf_token"].get<std::string>()};
  }

  http::Request api(std::string method, const std::string& cookie, const std::string& csrf) {
    auto r = request(std::move(method), "/api/v1/admin/tokens");
    r.headers.push_back({"Cookie", "theme=dark; outpost_session=" + cookie});
    if (!csrf.empty()) r.headers.push_back({"X-CSRF-Token", csrf});
    return r;
  }
};

void expect_security_headers(const http::Response& r) {
  EXPECT_EQ(header(r, "Content-Security-Policy"), "default-src 'self'");
  EXPECT_EQ(header(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(r, "X-Frame-Options"), "DENY");
}

TEST_F(ConsoleTest, ServesThePageAndAssetsWithSecurityHeaders) {
  auto page = console_.handle(request("GET", "/"));
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(header(page, "Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("<script type=\"module\" src=\"/assets/app.js\">"), std::string::npos);
  expect_security_headers(page);
  ASSERT_FALSE(assets().empty());
  for (const auto& a : assets()) {
    auto r = console_.handle(request("GET", "/assets/" + std::string(a.path)));
    EXPECT_EQ(r.status, 200) << a.path;
    EXPECT_EQ(r.body, a.body) << a.path;
    EXPECT_EQ(header(r, "Content-Type"), a.content_type) << a.path;
    expect_security_headers(r);
  }
  EXPECT_EQ(header(console_.handle(request("GET", "/assets/app.js")), "Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(console_.handle(request("GET", "/assets/nope.js")).status, 404);
  EXPECT_EQ(console_.handle(request("GET", "/assets/../hub.cpp")).status, 404);
  EXPECT_EQ(console_.handle(request("POST", "/")).status, 405);
  EXPECT_TRUE(Console::serves("/"));
  EXPECT_TRUE(Console::serves("/console/session"));
  EXPECT_FALSE(Console::serves("/api/v1/admin/jobs"));
}

TEST_F(ConsoleTest, PageHasNoInlineScriptOrStyle) {
  for (const auto& a : assets()) {
    if (!a.path.ends_with(".html")) continue;
    EXPECT_EQ(a.body.find("<script>"), std::string_view::npos) << a.path;
    EXPECT_EQ(a.body.find("<style"), std::string_view::npos) << a.path;
    EXPECT_EQ(a.body.find("style="), std::string_view::npos) << a.path;
    // No event-handler attributes (onclick=…, onload=…).
    for (auto at = a.body.find(" on"); at != std::string_view::npos;
         at = a.body.find(" on", at + 1)) {
      auto end = at + 3;
      while (end < a.body.size() && a.body[end] >= 'a' && a.body[end] <= 'z') ++end;
      EXPECT_FALSE(end < a.body.size() && a.body[end] == '=')
          << a.path << ": " << a.body.substr(at, 20);
    }
  }
}

TEST_F(ConsoleTest, ScriptsNeverTurnTextIntoMarkup) {
  // Every value reaches the page as text (dom.js's h() and fill()); none of
  // the DOM calls that parse a string as HTML or code may appear in a script.
  std::size_t scripts = 0;
  for (const auto& a : assets()) {
    if (!a.path.ends_with(".js")) continue;
    ++scripts;
    for (std::string_view sink :
         {"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write",
          "createContextualFragment", "DOMParser", "eval(", "new Function", "setHTMLUnsafe"}) {
      EXPECT_EQ(a.body.find(sink), std::string_view::npos) << a.path << " uses " << sink;
    }
  }
  EXPECT_GE(scripts, 10U);
}

TEST_F(ConsoleTest, SignInSetsAStrictHttpOnlyCookieAndReturnsTheCsrfToken) {
  auto r = console_.handle(request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})"));
  ASSERT_EQ(r.status, 200);
  const auto cookie = header(r, "Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("outpost_session=")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain http on loopback
  const auto body = Json::parse(r.body);
  EXPECT_EQ(body["csrf_token"].get<std::string>().size(), 64u);
  EXPECT_EQ(body["agent_image"], "registry.example/outpost-agent:1.2");
  EXPECT_EQ(body["heartbeat_interval_ms"], 10000);
  // The admin token never comes back.
  EXPECT_EQ(r.body.find("ADMIN-TOKEN"), std::string::npos);
  EXPECT_EQ(cookie.find("ADMIN-TOKEN"), std::string::npos);
  expect_security_headers(r);
  EXPECT_EQ(header(r, "Cache-Control"), "no-store");
}

TEST_F(ConsoleTest, CookieIsSecureUnderTls) {
  Console tls(options(), sha256("ADMIN-TOKEN"), true, std::chrono::seconds(10), clock_);
  auto r = tls.handle(request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})"));
  EXPECT_NE(header(r, "Set-Cookie").find("; Secure"), std::string::npos);
}

TEST_F(ConsoleTest, WrongTokenIsRefusedAndRepeatedFailuresAreRateLimited) {
  for (int i = 0; i < 3; ++i) {
    auto r = console_.handle(request("POST", "/console/session", R"({"token":"guess"})"));
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(Json::parse(r.body)["error"]["code"], "invalid_admin_token");
    EXPECT_FALSE(r.header("Set-Cookie"));
  }
  // Now even the right token waits: the limit is on the address.
  auto r = console_.handle(request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})"));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(header(r, "Retry-After"), "60");
  auto other = request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})");
  other.remote_address = "127.0.0.2";
  EXPECT_EQ(console_.handle(other).status, 200);
  clock_->advance(minutes(1));
  EXPECT_EQ(
      console_.handle(request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})")).status,
      200);
  EXPECT_EQ(console_.handle(request("POST", "/console/session", "not json")).status, 400);
  EXPECT_EQ(console_.handle(request("POST", "/console/session", "{}")).status, 401);
}

TEST_F(ConsoleTest, SignInFromAnotherOriginIsRefused) {
  auto r = request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})");
  r.headers.push_back({"Origin", "https://evil.example"});
  EXPECT_EQ(console_.handle(r).status, 403);
  auto same = request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})");
  same.headers.push_back({"Origin", "http://127.0.0.1:8443"});
  EXPECT_EQ(console_.handle(same).status, 200);
  auto site = request("POST", "/console/session", R"({"token":"ADMIN-TOKEN"})");
  site.headers.push_back({"Sec-Fetch-Site", "cross-site"});
  EXPECT_EQ(console_.handle(site).status, 403);
}

TEST_F(ConsoleTest, AdminApiNeedsTheSessionAndItsCsrfToken) {
  const auto [cookie, csrf] = sign_in();
  EXPECT_EQ(console_.check_api(api("POST", cookie, csrf)), Console::Access::kAllowed);
  EXPECT_EQ(console_.check_api(api("GET", cookie, csrf)), Console::Access::kAllowed);
  EXPECT_EQ(console_.check_api(api("POST", cookie, "")), Console::Access::kForbidden);
  EXPECT_EQ(console_.check_api(api("DELETE", cookie, std::string(64, '0'))),
            Console::Access::kForbidden);
  auto foreign = api("POST", cookie, csrf);
  foreign.headers.push_back({"Origin", "http://attacker.example"});
  EXPECT_EQ(console_.check_api(foreign), Console::Access::kForbidden);
  EXPECT_EQ(console_.check_api(api("POST", "forged", csrf)), Console::Access::kNoSession);
  EXPECT_EQ(console_.check_api(request("GET", "/api/v1/admin/jobs")), Console::Access::kNoSession);
}

TEST_F(ConsoleTest, IdleSessionExpires) {
  const auto [cookie, csrf] = sign_in();
  clock_->advance(minutes(29));
  EXPECT_EQ(console_.check_api(api("GET", cookie, csrf)), Console::Access::kAllowed);
  clock_->advance(minutes(30));
  EXPECT_EQ(console_.check_api(api("GET", cookie, csrf)), Console::Access::kNoSession);
  auto info = request("GET", "/console/session");
  info.headers.push_back({"Cookie", "outpost_session=" + cookie});
  auto r = console_.handle(info);
  EXPECT_EQ(Json::parse(r.body)["signed_in"], false);
  EXPECT_NE(header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
}

TEST_F(ConsoleTest, SessionInfoGivesTheCsrfTokenOnlyToTheSession) {
  const auto [cookie, csrf] = sign_in();
  auto mine = request("GET", "/console/session");
  mine.headers.push_back({"Cookie", "outpost_session=" + cookie});
  EXPECT_EQ(Json::parse(console_.handle(mine).body)["csrf_token"], csrf);
  auto none = console_.handle(request("GET", "/console/session"));
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(none.body, R"({"signed_in":false})");
}

TEST_F(ConsoleTest, SignOutNeedsCsrfAndEndsTheSession) {
  const auto [cookie, csrf] = sign_in();
  auto forged = request("DELETE", "/console/session");
  forged.headers.push_back({"Cookie", "outpost_session=" + cookie});
  EXPECT_EQ(console_.handle(forged).status, 403);
  EXPECT_EQ(console_.check_api(api("GET", cookie, csrf)), Console::Access::kAllowed);
  auto out = forged;
  out.headers.push_back({"X-CSRF-Token", csrf});
  auto r = console_.handle(out);
  EXPECT_EQ(r.status, 204);
  EXPECT_NE(header(r, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(console_.check_api(api("GET", cookie, csrf)), Console::Access::kNoSession);
}

TEST(CookieValue, FindsTheNamedCookieAmongOthers) {
  http::Request r;
  r.headers.push_back({"Cookie", "a=1; outpost_session=abc ;b=2"});
  EXPECT_EQ(cookie_value(r, "outpost_session"), "abc");
  EXPECT_EQ(cookie_value(r, "b"), "2");
  EXPECT_EQ(cookie_value(r, "outpost"), "");
  http::Request none;
  EXPECT_EQ(cookie_value(none, "outpost_session"), "");
}

}  // namespace
}  // namespace outpost::hub::console
