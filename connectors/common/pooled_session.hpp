#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "common/connection_pool.hpp"

namespace outpost::connectors::common {

/// One job's hold on a connection: taken from a ConnectionPool (checkout)
/// or newly opened (adopt), and given back when the job ends — to the pool
/// if `recycle` makes it clean again (rolls back, resets session state) and
/// returns true, closed otherwise. discard() closes it whatever happens.
///
/// Every connector's job runs on one of these, so "what happens to the
/// session after the job" is written once per connector, in its recycle.
///
/// Thread safety: one job's thread only (the pool itself is shared).
template <typename Connection>
class PooledSession {
 public:
  using Pool = ConnectionPool<Connection>;
  using Recycle = std::function<bool(Connection&)>;

  PooledSession(Pool& pool, std::string key, Recycle recycle)
      : pool_(pool), key_(std::move(key)), recycle_(std::move(recycle)) {}
  ~PooledSession() { give_back(); }
  PooledSession(const PooledSession&) = delete;
  PooledSession& operator=(const PooledSession&) = delete;

  /// Takes an idle connection that passes `healthy(Connection&) -> bool`.
  /// False when the pool had none: the caller opens one and adopt()s it.
  template <typename HealthCheck>
  bool checkout(HealthCheck&& healthy) {
    connection_ = pool_.checkout(key_, std::forward<HealthCheck>(healthy));
    return connection_ != nullptr;
  }

  /// Holds a connection the caller opened.
  void adopt(std::unique_ptr<Connection> connection) { connection_ = std::move(connection); }

  /// Ends the hold now: recycles into the pool or closes (as the destructor).
  void give_back() {
    if (!connection_) return;
    if (recycle_ && recycle_(*connection_)) {
      pool_.checkin(key_, std::move(connection_));
    }
    connection_.reset();
  }

  /// Closes the connection: never pooled (a broken link, an unknown state).
  void discard() { connection_.reset(); }

  [[nodiscard]] explicit operator bool() const noexcept { return connection_ != nullptr; }
  [[nodiscard]] Connection& operator*() const { return *connection_; }
  [[nodiscard]] Connection* operator->() const { return connection_.get(); }
  [[nodiscard]] Connection* get() const noexcept { return connection_.get(); }
  [[nodiscard]] const std::string& key() const noexcept { return key_; }

 private:
  Pool& pool_;
  std::string key_;
  Recycle recycle_;
  std::unique_ptr<Connection> connection_;
};

}  // namespace outpost::connectors::common
