#include "runtime/worker_pool.hpp"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace outpost::runtime {
namespace {

namespace asio = boost::asio;

/// Tasks that block until released, so each holds one thread.
class Gate {
 public:
  void wait_open() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [&] { return open_; });
  }
  void wait_for_waiting(int n) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return waiting_ >= n; });
  }
  void open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(WorkerPool, StartsNoThreadUntilWorkNeedsOne) {
  WorkerPool pool(32);
  EXPECT_EQ(pool.threads(), 0u);
  std::atomic<bool> ran{false};
  asio::post(pool.with_threads(1), [&] { ran = true; });
  EXPECT_EQ(pool.threads(), 1u);
  pool.join();
  EXPECT_TRUE(ran.load());
}

TEST(WorkerPool, GrowsToWhatIsAskedUpToItsMaximum) {
  WorkerPool pool(3);
  pool.with_threads(2);
  EXPECT_EQ(pool.threads(), 2u);
  pool.with_threads(1);  // never shrinks
  EXPECT_EQ(pool.threads(), 2u);
  pool.with_threads(10);
  EXPECT_EQ(pool.threads(), 3u);
  pool.join();
}

TEST(WorkerPool, EachBlockingTaskGetsAThreadOfItsOwn) {
  WorkerPool pool(8);
  Gate gate;
  std::mutex ids_mutex;
  std::set<std::thread::id> ids;
  for (int i = 1; i <= 4; ++i) {
    asio::post(pool.with_threads(static_cast<std::size_t>(i)), [&] {
      {
        const std::lock_guard lock(ids_mutex);
        ids.insert(std::this_thread::get_id());
      }
      gate.wait_open();
    });
  }
  gate.wait_for_waiting(4);  // would hang if two tasks shared a thread
  gate.open();
  pool.join();
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
}

TEST(WorkerPool, JoinRunsWhatIsQueuedThenLaterWorkStartsNoThread) {
  WorkerPool pool(1);
  std::atomic<int> ran{0};
  auto& executor_pool = pool.with_threads(1);
  for (int i = 0; i < 100; ++i) asio::post(executor_pool, [&] { ++ran; });
  pool.join();
  EXPECT_EQ(ran.load(), 100);
  pool.with_threads(1);
  EXPECT_EQ(pool.threads(), 1u);
}

TEST(WorkerPool, DestroyedWithoutJoinStopsItsThreads) {
  Gate gate;
  {
    WorkerPool pool(2);
    asio::post(pool.with_threads(1), [&] { gate.wait_open(); });
    gate.wait_for_waiting(1);
    gate.open();
  }  // must not hang
  SUCCEED();
}

}  // namespace
}  // namespace outpost::runtime
