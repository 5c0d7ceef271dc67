#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/network_guard.hpp"

namespace outpost::security {

/// The --allow-hosts egress policy (docs/security.md, "Egress allowlist").
///
/// Entries: host names (exact, case-insensitive, a trailing dot ignored),
/// `*.suffix` patterns (any name with at least one more label: `*.corp.example`
/// matches `db.corp.example` and `a.b.corp.example`, not `corp.example`), CIDR
/// blocks (`10.0.0.0/8`, `fd00::/8`; host bits are ignored) and bare addresses
/// (`192.0.2.7`, `2001:db8::1`, `[::1]`). An empty list means no restriction.
///
/// Decision for a data-source host:
///  - a numeric host is allowed when its address is inside a CIDR entry (names
///    never match a numeric host);
///  - a name is allowed when it matches a name or `*.suffix` entry (the
///    operator vouches for that name and its DNS), whatever it resolves to;
///  - any other name is resolved and allowed only when EVERY address it
///    resolves to is inside a CIDR entry; one address outside makes the whole
///    host egress_denied. Without CIDR entries such a name is denied without a
///    DNS query, so a job cannot even leak data through DNS look-ups.
/// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address.
/// Connectors dial only the addresses resolve() returns, so a forbidden
/// address never sees a packet.
///
/// Thread safety: immutable after construction; const members may be called
/// from any thread (resolve() blocks in getaddrinfo(); call it on a worker).
class EgressGuard final : public outpost::NetworkGuard {
 public:
  /// Throws std::invalid_argument naming the first entry that is not a host
  /// name, `*.suffix` pattern, address or CIDR block. Blank entries are ignored.
  explicit EgressGuard(const std::vector<std::string>& allow_hosts);

  /// getaddrinfo() (numeric hosts without DNS), then the decision above.
  /// Errors: egress_denied naming the host and the forbidden address, or
  /// unreachable when the name does not resolve (retryable on EAI_AGAIN).
  [[nodiscard]] outpost::ResolvedHost resolve(std::string_view host,
                                              std::uint16_t port) const override;

  /// A Unix-domain socket bypasses every address check, so it is allowed only
  /// when the allowlist is empty; otherwise egress_denied.
  [[nodiscard]] std::optional<outpost::JobError> check_local_socket(
      std::string_view path) const override;
  /// An ODBC DSN hides its host from the agent: egress_denied unless the
  /// allowlist is empty.
  [[nodiscard]] std::optional<outpost::JobError> check_dsn(std::string_view name) const override;

  /// The decision above for already-resolved numeric `addresses` of `host`
  /// (no I/O): what resolve() applies after getaddrinfo().
  [[nodiscard]] outpost::ResolvedHost check(std::string_view host,
                                            std::vector<std::string> addresses) const;

  /// Whether the name matches a name or `*.suffix` entry (false for numeric hosts).
  [[nodiscard]] bool allows_name(std::string_view host) const;
  /// Whether a numeric address (text) lies inside a CIDR entry; false if not numeric.
  [[nodiscard]] bool allows_address(std::string_view address) const;
  /// True when the list was empty: everything is allowed.
  [[nodiscard]] bool unrestricted() const noexcept { return unrestricted_; }

  /// A parsed CIDR block: IPv4 as 4 bytes, IPv6 as 16.
  struct Block {
    bool v4 = true;
    std::array<std::uint8_t, 16> bytes{};
    int prefix = 0;
  };

 private:
  [[nodiscard]] bool allows_block(const Block& address) const;
  [[nodiscard]] outpost::ResolvedHost decide(const std::string& name,
                                             std::vector<std::string> addresses,
                                             bool numeric) const;

  bool unrestricted_ = true;
  std::vector<std::string> names_;     ///< exact names, lower case
  std::vector<std::string> suffixes_;  ///< ".corp.example" for `*.corp.example`
  std::vector<Block> blocks_;
};

}  // namespace outpost::security
