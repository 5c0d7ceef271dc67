#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace outpost::connectors::common {

/// Limits of a ConnectionPool.
struct PoolOptions {
  /// Idle connections kept per key (per distinct source config). Enough for an
  /// agent at --max-concurrency 16 to keep a busy source without re-dialling:
  /// a SCRAM login costs about a millisecond of CPU on each side.
  std::size_t max_idle_per_key = 16;
  /// Idle connections kept over all keys; the oldest goes first.
  std::size_t max_idle_total = 64;
  /// An idle connection older than this is closed (by a reaper thread, so an
  /// idle agent does not hold sessions open on the database forever).
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  /// Clock, replaceable so tests can age connections without sleeping.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
  /// Start the reaper thread (tests with a fake clock turn it off and call prune()).
  bool background_reaper = true;
};

/// A bounded pool of *idle* connections keyed by a config fingerprint (see
/// config_fingerprint()). It never limits how many connections are in use —
/// concurrency per source is the runtime's job (--max-per-source); it only
/// decides which finished connections are worth keeping for the next job.
///
/// `Connection` is any movable-by-pointer type; it is closed by destroying its
/// unique_ptr, always outside the pool's lock (closing may do network I/O).
///
/// Thread safety: every member may be called from any thread.
template <typename Connection>
class ConnectionPool {
 public:
  using Ptr = std::unique_ptr<Connection>;

  explicit ConnectionPool(PoolOptions options = {}) : options_(std::move(options)) {
    if (options_.background_reaper) {
      reaper_ = std::jthread([this](std::stop_token stop) { reap_loop(stop); });
    }
  }
  ~ConnectionPool() {
    if (reaper_.joinable()) {
      reaper_.request_stop();
      { std::lock_guard lock(mutex_); }
      wake_.notify_all();
      reaper_.join();
    }
    std::vector<Ptr> doomed;
    {
      std::lock_guard lock(mutex_);
      for (auto& entry : idle_) doomed.push_back(std::move(entry.connection));
      idle_.clear();
    }
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  /// Takes the most recently returned idle connection for `key` that is not
  /// expired and passes `healthy(Connection&) -> bool` (run outside the lock; a
  /// failing one is closed and the next is tried). nullptr when none is left:
  /// the caller opens a new connection.
  template <typename HealthCheck>
  Ptr checkout(const std::string& key, HealthCheck&& healthy) {
    for (;;) {
      Ptr candidate;
      std::vector<Ptr> expired;
      {
        std::lock_guard lock(mutex_);
        collect_expired(options_.now(), expired);
        for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
          if (it->key == key) {
            candidate = std::move(it->connection);
            idle_.erase(std::next(it).base());
            break;
          }
        }
      }
      expired.clear();  // closes them outside the lock
      if (!candidate) return nullptr;
      if (healthy(*candidate)) return candidate;
      ++discarded_unhealthy_;
    }
  }

  /// Returns a connection the caller knows to be clean (no open transaction,
  /// no pending result). Evicts the oldest idle ones past the bounds.
  void checkin(const std::string& key, Ptr connection) {
    if (!connection) return;
    std::vector<Ptr> doomed;
    bool was_empty = false;
    {
      std::lock_guard lock(mutex_);
      was_empty = idle_.empty();
      idle_.push_back(Entry{key, options_.now(), std::move(connection)});
      std::size_t same_key = 0;
      for (const auto& entry : idle_) same_key += entry.key == key ? 1 : 0;
      for (auto it = idle_.begin(); it != idle_.end() && same_key > options_.max_idle_per_key;) {
        if (it->key == key) {
          doomed.push_back(std::move(it->connection));
          it = idle_.erase(it);
          --same_key;
        } else {
          ++it;
        }
      }
      while (idle_.size() > options_.max_idle_total) {
        doomed.push_back(std::move(idle_.front().connection));
        idle_.erase(idle_.begin());
      }
    }
    // The reaper sleeps until the oldest entry is due, and a new entry is
    // never due earlier: only an empty pool's reaper needs waking (once per
    // job it was a context switch on the hot path).
    if (was_empty) wake_.notify_all();
  }

  /// Closes every idle connection older than the idle timeout now.
  void prune() {
    std::vector<Ptr> expired;
    std::lock_guard lock(mutex_);
    collect_expired(options_.now(), expired);
  }

  /// Idle connections held (all keys, or one key).
  [[nodiscard]] std::size_t idle_count() const {
    std::lock_guard lock(mutex_);
    return idle_.size();
  }
  [[nodiscard]] std::size_t idle_count(const std::string& key) const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& entry : idle_) n += entry.key == key ? 1 : 0;
    return n;
  }
  /// Connections dropped by a failed health check on checkout (for tests/metrics).
  [[nodiscard]] std::size_t discarded_unhealthy() const { return discarded_unhealthy_.load(); }

 private:
  struct Entry {
    std::string key;
    std::chrono::steady_clock::time_point returned_at;
    Ptr connection;
  };

  // Entries are kept in check-in order, so expired ones are at the front.
  void collect_expired(std::chrono::steady_clock::time_point now, std::vector<Ptr>& out) {
    while (!idle_.empty() && now - idle_.front().returned_at >= options_.idle_timeout) {
      out.push_back(std::move(idle_.front().connection));
      idle_.erase(idle_.begin());
    }
  }

  void reap_loop(const std::stop_token& stop) {
    std::unique_lock lock(mutex_);
    while (!stop.stop_requested()) {
      if (idle_.empty()) {
        wake_.wait(lock, [&] { return stop.stop_requested() || !idle_.empty(); });
        continue;
      }
      const auto due = idle_.front().returned_at + options_.idle_timeout;
      wake_.wait_until(lock, due, [&] {
        return stop.stop_requested() || idle_.empty() || options_.now() >= due;
      });
      std::vector<Ptr> expired;
      collect_expired(options_.now(), expired);
      lock.unlock();
      expired.clear();
      lock.lock();
    }
  }

  PoolOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> idle_;
  std::atomic<std::size_t> discarded_unhealthy_{0};
  std::jthread reaper_;
};

}  // namespace outpost::connectors::common
