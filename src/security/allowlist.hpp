#pragma once

// The --allow-hosts entry grammar, shared by config validation (which must
// refuse at start exactly what the guard would refuse) and EgressGuard. No
// I/O: a leaf that outpost_config links without the rest of security/.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace outpost::security {

/// An IP address or CIDR block: IPv4 in the first 4 bytes, IPv6 in all 16.
struct IpBlock {
  bool v4 = true;
  std::array<std::uint8_t, 16> bytes{};
  int prefix = 0;
};

/// Inclusive port range; an entry without a port gets 0-65535 (any port).
struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 65535;
  [[nodiscard]] bool contains(std::uint16_t port) const noexcept {
    return port >= first && port <= last;
  }
};

/// One parsed --allow-hosts entry.
///
/// Grammar (entries are comma-separated; blanks are ignored by the callers):
///   NAME[:PORTS]              db.internal, db.internal:5432 (case-insensitive, trailing dot
///   ignored)
///   *.SUFFIX[:PORTS]          *.corp.example:5432 (one or more extra labels)
///   A.B.C.D[/N][:PORTS]       192.0.2.7, 10.0.0.0/8:5432-5439 (dotted decimal only)
///   IPV6[/N]                  2001:db8::1, fd00::/8 (no port: the colons are the address's)
///   [IPV6[/N]][:PORTS]        [2001:db8::1]:5432, [fd00::/8]:5432, [::1]
///   unix:/ABSOLUTE/PATH       a socket directory (PostgreSQL) or socket file (MySQL)
///   unix:@NAME                a Linux abstract socket, matched exactly
///   dsn:NAME                  an ODBC data source name (case-insensitive)
/// PORTS is N or A-B with 1 <= A <= B <= 65535. IPv4 forms that only
/// inet_aton() reads (127.1, 0x7f.0.0.1, 2130706433, 010.0.0.1) and IPv6 zone
/// ids are refused: an entry means one thing to every reader.
struct AllowEntry {
  enum class Kind { kName, kSuffix, kBlock, kSocket, kDsn };
  Kind kind = Kind::kName;
  /// kName: lower-case name; kSuffix: ".corp.example"; kSocket: the path as
  /// written, lexically normalised; kDsn: lower-case name.
  std::string value;
  IpBlock block;  ///< kBlock only
  PortRange ports;
};

/// Parses one trimmed, non-blank entry. Throws std::invalid_argument whose
/// message says why (without the entry; callers name it).
[[nodiscard]] AllowEntry parse_allow_entry(std::string_view text);

/// The address libc would dial for a numeric host, or nullopt for a name:
/// IPv6 text (optionally in brackets; a zone id is accepted and ignored) or
/// any IPv4 form that getaddrinfo(AI_NUMERICHOST)/inet_aton accepts
/// ("127.1", "0x7f000001", "2130706433", "0177.0.0.1"), normalised to its
/// 4 bytes. Never touches DNS.
[[nodiscard]] std::optional<IpBlock> parse_numeric_host(std::string_view host);

/// Canonical text of a single address (prefix ignored).
[[nodiscard]] std::string address_text(const IpBlock& address);

/// Whether `address` lies inside `network` (same family, prefix bits equal).
[[nodiscard]] bool block_contains(const IpBlock& network, const IpBlock& address) noexcept;

/// For an IPv6 address whose packets end up at an IPv4 destination, that
/// IPv4 address: IPv4-mapped ::ffff:a.b.c.d, IPv4-translated ::ffff:0:a.b.c.d,
/// IPv4-compatible ::a.b.c.d (not :: or ::1), NAT64 64:ff9b::a.b.c.d,
/// 6to4 2002:AABB:CCDD::/48 and Teredo 2001:0::/32 (the client address).
[[nodiscard]] std::optional<IpBlock> embedded_ipv4(const IpBlock& address) noexcept;

/// True for an IPv4-mapped address (::ffff:a.b.c.d): the kernel sends it as IPv4.
[[nodiscard]] bool is_v4_mapped(const IpBlock& address) noexcept;

}  // namespace outpost::security
