#include "runtime/worker_pool.hpp"

#include <algorithm>
#include <system_error>

#include <boost/asio/thread_pool.hpp>

namespace outpost::runtime {

// A thread_pool made with no threads of its own: its threads are ours,
// attached one at a time. Zero (not one) also keeps asio's locking on: a
// pool of one thread is told it is single-threaded.
WorkerPool::WorkerPool(std::size_t max_threads)
    : pool_(std::make_unique<boost::asio::thread_pool>(0)),
      max_threads_(std::max<std::size_t>(1, max_threads)) {}

WorkerPool::~WorkerPool() {
  bool joined = false;
  {
    const std::lock_guard lock(mutex_);
    joined = joined_;
    joined_ = true;
  }
  if (!joined) pool_->stop();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

boost::asio::thread_pool& WorkerPool::with_threads(std::size_t wanted) {
  const std::lock_guard lock(mutex_);
  const std::size_t target = std::min(wanted, max_threads_);
  while (!joined_ && threads_.size() < target) {
    try {
      threads_.emplace_back([pool = pool_.get()] { pool->attach(); });
    } catch (const std::system_error&) {
      if (threads_.empty()) throw;
      break;  // the threads already running take the work in turn
    }
  }
  return *pool_;
}

void WorkerPool::join() {
  {
    const std::lock_guard lock(mutex_);
    if (joined_) return;
    joined_ = true;
  }
  // The pool's own count of outstanding work (taken by its constructor) is
  // released, so each attached thread returns once the queue is empty.
  pool_->wait();
  for (auto& thread : threads_) thread.join();
}

std::size_t WorkerPool::threads() const {
  const std::lock_guard lock(mutex_);
  return threads_.size();
}

}  // namespace outpost::runtime
