#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/errors.hpp"

namespace outpost {

/// The outcome of resolving a data-source host under the egress policy.
struct ResolvedHost {
  /// Numeric addresses (IPv4 or IPv6 text) the connector may dial, in order.
  std::vector<std::string> addresses;
  /// Set when nothing may be dialled: egress_denied (an address is outside
  /// --allow-hosts) or unreachable (the name does not resolve).
  std::optional<JobError> error;
};

/// The agent's egress policy as connectors see it. A connector resolves every
/// host through it and dials only the addresses it returns, so a name that
/// resolves to a forbidden address is refused before any packet is sent.
///
/// Thread safety: const members may be called from any thread.
class NetworkGuard {
 public:
  virtual ~NetworkGuard() = default;

  /// Resolves `host` (a name or a numeric address) and checks every address
  /// together with `port` (allowlist entries may name ports). The returned
  /// addresses are exactly the ones checked: dial those and no others, on
  /// `port`.
  [[nodiscard]] virtual ResolvedHost resolve(std::string_view host, std::uint16_t port) const = 0;

  /// Whether a local socket path (e.g. PostgreSQL's /var/run/postgresql, a
  /// MySQL socket file, or an abstract `@name`) may be used. Under an
  /// allowlist only sockets (or their directories) listed as `unix:/path`
  /// entries are, compared after resolving `..` and symbolic links; without
  /// one, any. Call it with the path the driver will actually use.
  [[nodiscard]] virtual std::optional<JobError> check_local_socket(std::string_view path) const = 0;
  /// Whether a data source name defined outside the job (an ODBC DSN from
  /// odbc.ini) may be used: its host is not visible to the agent, so under an
  /// allowlist only names listed as `dsn:NAME` entries are; without one, any.
  [[nodiscard]] virtual std::optional<JobError> check_dsn(std::string_view name) const = 0;
};

}  // namespace outpost
