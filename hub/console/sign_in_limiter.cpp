#include "console/sign_in_limiter.hpp"

#include <algorithm>

namespace outpost::hub::console {

SignInLimiter::SignInLimiter(int max_failures, std::chrono::milliseconds window,
                             std::size_t max_clients)
    : max_failures_(std::max(1, max_failures)),
      window_(window),
      max_clients_(std::max<std::size_t>(1, max_clients)) {}

std::optional<std::chrono::milliseconds> SignInLimiter::blocked(const std::string& address,
                                                                SystemTime now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(address);
  if (it == entries_.end()) return std::nullopt;
  const auto ends = it->second.window_start + window_;
  if (now >= ends) {
    entries_.erase(it);
    return std::nullopt;
  }
  if (it->second.failures < max_failures_) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(ends - now);
}

void SignInLimiter::failed(const std::string& address, SystemTime now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(address);
  if (it != entries_.end() && now >= it->second.window_start + window_) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    make_room(now);
    it = entries_.emplace(address, Entry{now, 0}).first;
  }
  ++it->second.failures;
}

void SignInLimiter::succeeded(const std::string& address) {
  std::lock_guard lock(mu_);
  entries_.erase(address);
}

std::size_t SignInLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void SignInLimiter::make_room(SystemTime now) {
  if (entries_.size() < max_clients_) return;
  std::erase_if(entries_, [&](const auto& kv) { return now >= kv.second.window_start + window_; });
  while (entries_.size() >= max_clients_) {
    auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
      return a.second.window_start < b.second.window_start;
    });
    entries_.erase(oldest);
  }
}

}  // namespace outpost::hub::console
