#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "store/records.hpp"

namespace outpost::hub::console {

/// Limits failed console sign-ins per client address: at most
/// `max_failures` in a window of `window` (fixed windows that start at an
/// address's first failure). A successful sign-in clears the address. The
/// table is bounded: beyond `max_clients` addresses, finished windows are
/// dropped first, then the oldest. Thread safe.
///
/// Behind a reverse proxy every client has the proxy's address, so the limit
/// then applies to all of them together (the safe side for a guessing attack).
class SignInLimiter {
 public:
  SignInLimiter(int max_failures, std::chrono::milliseconds window,
                std::size_t max_clients = 10'000);

  /// How long `address` must wait before trying again; nullopt = may try now.
  std::optional<std::chrono::milliseconds> blocked(const std::string& address, SystemTime now);
  void failed(const std::string& address, SystemTime now);
  void succeeded(const std::string& address);

  [[nodiscard]] std::size_t tracked() const;

 private:
  struct Entry {
    SystemTime window_start;
    int failures = 0;
  };
  void make_room(SystemTime now);  // mu_ held

  int max_failures_;
  std::chrono::milliseconds window_;
  std::size_t max_clients_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace outpost::hub::console
