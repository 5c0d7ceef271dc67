#include "runtime/network_guard.hpp"

namespace outpost::runtime {

ResolvedHost OpenNetworkGuard::resolve(std::string_view host, std::uint16_t port) const {
  return open_.resolve(host, port);
}

std::optional<JobError> OpenNetworkGuard::check_local_socket(std::string_view) const {
  return std::nullopt;
}

std::optional<JobError> OpenNetworkGuard::check_dsn(std::string_view) const {
  return std::nullopt;
}

}  // namespace outpost::runtime
