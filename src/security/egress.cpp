#include "security/egress.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "common/text.hpp"

namespace outpost::security {
namespace {

// Spaces and tabs only, as config validation trims entries.
std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

// "[::1]" -> "::1"; "db.corp." -> "db.corp"; lower case.
std::string normalize_host(std::string_view host) {
  std::string out = common::ascii_lower(trim(host));
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']')
    out = out.substr(1, out.size() - 2);
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

// "db:5432", "[::1]:5432": how an endpoint is named in messages.
std::string endpoint(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool printable(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) > 0x20 && c != 0x7f; });
}

outpost::JobError denied(std::string message) {
  return {outpost::ErrorCode::kEgressDenied, std::move(message), false};
}

struct AddrinfoDeleter {
  void operator()(addrinfo* ai) const { ::freeaddrinfo(ai); }
};

struct Lookup {
  std::vector<std::string> addresses;
  int rc = 0;
};

// getaddrinfo() into numeric address texts (with the zone id of a scoped
// IPv6 address, so it can be dialled), deduplicated, in resolver order.
Lookup lookup(const std::string& host, bool numeric_only) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
  addrinfo* raw = nullptr;
  Lookup result;
  result.rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &raw);
  if (result.rc != 0) return result;
  std::unique_ptr<addrinfo, AddrinfoDeleter> list(raw);
  for (const addrinfo* ai = list.get(); ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    char text[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) !=
        0) {
      continue;
    }
    if (std::find(result.addresses.begin(), result.addresses.end(), text) ==
        result.addresses.end()) {
      result.addresses.emplace_back(text);
    }
  }
  return result;
}

// realpath() of the part that exists, lexical for the rest; "" on error.
std::string canonical_path(const std::string& path) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) return {};
  std::string text = canonical.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

}  // namespace

EgressGuard::EgressGuard(const std::vector<std::string>& allow_hosts) {
  for (const auto& raw : allow_hosts) {
    const std::string text = trim(raw);
    if (text.empty()) continue;
    unrestricted_ = false;
    AllowEntry entry;
    try {
      entry = parse_allow_entry(text);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--allow-hosts entry '" + text + "' " + e.what());
    }
    switch (entry.kind) {
      case AllowEntry::Kind::kName: names_.push_back({std::move(entry.value), entry.ports}); break;
      case AllowEntry::Kind::kSuffix:
        suffixes_.push_back({std::move(entry.value), entry.ports});
        break;
      case AllowEntry::Kind::kBlock: blocks_.push_back({entry.block, entry.ports}); break;
      case AllowEntry::Kind::kSocket: sockets_.push_back(std::move(entry.value)); break;
      case AllowEntry::Kind::kDsn: dsns_.push_back(std::move(entry.value)); break;
    }
  }
}

bool EgressGuard::in_blocks(const IpBlock& address, std::uint16_t port) const {
  return std::any_of(blocks_.begin(), blocks_.end(), [&](const BlockRule& rule) {
    return rule.ports.contains(port) && block_contains(rule.block, address);
  });
}

bool EgressGuard::judge(const IpBlock& address, std::uint16_t port) const {
  const auto v4 = embedded_ipv4(address);
  // A mapped address is sent as IPv4 by the kernel.
  if (v4 && is_v4_mapped(address)) return judge(*v4, port);
  // Linux delivers a connect() to the unspecified address (0.0.0.0, ::) to
  // the local host: it passes only where loopback would too.
  const std::size_t size = address.v4 ? 4 : 16;
  if (std::all_of(address.bytes.begin(), address.bytes.begin() + static_cast<std::ptrdiff_t>(size),
                  [](std::uint8_t b) { return b == 0; })) {
    IpBlock loopback = address;
    if (address.v4) {
      loopback.bytes[0] = 127;
      loopback.bytes[3] = 1;
    } else {
      loopback.bytes[15] = 1;
    }
    if (!in_blocks(loopback, port)) return false;
  }
  if (!v4) return in_blocks(address, port);
  // The other forms reach an IPv4 host through a translator or tunnel:
  // both the IPv6 and the IPv4 address must be allowed, the IPv4 one by every
  // rule an IPv4 destination meets (0.0.0.0 only where loopback passes too).
  return in_blocks(address, port) && judge(*v4, port);
}

bool EgressGuard::allows_address(std::string_view address, std::uint16_t port) const {
  const auto block = parse_numeric_host(address);
  if (!block) return false;
  return unrestricted_ || judge(*block, port);
}

bool EgressGuard::allows_name(std::string_view host, std::uint16_t port) const {
  return name_allowed(normalize_host(host), port);
}

bool EgressGuard::name_allowed(const std::string& name, std::uint16_t port) const {
  if (unrestricted_) return true;
  if (name.empty() || parse_numeric_host(name)) return false;
  const bool exact = std::any_of(names_.begin(), names_.end(), [&](const NameRule& rule) {
    return rule.ports.contains(port) && rule.name == name;
  });
  return exact || std::any_of(suffixes_.begin(), suffixes_.end(), [&](const NameRule& rule) {
           return rule.ports.contains(port) && name.size() > rule.name.size() &&
                  name.ends_with(rule.name);
         });
}

bool EgressGuard::listed_ignoring_port(const std::string& name, bool numeric,
                                       const std::vector<std::string>& addresses) const {
  if (!numeric) {
    for (const auto& rule : names_) {
      if (rule.name == name) return true;
    }
    for (const auto& rule : suffixes_) {
      if (name.size() > rule.name.size() && name.ends_with(rule.name)) return true;
    }
  }
  if (addresses.empty()) return false;
  return std::all_of(addresses.begin(), addresses.end(), [&](const std::string& text) {
    const auto block = parse_numeric_host(text);
    return block && std::any_of(blocks_.begin(), blocks_.end(), [&](const BlockRule& rule) {
             return judge(*block, rule.ports.first);
           });
  });
}

outpost::ResolvedHost EgressGuard::check(std::string_view host, std::uint16_t port,
                                         std::vector<std::string> addresses) const {
  const std::string name = normalize_host(host);
  return decide(name, port, std::move(addresses), parse_numeric_host(name).has_value());
}

outpost::ResolvedHost EgressGuard::decide(const std::string& name, std::uint16_t port,
                                          std::vector<std::string> addresses, bool numeric) const {
  if (unrestricted_) return {std::move(addresses), std::nullopt};
  if (!numeric && name_allowed(name, port)) return {std::move(addresses), std::nullopt};
  const auto refuse = [&](const std::string& shown, const std::string& why) {
    std::string message = "egress to " + shown + " is not allowed by --allow-hosts";
    if (listed_ignoring_port(name, numeric, addresses)) {
      message += ": port " + std::to_string(port) + " is outside the ports listed for it";
    } else {
      message += why;
    }
    return outpost::ResolvedHost{{}, denied(std::move(message))};
  };
  if (addresses.empty()) return refuse(endpoint(name, port), "");
  if (numeric) {
    // The host itself, normalised as libc reads it, as well as what it became.
    const auto self = parse_numeric_host(name);
    if (self && !judge(*self, port)) {
      const std::string canonical = address_text(*self);
      return refuse(
          canonical == name ? endpoint(name, port) : endpoint(name, port) + " (" + canonical + ")",
          "");
    }
  }
  for (const auto& address : addresses) {
    if (!allows_address(address, port)) {
      if (numeric) return refuse(endpoint(name, port) + " (" + address + ")", "");
      // Say why a name fails when one of several addresses is fine.
      return refuse(endpoint(name, port) + " (" + address + ")",
                    ": every address a name resolves to must be inside an allowed block, "
                    "unless the name itself is listed");
    }
  }
  return {std::move(addresses), std::nullopt};
}

outpost::ResolvedHost EgressGuard::resolve(std::string_view host, std::uint16_t port) const {
  const std::string name = normalize_host(host);
  if (name.empty()) {
    return {{}, outpost::JobError{outpost::ErrorCode::kInvalidJob, "no host given", false}};
  }
  if (!printable(name)) {
    // getaddrinfo would look up a prefix of it (up to a NUL) or a name no
    // entry could list: never what was checked.
    return {{},
            outpost::JobError{outpost::ErrorCode::kInvalidJob,
                              "host name has spaces or control characters", false}};
  }
  // Numeric first, so an address in any form libc reads (127.1, 2130706433,
  // fe80::1%eth0) never goes to DNS and is judged as the address dialled.
  const bool numeric = parse_numeric_host(name).has_value();
  Lookup found = lookup(name, true);
  if (found.rc == 0) return decide(name, port, std::move(found.addresses), true);
  if (numeric) {
    return {
        {},
        outpost::JobError{outpost::ErrorCode::kInvalidJob,
                          "host " + name + " is not a usable address (unknown zone id?)", false}};
  }
  // When no address entry covers this port, nothing the name resolves to
  // could pass: deny without a DNS query (a job cannot leak through DNS).
  const bool block_for_port =
      std::any_of(blocks_.begin(), blocks_.end(),
                  [&](const BlockRule& rule) { return rule.ports.contains(port); });
  if (!unrestricted_ && !name_allowed(name, port) && !block_for_port) {
    return decide(name, port, {}, false);
  }
  found = lookup(name, false);
  if (found.rc != 0 || found.addresses.empty()) {
    const std::string why = found.rc != 0 ? ::gai_strerror(found.rc) : "no addresses";
    return {{},
            outpost::JobError{outpost::ErrorCode::kUnreachable,
                              "cannot resolve host " + name + ": " + why, found.rc == EAI_AGAIN}};
  }
  return decide(name, port, std::move(found.addresses), false);
}

std::optional<outpost::JobError> EgressGuard::check_local_socket(std::string_view path) const {
  if (unrestricted_) return std::nullopt;
  const std::string shown(path);
  const auto refuse = [&](const std::string& why) {
    return denied("local socket " + shown + " is not allowed by --allow-hosts" + why);
  };
  if (path.empty() || path.find('\0') != std::string_view::npos) return refuse("");
  if (path.front() == '@') {
    if (std::find(sockets_.begin(), sockets_.end(), shown) != sockets_.end()) return std::nullopt;
    return refuse(": list it as unix:" + shown + " to allow it");
  }
  if (path.front() != '/') return refuse(": a socket path must be absolute");
  const std::string canonical = canonical_path(shown);
  if (canonical.empty()) return refuse("");
  // A socket file directly inside a listed directory (MySQL's socket=) is
  // covered by it; a directory (PostgreSQL's host=) must be listed itself.
  std::error_code ec;
  const std::string parent = std::filesystem::is_directory(canonical, ec)
                                 ? std::string()
                                 : std::filesystem::path(canonical).parent_path().string();
  for (const auto& entry : sockets_) {
    if (entry.front() != '/') continue;
    const std::string listed = canonical_path(entry);
    if (!listed.empty() && (listed == canonical || (!parent.empty() && listed == parent)))
      return std::nullopt;
  }
  return refuse(canonical == shown ? ": list it as unix:" + shown + " to allow it"
                                   : " (" + canonical + "): list it as unix:PATH to allow it");
}

std::optional<outpost::JobError> EgressGuard::check_dsn(std::string_view name) const {
  if (unrestricted_) return std::nullopt;
  if (std::find(dsns_.begin(), dsns_.end(), common::ascii_lower(name)) != dsns_.end())
    return std::nullopt;
  return denied("ODBC data source name '" + std::string(name) +
                "' is not allowed: its host cannot be checked against --allow-hosts; list it as "
                "dsn:NAME to allow it");
}

}  // namespace outpost::security
