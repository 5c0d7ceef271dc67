#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/url.hpp"

namespace outpost::http {

/// The proxy-related environment variables, captured once so that proxy
/// selection is a pure function (and testable without touching the environment).
struct ProxyEnvironment {
  std::string https_proxy;  ///< https_proxy, else HTTPS_PROXY
  std::string http_proxy;   ///< http_proxy, else HTTP_PROXY
  std::string no_proxy;     ///< no_proxy, else NO_PROXY

  /// Reads the variables from this process's environment (lower case wins,
  /// as in curl and most tools).
  static ProxyEnvironment from_process();
};

/// What select_proxy() decided.
struct ProxyChoice {
  std::optional<Url> proxy;  ///< nullopt = connect directly
  std::string source;        ///< "--proxy", "HTTPS_PROXY", "HTTP_PROXY", or "" when direct
  bool bypassed = false;     ///< a proxy was configured but NO_PROXY matched the target
  std::string error;         ///< non-empty when the chosen proxy URL is invalid

  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Chooses the proxy for `target`: an explicit `explicit_proxy` (--proxy) wins,
/// else HTTPS_PROXY for https targets / HTTP_PROXY for http targets. NO_PROXY
/// applies to whichever proxy was chosen (as in curl), so an operator can
/// exempt internal hosts without dropping --proxy. A proxy URL without a scheme
/// ("proxy.corp:3128") means http://. Only http:// proxies are supported (the
/// tunnel to an https control plane is TLS end to end anyway). Errors never
/// contain the proxy's user info.
[[nodiscard]] ProxyChoice select_proxy(const Url& target, std::string_view explicit_proxy,
                                       const ProxyEnvironment& env);

/// True when `host` (a name or an IP literal, IPv6 with or without brackets)
/// on `port` is exempt from proxying according to a NO_PROXY value: a comma or
/// white-space separated list of `*` (everything), exact host names, domain
/// suffixes (`example.com` and `.example.com` both match example.com and every
/// name below it; `*.example.com` likewise), IP literals and CIDR blocks
/// (`10.0.0.0/8`, `fd00::/8`, matched only against IP-literal hosts: no DNS
/// lookup happens here). An entry may end in `:port` to match that port only.
[[nodiscard]] bool no_proxy_matches(std::string_view no_proxy, std::string_view host,
                                    std::uint16_t port);

/// The Proxy-Authorization value for a proxy URL's user info ("Basic " +
/// base64 of the percent-decoded "user:password"), or "" when it has none.
/// The result is a credential: send it to the proxy only, never log it.
[[nodiscard]] std::string basic_proxy_authorization(const Url& proxy);

}  // namespace outpost::http
