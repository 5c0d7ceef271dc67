#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/network_guard.hpp"
#include "security/allowlist.hpp"

namespace outpost::security {

/// The --allow-hosts egress policy (docs/security.md, "Egress allowlist").
///
/// Entries (grammar in allowlist.hpp): host names, `*.suffix` patterns, IP
/// addresses and CIDR blocks, each optionally limited to a port or port
/// range (`db.internal:5432`, `10.0.0.0/8:5432-5439`, `[fd00::/8]:5432`);
/// `unix:/path` socket directories or files; `dsn:NAME` ODBC data sources.
/// An entry without a port allows every port. An empty list means no
/// restriction.
///
/// Decision for a data-source host and port:
///  - a numeric host (any form getaddrinfo reads numerically: `127.1`,
///    `2130706433`, `::ffff:a.b.c.d`, `fe80::1%eth0`) is normalised to the
///    address libc would dial and allowed when that address, with the port,
///    is inside an address/CIDR entry; names never match a numeric host;
///  - a name is allowed when it matches a name or `*.suffix` entry whose
///    ports include the port (the operator vouches for that name and its
///    DNS), whatever it resolves to;
///  - any other name is resolved and allowed only when EVERY address it
///    resolves to is inside an address/CIDR entry whose ports include the
///    port; one address outside makes the whole host egress_denied. Without
///    address/CIDR entries such a name is denied without a DNS query, so a
///    job cannot even leak data through DNS look-ups.
/// IPv6 addresses that carry an IPv4 destination: IPv4-mapped ones are
/// judged as the IPv4 address (the kernel sends IPv4); IPv4-compatible,
/// SIIT, NAT64 (64:ff9b::/96), 6to4 and Teredo ones pass only when both the
/// IPv6 address and the embedded IPv4 address are allowed. Connectors dial
/// only the addresses resolve() returns, which are exactly the ones checked.
///
/// Thread safety: immutable after construction; const members may be called
/// from any thread (resolve() blocks in getaddrinfo(); check_local_socket()
/// reads the file system; call them on a worker).
class EgressGuard final : public outpost::NetworkGuard {
 public:
  /// Throws std::invalid_argument naming the first entry that does not
  /// parse (allowlist.hpp). Blank entries are ignored.
  explicit EgressGuard(const std::vector<std::string>& allow_hosts);

  /// getaddrinfo() (numeric hosts without DNS), then the decision above.
  /// Errors: egress_denied naming the host, port and forbidden address;
  /// invalid_job for an empty host; unreachable when the name does not
  /// resolve (retryable on EAI_AGAIN).
  [[nodiscard]] outpost::ResolvedHost resolve(std::string_view host,
                                              std::uint16_t port) const override;

  /// Under an allowlist, a Unix-domain socket (directory or file) is allowed
  /// only when its canonical path (realpath of the existing part, so `..`
  /// and symbolic links are resolved) equals the canonical path of a
  /// `unix:` entry, or is a socket file directly inside a listed directory.
  /// Abstract sockets (`@name`) match `unix:@name` exactly. Without an
  /// allowlist, any socket is allowed.
  [[nodiscard]] std::optional<outpost::JobError> check_local_socket(
      std::string_view path) const override;
  /// Under an allowlist, an ODBC DSN is allowed only when listed as
  /// `dsn:NAME` (compared case-insensitively, as ODBC does).
  [[nodiscard]] std::optional<outpost::JobError> check_dsn(std::string_view name) const override;

  /// The decision above for already-resolved numeric `addresses` of `host`
  /// (no I/O): what resolve() applies after getaddrinfo(). A numeric host is
  /// judged itself as well as every address given.
  [[nodiscard]] outpost::ResolvedHost check(std::string_view host, std::uint16_t port,
                                            std::vector<std::string> addresses) const;

  /// Whether the name matches a name or `*.suffix` entry for `port` (false
  /// for numeric hosts).
  [[nodiscard]] bool allows_name(std::string_view host, std::uint16_t port) const;
  /// Whether a numeric address (text) with `port` is allowed by the
  /// address/CIDR entries; false if not numeric.
  [[nodiscard]] bool allows_address(std::string_view address, std::uint16_t port) const;
  /// True when the list was empty: everything is allowed.
  [[nodiscard]] bool unrestricted() const noexcept { return unrestricted_; }

 private:
  struct NameRule {
    std::string name;  ///< lower case; for suffixes ".corp.example"
    PortRange ports;
  };
  struct BlockRule {
    IpBlock block;
    PortRange ports;
  };

  /// allows_name() for a name normalize_host() already produced: normalising
  /// twice would strip a second trailing dot ("db.corp.." → "db.corp"), so a
  /// name the resolver never sees as listed would pass.
  [[nodiscard]] bool name_allowed(const std::string& name, std::uint16_t port) const;
  [[nodiscard]] bool in_blocks(const IpBlock& address, std::uint16_t port) const;
  [[nodiscard]] bool judge(const IpBlock& address, std::uint16_t port) const;
  [[nodiscard]] outpost::ResolvedHost decide(const std::string& name, std::uint16_t port,
                                             std::vector<std::string> addresses,
                                             bool numeric) const;
  [[nodiscard]] bool listed_ignoring_port(const std::string& name, bool numeric,
                                          const std::vector<std::string>& addresses) const;

  bool unrestricted_ = true;
  std::vector<NameRule> names_;
  std::vector<NameRule> suffixes_;
  std::vector<BlockRule> blocks_;
  std::vector<std::string> sockets_;  ///< as written (lexically normal); canonicalised per check
  std::vector<std::string> dsns_;     ///< lower case
};

}  // namespace outpost::security
