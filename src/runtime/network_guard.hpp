#pragma once

#include "outpost/network_guard.hpp"
#include "security/egress.hpp"

namespace outpost::runtime {

/// The guard used when --allow-hosts is empty: every host, port, socket and
/// DSN may be used. It still resolves names the way the allowlist guard does
/// (numeric forms normalised without DNS, scoped IPv6 addresses keep their
/// zone id), so connectors dial numeric addresses the same way in both cases.
class OpenNetworkGuard final : public NetworkGuard {
 public:
  [[nodiscard]] ResolvedHost resolve(std::string_view host, std::uint16_t port) const override;
  [[nodiscard]] std::optional<JobError> check_local_socket(std::string_view path) const override;
  [[nodiscard]] std::optional<JobError> check_dsn(std::string_view name) const override;

 private:
  security::EgressGuard open_{{}};
};

}  // namespace outpost::runtime
