#include "runtime/network_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

namespace outpost::runtime {

ResolvedHost OpenNetworkGuard::resolve(std::string_view host, std::uint16_t port) const {
  ResolvedHost out;
  std::string name(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  if (name.empty()) {
    out.error = JobError{ErrorCode::kInvalidJob, "empty host name", false};
    return out;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(name.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) {
    out.error = JobError{ErrorCode::kUnreachable,
                         "host '" + name + "' does not resolve: " + ::gai_strerror(rc), true};
    return out;
  }
  for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
    char buf[INET6_ADDRSTRLEN] = {};
    const void* addr = nullptr;
    if (p->ai_family == AF_INET) {
      addr = &reinterpret_cast<const sockaddr_in*>(p->ai_addr)->sin_addr;
    } else if (p->ai_family == AF_INET6) {
      addr = &reinterpret_cast<const sockaddr_in6*>(p->ai_addr)->sin6_addr;
    } else {
      continue;
    }
    if (::inet_ntop(p->ai_family, addr, buf, sizeof buf) == nullptr) continue;
    std::string text(buf);
    if (std::find(out.addresses.begin(), out.addresses.end(), text) == out.addresses.end()) {
      out.addresses.push_back(std::move(text));
    }
  }
  ::freeaddrinfo(res);
  if (out.addresses.empty()) {
    out.error =
        JobError{ErrorCode::kUnreachable, "host '" + name + "' has no usable address", true};
  }
  return out;
}

std::optional<JobError> OpenNetworkGuard::check_local_socket(std::string_view) const {
  return std::nullopt;
}

std::optional<JobError> OpenNetworkGuard::check_dsn(std::string_view) const {
  return std::nullopt;
}

}  // namespace outpost::runtime
