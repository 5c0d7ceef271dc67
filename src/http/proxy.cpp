#include "http/proxy.hpp"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "common/text.hpp"

namespace outpost::http {
namespace {

using common::ascii_lower;

std::string env_value(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v != nullptr && *v != '\0') return v;
  if (const char* v = std::getenv(upper); v != nullptr && *v != '\0') return v;
  return {};
}

/// An IP address in network byte order: 4 bytes (IPv4) or 16 (IPv6).
struct IpAddress {
  std::array<unsigned char, 16> bytes{};
  std::size_t size = 0;
};

std::optional<IpAddress> parse_ip(const std::string& text) {
  IpAddress ip;
  if (::inet_pton(AF_INET, text.c_str(), ip.bytes.data()) == 1) {
    ip.size = 4;
    return ip;
  }
  if (::inet_pton(AF_INET6, text.c_str(), ip.bytes.data()) == 1) {
    ip.size = 16;
    return ip;
  }
  return std::nullopt;
}

bool prefix_equal(const IpAddress& a, const IpAddress& b, std::size_t bits) {
  if (a.size != b.size || bits > a.size * 8) return false;
  const std::size_t whole = bits / 8;
  if (std::memcmp(a.bytes.data(), b.bytes.data(), whole) != 0) return false;
  const std::size_t rest = bits % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (a.bytes[whole] & mask) == (b.bytes[whole] & mask);
}

std::string strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string out = ascii_lower(host);
  if (!out.empty() && out.back() == '.') out.pop_back();  // FQDN form "example.com."
  return out;
}

// One NO_PROXY entry split into its pattern and optional port.
struct Entry {
  std::string pattern;
  std::optional<std::uint16_t> port;
};

std::optional<Entry> split_entry(std::string_view raw) {
  Entry entry;
  std::string_view port_text;
  if (!raw.empty() && raw.front() == '[') {
    const auto close = raw.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    entry.pattern = std::string(raw.substr(1, close - 1));
    const auto rest = raw.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') port_text = rest.substr(1);
    // "[fd00::]/8" keeps its prefix length.
    if (!rest.empty() && rest.front() == '/') entry.pattern += std::string(rest);
  } else if (std::count(raw.begin(), raw.end(), ':') == 1) {
    const auto colon = raw.find(':');
    entry.pattern = std::string(raw.substr(0, colon));
    port_text = raw.substr(colon + 1);
  } else {
    entry.pattern = std::string(raw);  // a name, an IPv4 literal or an IPv6 literal/CIDR
  }
  if (!port_text.empty()) {
    const long port = std::strtol(std::string(port_text).c_str(), nullptr, 10);
    if (port <= 0 || port > 65535) return std::nullopt;
    entry.port = static_cast<std::uint16_t>(port);
  }
  entry.pattern = ascii_lower(entry.pattern);
  if (!entry.pattern.empty() && entry.pattern.back() == '.') entry.pattern.pop_back();
  return entry;
}

bool entry_matches(const Entry& entry, const std::string& host,
                   const std::optional<IpAddress>& host_ip) {
  const std::string& p = entry.pattern;
  if (p == "*") return true;
  if (const auto slash = p.find('/'); slash != std::string::npos) {
    if (!host_ip) return false;
    const auto network = parse_ip(p.substr(0, slash));
    const std::string bits_text = p.substr(slash + 1);
    if (!network || bits_text.empty() ||
        !std::all_of(bits_text.begin(), bits_text.end(),
                     [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return false;
    }
    return prefix_equal(*host_ip, *network, std::stoul(bits_text));
  }
  if (const auto ip = parse_ip(p)) {
    return host_ip && prefix_equal(*host_ip, *ip, ip->size * 8);
  }
  if (host_ip) return false;  // a domain pattern never matches an IP literal
  std::string_view domain = p;
  if (domain.rfind("*.", 0) == 0) domain.remove_prefix(2);
  if (!domain.empty() && domain.front() == '.') domain.remove_prefix(1);
  if (domain.empty()) return false;
  if (host == domain) return true;
  return host.size() > domain.size() &&
         host.compare(host.size() - domain.size(), domain.size(), domain) == 0 &&
         host[host.size() - domain.size() - 1] == '.';
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// User info in a URL may be percent-encoded ("p%40ss" for "p@ss").
std::string percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      const int hi = hex_digit(text[i + 1]);
      const int lo = hex_digit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace

std::string basic_proxy_authorization(const Url& proxy) {
  if (proxy.userinfo.empty()) return {};
  const std::string plain = percent_decode(proxy.userinfo);
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

ProxyEnvironment ProxyEnvironment::from_process() {
  ProxyEnvironment env;
  env.https_proxy = env_value("https_proxy", "HTTPS_PROXY");
  env.http_proxy = env_value("http_proxy", "HTTP_PROXY");
  env.no_proxy = env_value("no_proxy", "NO_PROXY");
  return env;
}

bool no_proxy_matches(std::string_view no_proxy, std::string_view host, std::uint16_t port) {
  const std::string normalized_host = strip_brackets(host);
  const auto host_ip = parse_ip(normalized_host);
  std::size_t pos = 0;
  while (pos < no_proxy.size()) {
    const auto end = no_proxy.find_first_of(", \t\r\n", pos);
    const auto raw = no_proxy.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? no_proxy.size() : end + 1;
    if (raw.empty()) continue;
    const auto entry = split_entry(raw);
    if (!entry) continue;  // malformed entries are ignored, like curl does
    if (entry->port && *entry->port != port) continue;
    if (entry_matches(*entry, normalized_host, host_ip)) return true;
  }
  return false;
}

ProxyChoice select_proxy(const Url& target, std::string_view explicit_proxy,
                         const ProxyEnvironment& env) {
  ProxyChoice choice;
  std::string_view text;
  if (!explicit_proxy.empty()) {
    text = explicit_proxy;
    choice.source = "--proxy";
  } else if (target.is_https() && !env.https_proxy.empty()) {
    text = env.https_proxy;
    choice.source = "HTTPS_PROXY";
  } else if (!target.is_https() && !env.http_proxy.empty()) {
    text = env.http_proxy;
    choice.source = "HTTP_PROXY";
  } else {
    return choice;
  }
  if (no_proxy_matches(env.no_proxy, target.host, target.port)) {
    choice.bypassed = true;
    return choice;
  }
  // Tools commonly accept "proxy.corp:3128" without a scheme.
  std::string with_scheme(text);
  if (with_scheme.find("://") == std::string::npos) with_scheme = "http://" + with_scheme;
  std::string error;
  auto url = parse_url(with_scheme, &error);
  if (!url) {
    choice.error = "invalid proxy URL from " + choice.source + ": " + error;
    return choice;
  }
  if (url->is_https()) {
    choice.error = "proxy from " + choice.source +
                   " uses https://, but only http:// proxies are supported (the CONNECT "
                   "tunnel carries TLS to the control plane end to end)";
    return choice;
  }
  if (!url->path.empty()) {
    choice.error = "proxy URL from " + choice.source + " must not have a path";
    return choice;
  }
  choice.proxy = std::move(*url);
  return choice;
}

}  // namespace outpost::http
