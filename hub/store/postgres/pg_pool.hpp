#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/postgres/pg_connection.hpp"

namespace outpost::hub::pg {

/// A fixed-size pool of blocking libpq connections, used from the hub's
/// store threads. Connections are opened on demand; one that libpq reports
/// broken (or that saw a connection error) is dropped when handed back, and
/// the next acquire opens a fresh one, so the pool heals by itself once the
/// server is back.
///
/// Thread safe. acquire() blocks while every connection is in use, up to
/// `acquire_timeout`, then throws StoreUnavailable.
class Pool {
 public:
  Pool(ConnParams params, std::size_t size, std::chrono::milliseconds acquire_timeout);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// A connection borrowed from the pool, returned by the destructor.
  class Handle {
   public:
    Handle(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Handle(Handle&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), conn_(std::move(other.conn_)) {}
    Handle& operator=(Handle&&) = delete;
    Handle(const Handle&) = delete;
    ~Handle();
    Connection& operator*() noexcept { return *conn_; }
    Connection* operator->() noexcept { return conn_.get(); }
    /// Closes the connection instead of returning it (state unknown).
    void discard() noexcept { conn_.reset(); }

   private:
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  Handle acquire();

  /// Runs `fn(Connection&)` inside BEGIN … COMMIT and returns its value.
  /// An exception from `fn` rolls back and propagates; a serialization
  /// failure or deadlock is retried (up to 3 times). The COMMIT's success is
  /// the only acknowledgement: a connection lost during COMMIT throws
  /// StoreUnavailable and the caller answers 503 (its retry is idempotent).
  template <typename Fn>
  auto transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&>;

  [[nodiscard]] const ConnParams& params() const noexcept { return params_; }

  /// True when `backend_pid` is the server process of one of this pool's
  /// connections (the listener skips NOTIFYs this process sent itself: they
  /// were already delivered in process).
  [[nodiscard]] bool owns_backend(int backend_pid);

 private:
  void give_back(std::unique_ptr<Connection> conn) noexcept;

  ConnParams params_;
  std::size_t size_;
  std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // connections that exist: idle + lent out
  std::set<int> backend_pids_;
};

template <typename Fn>
auto Pool::transaction(Fn&& fn) -> std::invoke_result_t<Fn&, Connection&> {
  for (int attempt = 1;; ++attempt) {
    Handle conn = acquire();
    try {
      conn->exec("BEGIN");
      if constexpr (std::is_void_v<std::invoke_result_t<Fn&, Connection&>>) {
        fn(*conn);
        conn->exec("COMMIT");
        return;
      } else {
        auto out = fn(*conn);
        conn->exec("COMMIT");
        return out;
      }
    } catch (const StatementError& e) {
      if (!conn->broken()) {
        try {
          conn->exec("ROLLBACK");
        } catch (...) {
          conn.discard();
        }
      }
      if (!e.retryable() || attempt >= 3) throw;
    } catch (...) {
      if (!conn->broken()) {
        try {
          conn->exec("ROLLBACK");
        } catch (...) {
          conn.discard();
        }
      }
      throw;
    }
  }
}

}  // namespace outpost::hub::pg
