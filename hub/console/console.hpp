#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "clock.hpp"
#include "console/session.hpp"
#include "console/sign_in_limiter.hpp"
#include "http/message.hpp"

namespace outpost::hub::console {

struct ConsoleOptions {
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(30)};  ///< --console-idle-timeout
  std::chrono::milliseconds max_lifetime{std::chrono::hours(12)};
  std::size_t max_sessions = 1000;
  int sign_in_failures = 10;  ///< failed sign-ins per address per window
  std::chrono::milliseconds sign_in_window{std::chrono::minutes(1)};
  /// The image in the `docker run` line shown with a new token (--console-agent-image).
  std::string agent_image = "outpost-agent:0.1.0";
};

/// Cookie and header names shared with the page (assets/api.js).
inline constexpr std::string_view kSessionCookie = "outpost_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

/// The console's server side: serves the page and its assets with the
/// security headers, signs in and out, and decides whether a request to the
/// admin API made with a session cookie (instead of a Bearer token) may
/// pass. Knows nothing of the store. Thread safe.
class Console {
 public:
  /// `admin_hash`: SHA-256 of the hub's admin token. `secure`: the hub
  /// serves TLS, so the cookie gets `Secure`. `heartbeat_interval`: what
  /// the page needs to tell an online agent from an offline one.
  Console(ConsoleOptions options, std::string admin_hash, bool secure,
          std::chrono::milliseconds heartbeat_interval, std::shared_ptr<const Clock> clock);

  /// Whether the console answers `path`: "/", "/index.html", "/assets/…", "/console/…".
  static bool serves(std::string_view path);

  /// Answers a request for a path serves() accepts.
  http::Response handle(const http::Request& request);

  enum class Access {
    kNoSession,  ///< no cookie, or an unknown or expired session: 401
    kAllowed,    ///< live session and the right CSRF token
    kForbidden,  ///< live session, CSRF token missing or wrong, or a foreign Origin: 403
  };
  /// For /api/v1/admin/* requests without `Authorization: Bearer`.
  Access check_api(const http::Request& request);

  [[nodiscard]] SessionStore& sessions() noexcept { return sessions_; }

 private:
  http::Response session_info(const http::Request& request);
  http::Response sign_in(const http::Request& request);
  http::Response sign_out(const http::Request& request);
  http::Response asset(std::string_view path, std::string_view method);
  std::string cookie(std::string_view value, bool clear) const;

  ConsoleOptions options_;
  std::string admin_hash_;
  bool secure_;
  std::chrono::milliseconds heartbeat_interval_;
  std::shared_ptr<const Clock> clock_;
  SessionStore sessions_;
  SignInLimiter limiter_;
};

/// The value of cookie `name` in a request's Cookie headers, or "".
std::string_view cookie_value(const http::Request& request, std::string_view name);

/// Whether a state-changing request comes from this hub's own pages: no
/// Origin header (same-origin fetches of older browsers, non-browser
/// clients), or one whose host:port equals the Host header.
bool same_origin(const http::Request& request);

/// The headers every console response carries (CSP, nosniff, no referrer, no framing).
void add_security_headers(http::Response& response);

}  // namespace outpost::hub::console
