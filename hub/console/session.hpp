#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/records.hpp"

namespace outpost::hub::console {

/// Server-side sessions of the web console. A session is created by signing
/// in with the admin token; the browser holds only the session id (an
/// HttpOnly cookie) and the session's CSRF token (in page memory). Ids and
/// CSRF tokens are 32 random bytes; the store keeps only the SHA-256 of each
/// id, so a lookup never compares a secret byte by byte.
///
/// A session ends when it has been idle for `idle`, when it is older than
/// `lifetime`, or on sign-out. At most `max_sessions` live at once: beyond
/// that the least recently used one is ended. Thread safe.
class SessionStore {
 public:
  SessionStore(std::chrono::milliseconds idle, std::chrono::milliseconds lifetime,
               std::size_t max_sessions);

  struct Created {
    std::string id;    ///< goes into the cookie
    std::string csrf;  ///< sent back in X-CSRF-Token by the page
  };
  Created create(SystemTime now);

  /// The CSRF token of the live session `id`, which counts as used now
  /// (the idle timer restarts); nullopt when unknown or expired (an expired
  /// session is removed).
  std::optional<std::string> use(std::string_view id, SystemTime now);

  /// Ends the session; false when it did not exist.
  bool end(std::string_view id);

  /// Live sessions (expired ones not yet swept count too).
  [[nodiscard]] std::size_t size() const;

  [[nodiscard]] std::chrono::milliseconds idle_timeout() const noexcept { return idle_; }

 private:
  struct Session {
    std::string csrf;
    SystemTime created;
    SystemTime last_used;
  };
  [[nodiscard]] bool expired(const Session& s, SystemTime now) const;
  void make_room(SystemTime now);  // mu_ held

  std::chrono::milliseconds idle_;
  std::chrono::milliseconds lifetime_;
  std::size_t max_sessions_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // key: SHA-256 of the id
};

/// Whether two CSRF tokens are equal, in constant time for equal lengths.
bool csrf_matches(std::string_view expected, std::string_view given) noexcept;

}  // namespace outpost::hub::console
