#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "store/postgres/pg_connection.hpp"

namespace outpost::hub::pg {

/// The channel every hub LISTENs on; the payload is the pool id of a job
/// that became claimable.
inline constexpr const char* kJobsChannel = "outpost_jobs";

/// A dedicated LISTEN connection on its own thread. It waits in poll() on
/// the connection's socket and on a wake-up pipe (no busy loop) and calls
/// `on_notify(pool_id)` for each notification. When the connection drops it
/// reconnects with a capped back-off; after every (re)connect it calls
/// `on_notify("")` ("anything may have changed while I was deaf") so waiters
/// re-try their claims.
///
/// The callback runs on the listener thread and must not block for long.
class Listener {
 public:
  using Callback = std::function<void(const std::string& pool_id)>;
  using LogFn = std::function<void(bool error, const std::string& message)>;
  /// True for a notification to drop (sent by a backend of this process).
  using SkipFn = std::function<bool(int backend_pid)>;

  Listener(ConnParams params, Callback on_notify, SkipFn skip, LogFn log);
  /// Stops the thread (wakes it through the pipe) and joins it.
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  /// True while the LISTEN connection is established.
  [[nodiscard]] bool connected() const noexcept { return connected_.load(); }

 private:
  void run();
  /// Listens on one connection until it fails or stop is asked; false on stop.
  bool serve(Connection& conn);
  /// Sleeps up to `ms` unless stop is asked first; false on stop.
  bool pause(int ms);

  ConnParams params_;
  Callback on_notify_;
  SkipFn skip_;
  LogFn log_;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false};
  std::atomic<bool> connected_{false};
  std::thread thread_;
};

}  // namespace outpost::hub::pg
