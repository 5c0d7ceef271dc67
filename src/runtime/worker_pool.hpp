#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace boost::asio {
class thread_pool;  // <boost/asio/thread_pool.hpp> only where a pool is used
}

namespace outpost::runtime {

/// A thread pool whose threads start when work needs them: none while the
/// agent is idle, then as many as the callers ask for, up to `max_threads`.
/// An idle agent with --max-concurrency 32 used to hold 32 parked worker
/// threads (a stack page or two each, 39 threads in all); it now holds the
/// network thread and the health server's (docs/benchmarks.md, "Idle RSS").
/// Threads are never stopped before join(): a pool that once ran 16 jobs at
/// a time keeps 16 threads, as the pool it replaces always did.
///
/// Thread safety: with_threads() may be called from any thread.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads);
  ~WorkerPool();  ///< stops the pool if join() was not called, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// The pool, with at least min(wanted, max_threads) threads running.
  /// Throws std::system_error if a thread cannot be started and none runs.
  boost::asio::thread_pool& with_threads(std::size_t wanted);

  /// Runs what was posted to completion, then joins every thread (as
  /// boost::asio::thread_pool::join()). Call it once.
  void join();

  [[nodiscard]] std::size_t threads() const;

 private:
  std::unique_ptr<boost::asio::thread_pool> pool_;
  mutable std::mutex mutex_;
  std::vector<std::thread> threads_;
  std::size_t max_threads_;
  bool joined_ = false;
};

}  // namespace outpost::runtime
