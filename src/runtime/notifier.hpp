#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace outpost::runtime {

/// A condition variable for coroutines on one strand (the network thread):
/// wait_until() returns when notify() is called or the deadline passes.
/// Waiters re-check their condition after every wake-up. Because everything
/// runs on one thread, a notify() between the check and the wait cannot be
/// lost.
class Notifier {
 public:
  using Clock = std::chrono::steady_clock;

  Notifier() = default;
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  boost::asio::awaitable<void> wait_until(Clock::time_point deadline) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    // Deregisters on every way out, including the destruction of a suspended
    // frame (an io_context torn down with the waiter still parked): notify()
    // must never reach a timer whose frame is gone.
    const Registration registration(waiters_, &timer);
    co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  }

  boost::asio::awaitable<void> wait_for(Clock::duration d) {
    co_await wait_until(Clock::now() + d);
  }

  boost::asio::awaitable<void> wait() { co_await wait_until(Clock::time_point::max()); }

  /// Wakes every current waiter.
  void notify() {
    for (auto* t : waiters_) t->cancel();
  }

 private:
  class Registration {
   public:
    Registration(std::vector<boost::asio::steady_timer*>& waiters, boost::asio::steady_timer* t)
        : waiters_(waiters), timer_(t) {
      waiters_.push_back(timer_);
    }
    ~Registration() {
      waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), timer_), waiters_.end());
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

   private:
    std::vector<boost::asio::steady_timer*>& waiters_;
    boost::asio::steady_timer* timer_;
  };

  std::vector<boost::asio::steady_timer*> waiters_;
};

}  // namespace outpost::runtime
