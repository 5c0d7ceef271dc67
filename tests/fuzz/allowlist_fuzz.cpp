// Fuzzes the --allow-hosts grammar and the guard's pure decision path (no
// DNS). Input: line 1 is an allow list (comma-separated), line 2 a host,
// line 3 a port, further lines candidate addresses. Invariants:
//  - config validation and EgressGuard accept exactly the same lists;
//  - what the guard lets through is exactly what it was given, and every
//    address in it is allowed (or the name itself is listed); a refusal
//    returns no address;
//  - an allowed address that embeds an IPv4 destination has that IPv4
//    address allowed too;
//  - a numeric host is read as getaddrinfo(AI_NUMERICHOST) reads it, so no
//    inet_aton form can slip past a CIDR check.
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/validation.hpp"
#include "security/allowlist.hpp"
#include "security/egress.hpp"

namespace {

using outpost::security::EgressGuard;

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// Aborts (a libFuzzer finding) naming the invariant's line.
#define require(ok)                                                                             \
  do {                                                                                          \
    if (!(ok)) {                                                                                \
      std::fprintf(stderr, "allowlist_fuzz: invariant failed at line %d: %s\n", __LINE__, #ok); \
      std::abort();                                                                             \
    }                                                                                           \
  } while (false)

// getaddrinfo(AI_NUMERICHOST) never queries DNS: the reference for what
// libc (and so every driver) would dial for a numeric host.
void same_as_libc(const std::string& host) {
  // IPv6 text is inet_pton's on both sides (glibc even turns a mapped
  // address into IPv4 under AF_INET); the inet_aton forms are the risk.
  if (host.empty() || host.size() > 64 || host.find('\0') != std::string::npos ||
      host.find(':') != std::string::npos) {
    return;
  }
  const auto mine = outpost::security::parse_numeric_host(host);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc == 0) {
    // libc reads it as IPv4: so must the guard, to the same 4 bytes.
    const auto* sin = reinterpret_cast<const sockaddr_in*>(res->ai_addr);
    require(mine.has_value() && mine->v4);
    require(std::memcmp(&sin->sin_addr, mine->bytes.data(), 4) == 0);
    ::freeaddrinfo(res);
  } else {
    // The guard must not see an address where libc would ask DNS.
    require(!(mine && mine->v4 && host.front() != '['));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto lines = split(text, '\n');
  const std::string& list = lines[0];
  const std::string host = lines.size() > 1 ? lines[1] : std::string();
  std::uint16_t port = 5432;
  if (lines.size() > 2) {
    unsigned value = 0;
    for (char c : lines[2].substr(0, 5)) {
      value = value * 10 + (c >= '0' && c <= '9' ? static_cast<unsigned>(c - '0') : 0U);
    }
    port = static_cast<std::uint16_t>(value % 65536);
  }
  const std::vector<std::string> addresses(lines.begin() + std::min<std::size_t>(3, lines.size()),
                                           lines.end());

  bool config_ok = true;
  std::vector<std::string> entries;
  try {
    entries = outpost::config::parse_allow_hosts({list, "--allow-hosts"});
  } catch (const std::exception&) {
    config_ok = false;
  }
  std::unique_ptr<EgressGuard> guard;
  try {
    guard = std::make_unique<EgressGuard>(config_ok ? entries : split(list, ','));
  } catch (const std::invalid_argument&) {
  }
  require(config_ok == (guard != nullptr));  // one grammar, one verdict

  same_as_libc(host);
  if (!guard) return 0;

  const auto result = guard->check(host, port, addresses);
  if (guard->unrestricted()) {
    require(!result.error && result.addresses == addresses);
  } else if (result.error) {
    require(result.addresses.empty());
    require(result.error->code == outpost::ErrorCode::kEgressDenied);
  } else {
    require(result.addresses == addresses);
    const bool name_listed = guard->allows_name(host, port);
    for (const auto& a : result.addresses) require(name_listed || guard->allows_address(a, port));
    if (const auto self = outpost::security::parse_numeric_host(host)) {
      require(!name_listed);
      require(guard->allows_address(outpost::security::address_text(*self), port));
    }
  }
  for (const auto& a : addresses) {
    const auto block = outpost::security::parse_numeric_host(a);
    if (!guard->allows_address(a, port)) continue;
    require(block.has_value());
    if (!guard->unrestricted()) {
      if (const auto v4 = outpost::security::embedded_ipv4(*block)) {
        require(guard->allows_address(outpost::security::address_text(*v4), port));
      }
    }
  }
  // A numeric host never reaches DNS, so resolve() is safe to call here.
  if (outpost::security::parse_numeric_host(host)) {
    const auto resolved = guard->resolve(host, port);
    if (resolved.error) require(resolved.addresses.empty());
    if (!guard->unrestricted()) {
      for (const auto& a : resolved.addresses) require(guard->allows_address(a, port));
    }
  }
  (void)guard->check_dsn(host);
  if (!host.empty() && host.front() == '@') (void)guard->check_local_socket(host);
  return 0;
}
