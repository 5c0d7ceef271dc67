#include "security/allowlist.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <stdexcept>

#include "common/text.hpp"

namespace outpost::security {
namespace {

// RFC 1123 labels (underscores tolerated: they occur in internal DNS), lower case.
bool valid_host_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    const bool ok = std::all_of(label.begin(), label.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
    if (!ok) return false;
    start = dot + 1;
  }
  return true;
}

std::string without_trailing_dot(std::string name) {
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  return name;
}

std::optional<std::uint16_t> parse_port_number(std::string_view text) {
  if (text.empty() || text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

PortRange parse_ports(std::string_view text) {
  const auto dash = text.find('-');
  const auto first = parse_port_number(text.substr(0, dash));
  const auto last =
      dash == std::string_view::npos ? first : parse_port_number(text.substr(dash + 1));
  if (!first || !last) {
    throw std::invalid_argument("has an invalid port: write PORT or FIRST-LAST, from 1 to 65535");
  }
  if (*first > *last) throw std::invalid_argument("has a port range whose first port is larger");
  return {*first, *last};
}

// inet_pton only: dotted decimal IPv4 or IPv6 text, no zone id.
std::optional<IpBlock> parse_strict_address(const std::string& text) {
  IpBlock block;
  if (::inet_pton(AF_INET, text.c_str(), block.bytes.data()) == 1) {
    block.prefix = 32;
    return block;
  }
  if (::inet_pton(AF_INET6, text.c_str(), block.bytes.data()) == 1) {
    block.v4 = false;
    block.prefix = 128;
    return block;
  }
  return std::nullopt;
}

// A written v4-mapped block (::ffff:10.0.0.0/104) becomes the IPv4 block it
// covers, since mapped addresses are judged as IPv4; one wider than
// ::ffff:0:0/96 stays IPv6.
IpBlock unmap_entry(IpBlock block) {
  if (block.v4 || block.prefix < 96 || !is_v4_mapped(block)) return block;
  IpBlock v4;
  std::copy(block.bytes.begin() + 12, block.bytes.end(), v4.bytes.begin());
  v4.prefix = block.prefix - 96;
  return v4;
}

// nullopt when `host` is not written as an address (a name); throws when it
// looks like one but is malformed.
std::optional<IpBlock> parse_block(const std::string& host) {
  const auto slash = host.find('/');
  const std::string address = host.substr(0, slash);
  if (address.find('%') != std::string::npos) {
    throw std::invalid_argument("has an IPv6 zone id: list the address or block without %zone");
  }
  auto block = parse_strict_address(address);
  if (!block) {
    if (parse_numeric_host(address)) {
      throw std::invalid_argument(
          "is an IPv4 address in a form only some parsers read: write it as four decimal "
          "numbers (a.b.c.d) without leading zeros");
    }
    if (slash != std::string::npos) {
      throw std::invalid_argument("is not a valid CIDR block (e.g. 10.0.0.0/8 or fd00::/8)");
    }
    return std::nullopt;
  }
  if (slash == std::string::npos) return unmap_entry(*block);
  const std::string digits = host.substr(slash + 1);
  int prefix = -1;
  if (!digits.empty() && digits.size() <= 3 &&
      std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    prefix = std::stoi(digits);
  }
  if (prefix < 0 || prefix > block->prefix) {
    throw std::invalid_argument("is not a valid CIDR block (e.g. 10.0.0.0/8 or fd00::/8)");
  }
  block->prefix = prefix;
  return unmap_entry(*block);
}

AllowEntry parse_socket(std::string_view path) {
  AllowEntry entry;
  entry.kind = AllowEntry::Kind::kSocket;
  const bool control = std::any_of(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (control) throw std::invalid_argument("has a control character in its path");
  if (path.size() > 1 && path.front() == '@') {
    entry.value = std::string(path);
    return entry;
  }
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument(
        "needs an absolute socket path (unix:/var/run/postgresql) or an abstract name "
        "(unix:@name)");
  }
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  entry.value = std::move(normal);
  return entry;
}

AllowEntry parse_dsn(std::string_view name) {
  const auto first = name.find_first_not_of(" \t");
  name = first == std::string_view::npos ? std::string_view() : name.substr(first);
  // The characters ODBC forbids in a data source name, and control characters.
  const bool bad = std::any_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f ||
           std::string_view("[]{}(),;?*=!@\\").find(c) != std::string_view::npos;
  });
  if (name.empty() || name.size() > 255 || bad) {
    throw std::invalid_argument("is not a valid ODBC data source name (dsn:NAME)");
  }
  AllowEntry entry;
  entry.kind = AllowEntry::Kind::kDsn;
  entry.value = common::ascii_lower(name);
  return entry;
}

}  // namespace

bool is_v4_mapped(const IpBlock& address) noexcept {
  if (address.v4) return false;
  return std::all_of(address.bytes.begin(), address.bytes.begin() + 10,
                     [](std::uint8_t b) { return b == 0; }) &&
         address.bytes[10] == 0xff && address.bytes[11] == 0xff;
}

std::optional<IpBlock> embedded_ipv4(const IpBlock& address) noexcept {
  if (address.v4) return std::nullopt;
  const auto& b = address.bytes;
  const auto zero = [&b](std::size_t from, std::size_t to) {
    return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(from),
                       b.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::uint8_t x) { return x == 0; });
  };
  IpBlock v4;
  v4.prefix = 32;
  const auto take = [&](std::size_t at, std::uint8_t flip) {
    for (std::size_t i = 0; i < 4; ++i) v4.bytes[i] = static_cast<std::uint8_t>(b[at + i] ^ flip);
    return v4;
  };
  if (is_v4_mapped(address)) return take(12, 0);
  // ::ffff:0:a.b.c.d (SIIT, RFC 2765)
  if (zero(0, 8) && b[8] == 0xff && b[9] == 0xff && zero(10, 12)) return take(12, 0);
  // ::a.b.c.d (IPv4-compatible, deprecated but still tunnelled by sit), except :: and ::1
  if (zero(0, 12) && !(zero(12, 15) && b[15] <= 1)) return take(12, 0);
  // 64:ff9b::a.b.c.d (NAT64 well-known prefix, RFC 6052)
  if (b[0] == 0 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(4, 12)) return take(12, 0);
  // 2002:AABB:CCDD::/48 (6to4, RFC 3056): the relay is the IPv4 address
  if (b[0] == 0x20 && b[1] == 0x02) return take(2, 0);
  // 2001:0::/32 (Teredo, RFC 4380): the client's address, bits inverted
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) return take(12, 0xff);
  return std::nullopt;
}

bool block_contains(const IpBlock& network, const IpBlock& address) noexcept {
  if (network.v4 != address.v4) return false;
  const int full = network.prefix / 8;
  for (int i = 0; i < full; ++i) {
    if (network.bytes[static_cast<std::size_t>(i)] != address.bytes[static_cast<std::size_t>(i)]) {
      return false;
    }
  }
  const int rest = network.prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  const auto i = static_cast<std::size_t>(full);
  return (network.bytes[i] & mask) == (address.bytes[i] & mask);
}

std::string address_text(const IpBlock& address) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(address.v4 ? AF_INET : AF_INET6, address.bytes.data(), text, sizeof text);
  return text;
}

std::optional<IpBlock> parse_numeric_host(std::string_view host) {
  std::string s(host);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  if (s.empty() || s.size() > 128 || s.find('\0') != std::string::npos) return std::nullopt;
  IpBlock block;
  if (s.find(':') != std::string::npos) {
    // A zone id picks the interface, not the address: it does not change the verdict.
    if (const auto pct = s.find('%'); pct != std::string::npos) {
      if (pct + 1 == s.size()) return std::nullopt;
      s.resize(pct);
    }
    if (::inet_pton(AF_INET6, s.c_str(), block.bytes.data()) != 1) return std::nullopt;
    block.v4 = false;
    block.prefix = 128;
    return block;
  }
  // inet_aton() stops at whitespace and ignores the rest; getaddrinfo does
  // not. Only the characters of its numeric forms get that far.
  const bool numeric_chars = std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == 'x' ||
           c == 'X' || c == '.';
  });
  in_addr addr{};
  if (!numeric_chars || ::inet_aton(s.c_str(), &addr) == 0) return std::nullopt;
  std::copy_n(reinterpret_cast<const std::uint8_t*>(&addr.s_addr), 4, block.bytes.begin());
  block.prefix = 32;
  return block;
}

AllowEntry parse_allow_entry(std::string_view text) {
  const std::string written(text);
  const std::string lowered = common::ascii_lower(written);
  if (lowered.starts_with("unix:")) return parse_socket(std::string_view(written).substr(5));
  if (lowered.starts_with("dsn:")) return parse_dsn(std::string_view(written).substr(4));

  std::string host = lowered;
  std::optional<PortRange> ports;
  if (lowered.starts_with('[')) {
    const auto close = lowered.find(']');
    if (close == std::string::npos) throw std::invalid_argument("has '[' without ']'");
    host = lowered.substr(1, close - 1);
    const std::string_view rest = std::string_view(lowered).substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        throw std::invalid_argument("must be [IPV6]:PORTS or [IPV6/N]:PORTS after the ']'");
      }
      ports = parse_ports(rest.substr(1));
    }
    if (host.find(':') == std::string::npos) {
      throw std::invalid_argument("has brackets, which are for IPv6 addresses only");
    }
  } else if (std::count(lowered.begin(), lowered.end(), ':') == 1) {
    const auto colon = lowered.find(':');
    host = lowered.substr(0, colon);
    ports = parse_ports(std::string_view(lowered).substr(colon + 1));
  }
  if (host.empty()) throw std::invalid_argument("has no host");

  AllowEntry entry;
  if (ports) entry.ports = *ports;
  if (host.starts_with("*.")) {
    entry.kind = AllowEntry::Kind::kSuffix;
    const std::string suffix = without_trailing_dot(host.substr(2));
    if (!valid_host_name(suffix)) throw std::invalid_argument("is not a valid *.suffix pattern");
    entry.value = "." + suffix;
    return entry;
  }
  if (const auto block = parse_block(host)) {
    entry.kind = AllowEntry::Kind::kBlock;
    entry.block = *block;
    return entry;
  }
  if (host.find('*') != std::string::npos) {
    throw std::invalid_argument("has a wildcard that is not a leading '*.'");
  }
  entry.kind = AllowEntry::Kind::kName;
  entry.value = without_trailing_dot(host);
  if (!valid_host_name(entry.value)) {
    throw std::invalid_argument(
        "is not a host name, *.suffix pattern, IP address, CIDR block, unix:PATH or dsn:NAME");
  }
  return entry;
}

}  // namespace outpost::security
