#include "security/egress.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>

namespace outpost::security {
namespace {

using Block = EgressGuard::Block;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(first, last - first + 1));
}

// "[::1]" -> "::1"; "db.corp." -> "db.corp"; lower case.
std::string normalize_host(std::string_view host) {
  std::string out = lower(trim(host));
  if (out.size() >= 2 && out.front() == '[' && out.back() == ']')
    out = out.substr(1, out.size() - 2);
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

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

// A v4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address, so an
// IPv4 rule cannot be sidestepped by writing the address in IPv6 form.
Block unmap(Block block) {
  static constexpr std::array<std::uint8_t, 12> kMapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!block.v4 && block.prefix >= 96 &&
      std::equal(kMapped.begin(), kMapped.end(), block.bytes.begin())) {
    Block v4;
    std::copy(block.bytes.begin() + 12, block.bytes.end(), v4.bytes.begin());
    v4.prefix = block.prefix - 96;
    return v4;
  }
  return block;
}

// Strict numeric parse (inet_pton: dotted quad or IPv6 text, no zone id).
std::optional<Block> parse_address(std::string_view text) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  // A zone id (fe80::1%eth0) does not change which block an address is in.
  if (const auto pct = s.find('%'); pct != std::string::npos && s.find(':') != std::string::npos) {
    s.resize(pct);
  }
  Block block;
  if (::inet_pton(AF_INET, s.c_str(), block.bytes.data()) == 1) {
    block.v4 = true;
    block.prefix = 32;
    return block;
  }
  if (::inet_pton(AF_INET6, s.c_str(), block.bytes.data()) == 1) {
    block.v4 = false;
    block.prefix = 128;
    return unmap(block);
  }
  return std::nullopt;
}

std::optional<Block> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  auto block = parse_address(text.substr(0, slash));
  if (!block) return std::nullopt;
  if (slash == std::string_view::npos) return block;
  const std::string_view digits = text.substr(slash + 1);
  if (digits.empty() || digits.size() > 3 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const int prefix = std::stoi(std::string(digits));
  // parse_address() may have unmapped an IPv6 address: the prefix applies to
  // the form that was written.
  const bool written_v4 = text.substr(0, slash).find(':') == std::string_view::npos;
  if (prefix > (written_v4 ? 32 : 128)) return std::nullopt;
  block->prefix = (!written_v4 && block->v4) ? prefix - 96 : prefix;
  if (block->prefix < 0) {
    // Wider than ::ffff:0:0/96: keep it an IPv6 block over the mapped range.
    Block v6;
    v6.v4 = false;
    v6.prefix = prefix;
    v6.bytes[10] = 0xff;
    v6.bytes[11] = 0xff;
    std::copy(block->bytes.begin(), block->bytes.begin() + 4, v6.bytes.begin() + 12);
    return v6;
  }
  return block;
}

bool contains(const Block& network, const Block& address) {
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

// getaddrinfo() into numeric address texts, deduplicated, in resolver order.
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

}  // namespace

EgressGuard::EgressGuard(const std::vector<std::string>& allow_hosts) {
  for (const auto& raw : allow_hosts) {
    const std::string entry = lower(trim(raw));
    if (entry.empty()) continue;
    unrestricted_ = false;
    const auto bad = [&raw](const char* why) {
      return std::invalid_argument("--allow-hosts entry '" + raw + "' " + why);
    };
    if (entry.starts_with("*.")) {
      std::string suffix = normalize_host(entry.substr(2));
      if (!valid_host_name(suffix)) throw bad("is not a valid *.suffix pattern");
      suffixes_.push_back("." + suffix);
    } else if (entry.find('/') != std::string::npos) {
      auto block = parse_cidr(entry);
      if (!block) throw bad("is not a valid CIDR block (e.g. 10.0.0.0/8 or fd00::/8)");
      blocks_.push_back(*block);
    } else if (auto address = parse_address(entry)) {
      blocks_.push_back(*address);
    } else {
      const std::string name = normalize_host(entry);
      if (entry.find('*') != std::string::npos) {
        throw bad("has a wildcard that is not a leading '*.'");
      }
      if (!valid_host_name(name)) {
        throw bad("is not a host name, *.suffix pattern, IP address or CIDR block");
      }
      names_.push_back(name);
    }
  }
}

bool EgressGuard::allows_block(const Block& address) const {
  return std::any_of(blocks_.begin(), blocks_.end(),
                     [&](const Block& network) { return contains(network, address); });
}

bool EgressGuard::allows_address(std::string_view address) const {
  if (unrestricted_) return parse_address(address).has_value();
  const auto block = parse_address(address);
  return block && allows_block(*block);
}

bool EgressGuard::allows_name(std::string_view host) const {
  if (unrestricted_) return true;
  const std::string name = normalize_host(host);
  if (name.empty() || parse_address(name)) return false;
  if (std::find(names_.begin(), names_.end(), name) != names_.end()) return true;
  return std::any_of(suffixes_.begin(), suffixes_.end(), [&](const std::string& suffix) {
    return name.size() > suffix.size() && name.ends_with(suffix);
  });
}

outpost::ResolvedHost EgressGuard::check(std::string_view host,
                                         std::vector<std::string> addresses) const {
  const std::string name = normalize_host(host);
  return decide(name, std::move(addresses), parse_address(name).has_value());
}

outpost::ResolvedHost EgressGuard::decide(const std::string& name,
                                          std::vector<std::string> addresses, bool numeric) const {
  if (unrestricted_) return {std::move(addresses), std::nullopt};
  if (!numeric && allows_name(name)) return {std::move(addresses), std::nullopt};
  if (addresses.empty()) {
    return {{}, denied("egress to " + name + " is not allowed by --allow-hosts")};
  }
  for (const auto& address : addresses) {
    if (!allows_address(address)) {
      if (numeric) {
        const std::string shown = name == address ? name : name + " (" + address + ")";
        return {{}, denied("egress to " + shown + " is not allowed by --allow-hosts")};
      }
      // Say why a name fails when one of several addresses is fine.
      return {{},
              denied("egress to " + name + " (" + address +
                     ") is not allowed by --allow-hosts: every address a name resolves to must "
                     "be inside an allowed block, unless the name itself is listed")};
    }
  }
  return {std::move(addresses), std::nullopt};
}

outpost::ResolvedHost EgressGuard::resolve(std::string_view host, std::uint16_t /*port*/) const {
  const std::string name = normalize_host(host);
  if (name.empty()) {
    return {{}, outpost::JobError{outpost::ErrorCode::kUnreachable, "no host given", false}};
  }
  // Numeric first, so an address (including forms like "127.1") never goes to DNS.
  Lookup numeric = lookup(name, true);
  if (numeric.rc == 0) return decide(name, std::move(numeric.addresses), true);
  if (!unrestricted_ && !allows_name(name) && blocks_.empty()) {
    return {{}, denied("egress to " + name + " is not allowed by --allow-hosts")};
  }
  Lookup resolved = lookup(name, false);
  if (resolved.rc != 0 || resolved.addresses.empty()) {
    const std::string why = resolved.rc != 0 ? ::gai_strerror(resolved.rc) : "no addresses";
    return {
        {},
        outpost::JobError{outpost::ErrorCode::kUnreachable,
                          "cannot resolve host " + name + ": " + why, resolved.rc == EAI_AGAIN}};
  }
  return decide(name, std::move(resolved.addresses), false);
}

std::optional<outpost::JobError> EgressGuard::check_local_socket(std::string_view path) const {
  if (unrestricted_) return std::nullopt;
  return denied("local socket " + std::string(path) +
                " is not allowed: --allow-hosts permits network hosts only");
}

std::optional<outpost::JobError> EgressGuard::check_dsn(std::string_view name) const {
  if (unrestricted_) return std::nullopt;
  return denied("ODBC data source name '" + std::string(name) +
                "' is not allowed: its host cannot be checked against --allow-hosts");
}

}  // namespace outpost::security
