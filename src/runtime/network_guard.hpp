#pragma once

#include "outpost/network_guard.hpp"

namespace outpost::runtime {

/// The guard used when --allow-hosts is empty: every host may be dialled; it
/// only resolves names (getaddrinfo) so connectors dial numeric addresses the
/// same way as under an allowlist.
class OpenNetworkGuard final : public NetworkGuard {
 public:
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t port) const override;
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view path) const override;
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view name) const override;
};

}  // namespace outpost::runtime
