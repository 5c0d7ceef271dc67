#include "console/session.hpp"

#include <algorithm>

#include "util.hpp"

namespace outpost::hub::console {

SessionStore::SessionStore(std::chrono::milliseconds idle, std::chrono::milliseconds lifetime,
                           std::size_t max_sessions)
    : idle_(idle), lifetime_(lifetime), max_sessions_(std::max<std::size_t>(1, max_sessions)) {}

SessionStore::Created SessionStore::create(SystemTime now) {
  Created out{random_hex(32), random_hex(32)};
  std::lock_guard lock(mu_);
  make_room(now);
  sessions_[sha256(out.id)] = Session{out.csrf, now, now};
  return out;
}

std::optional<std::string> SessionStore::use(std::string_view id, SystemTime now) {
  if (id.empty()) return std::nullopt;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(sha256(id));
  if (it == sessions_.end()) return std::nullopt;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = std::max(it->second.last_used, now);
  return it->second.csrf;
}

bool SessionStore::end(std::string_view id) {
  if (id.empty()) return false;
  std::lock_guard lock(mu_);
  return sessions_.erase(sha256(id)) > 0;
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool SessionStore::expired(const Session& s, SystemTime now) const {
  return now - s.last_used >= idle_ || now - s.created >= lifetime_;
}

void SessionStore::make_room(SystemTime now) {
  if (sessions_.size() < max_sessions_) return;
  std::erase_if(sessions_, [&](const auto& kv) { return expired(kv.second, now); });
  while (sessions_.size() >= max_sessions_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(), [](auto& a, auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    sessions_.erase(oldest);
  }
}

bool csrf_matches(std::string_view expected, std::string_view given) noexcept {
  // Both are hex of a fixed length; an empty expected token never matches.
  return !expected.empty() && constant_time_equal(expected, given);
}

}  // namespace outpost::hub::console
