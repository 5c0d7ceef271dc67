// The web console's server side (hub-v2 §6): page and assets, sign-in and
// sign-out, session and CSRF checks for the admin API, security headers.
#include "console/console.hpp"

#include "console/assets.hpp"
#include "util.hpp"

namespace outpost::hub::console {

namespace {

constexpr std::string_view kAssetPrefix = "/assets/";
constexpr std::string_view kSessionPath = "/console/session";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

http::Response with_headers(http::Response r, std::string_view cache) {
  add_security_headers(r);
  r.headers.push_back({"Cache-Control", std::string(cache)});
  return r;
}

http::Response error(int status, std::string_view code, std::string_view message) {
  return with_headers(error_response(status, code, message), "no-store");
}

http::Response method_not_allowed(std::string_view method, std::string_view path) {
  return error(405, "method_not_allowed",
               std::string(method) + " is not allowed on " + std::string(path));
}

/// "https://hub.example:8443" → "hub.example:8443"; "" when not scheme://host.
std::string_view origin_host(std::string_view origin) {
  const auto sep = origin.find("://");
  if (sep == std::string_view::npos) return {};
  auto host = origin.substr(sep + 3);
  if (host.find('/') != std::string_view::npos) return {};
  return host;
}

}  // namespace

Console::Console(ConsoleOptions options, std::string admin_hash, bool secure,
                 std::chrono::milliseconds heartbeat_interval, std::shared_ptr<const Clock> clock)
    : options_(std::move(options)),
      admin_hash_(std::move(admin_hash)),
      secure_(secure),
      heartbeat_interval_(heartbeat_interval),
      clock_(clock ? std::move(clock) : std::make_shared<SystemClock>()),
      sessions_(options_.idle_timeout, options_.max_lifetime, options_.max_sessions),
      limiter_(options_.sign_in_failures, options_.sign_in_window) {}

bool Console::serves(std::string_view path) {
  return path == "/" || path == "/index.html" || path.starts_with(kAssetPrefix) ||
         path == kSessionPath;
}

http::Response Console::handle(const http::Request& request) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  const std::string_view m = request.method;
  try {
    if (path == kSessionPath) {
      if (m == "GET") return session_info(request);
      if (m == "POST") return sign_in(request);
      if (m == "DELETE") return sign_out(request);
      return method_not_allowed(m, path);
    }
    if (path == "/" || path == "/index.html") return asset("index.html", m);
    if (path.starts_with(kAssetPrefix)) return asset(path.substr(kAssetPrefix.size()), m);
  } catch (const BadRequest& e) {
    return error(400, e.code, e.message);
  }
  return error(404, "not_found", "no such page: " + std::string(path));
}

http::Response Console::asset(std::string_view path, std::string_view method) {
  const Asset* a = find_asset(path);
  if (a == nullptr) return error(404, "not_found", "no such asset");
  if (method != "GET") return method_not_allowed(method, path);
  http::Response r;
  r.status = 200;
  r.headers.push_back({"Content-Type", std::string(a->content_type)});
  r.body = std::string(a->body);
  // The page itself is never cached (it decides which assets load); assets
  // are revalidated, so a new hub version is picked up at once.
  return with_headers(std::move(r), path == "index.html" ? "no-store" : "no-cache");
}

http::Response Console::session_info(const http::Request& request) {
  const auto id = cookie_value(request, kSessionCookie);
  const auto csrf = sessions_.use(id, clock_->now());
  Json body{{"signed_in", csrf.has_value()}};
  if (csrf) {
    body["csrf_token"] = *csrf;
    body["agent_image"] = options_.agent_image;
    body["heartbeat_interval_ms"] = heartbeat_interval_.count();
    body["idle_timeout_ms"] = options_.idle_timeout.count();
    body["now"] = rfc3339(clock_->now());
  }
  auto r = with_headers(json_reply(200, body), "no-store");
  if (!csrf && !id.empty()) r.headers.push_back({"Set-Cookie", cookie("", true)});
  return r;
}

http::Response Console::sign_in(const http::Request& request) {
  if (!same_origin(request)) {
    return error(403, "forbidden", "sign-in must come from the console's own page");
  }
  const auto now = clock_->now();
  const std::string& address = request.remote_address;
  if (auto wait = limiter_.blocked(address, now)) {
    auto r = error(429, "too_many_attempts", "too many failed sign-ins; try again later");
    r.headers.push_back({"Retry-After", std::to_string((wait->count() + 999) / 1000)});
    return r;
  }
  const Json body = parse_object(request.body);
  const auto token = opt_string(body, "token").value_or("");
  if (token.empty() || !constant_time_equal(sha256(token), admin_hash_)) {
    limiter_.failed(address, now);
    return error(401, "invalid_admin_token", "that is not the hub's admin token");
  }
  limiter_.succeeded(address);
  sessions_.end(cookie_value(request, kSessionCookie));
  const auto created = sessions_.create(now);
  Json info{{"signed_in", true},
            {"csrf_token", created.csrf},
            {"agent_image", options_.agent_image},
            {"heartbeat_interval_ms", heartbeat_interval_.count()},
            {"idle_timeout_ms", options_.idle_timeout.count()},
            {"now", rfc3339(now)}};
  auto r = with_headers(json_reply(200, info), "no-store");
  r.headers.push_back({"Set-Cookie", cookie(created.id, false)});
  return r;
}

http::Response Console::sign_out(const http::Request& request) {
  const auto id = cookie_value(request, kSessionCookie);
  const auto csrf = sessions_.use(id, clock_->now());
  if (csrf &&
      (!same_origin(request) || !csrf_matches(*csrf, request.header(kCsrfHeader).value_or("")))) {
    return error(403, "csrf_failed", "missing or wrong X-CSRF-Token header");
  }
  sessions_.end(id);
  http::Response r;
  r.status = 204;
  r.headers.push_back({"Set-Cookie", cookie("", true)});
  return with_headers(std::move(r), "no-store");
}

Console::Access Console::check_api(const http::Request& request) {
  const auto csrf = sessions_.use(cookie_value(request, kSessionCookie), clock_->now());
  if (!csrf) return Access::kNoSession;
  // Every call made with the cookie carries the token, reads included: the
  // page always sends it, and nothing else should be calling with a cookie.
  if (!same_origin(request) || !csrf_matches(*csrf, request.header(kCsrfHeader).value_or(""))) {
    return Access::kForbidden;
  }
  return Access::kAllowed;
}

std::string Console::cookie(std::string_view value, bool clear) const {
  std::string c(kSessionCookie);
  c.append("=").append(value).append("; Path=/; HttpOnly; SameSite=Strict");
  if (secure_) c.append("; Secure");
  if (clear) c.append("; Max-Age=0");
  return c;
}

std::string_view cookie_value(const http::Request& request, std::string_view name) {
  for (const auto& h : request.headers) {
    if (!http::iequals(h.name, "Cookie")) continue;
    std::string_view rest = h.value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const auto pair = trim(rest.substr(0, semi));
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && trim(pair.substr(0, eq)) == name) {
        return trim(pair.substr(eq + 1));
      }
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return {};
}

bool same_origin(const http::Request& request) {
  // Browsers that send Sec-Fetch-Site say outright where a request comes from.
  if (auto site = request.header("Sec-Fetch-Site")) {
    const auto s = lower(trim(*site));
    if (s != "same-origin" && s != "none") return false;
  }
  const auto origin = request.header("Origin");
  if (!origin) return true;
  const auto host = request.header("Host");
  const auto from = origin_host(trim(*origin));
  return host && !from.empty() && lower(from) == lower(trim(*host));
}

void add_security_headers(http::Response& r) {
  r.headers.push_back({"Content-Security-Policy", "default-src 'self'"});
  r.headers.push_back({"X-Content-Type-Options", "nosniff"});
  r.headers.push_back({"Referrer-Policy", "no-referrer"});
  r.headers.push_back({"X-Frame-Options", "DENY"});
}

}  // namespace outpost::hub::console
