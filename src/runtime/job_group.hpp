#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <list>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "runtime/notifier.hpp"

namespace outpost::runtime {

/// The running jobs' tasks as one group, after the task_group of Beast's
/// example/advanced/server-flex-awaitable: every task is spawned through it
/// with a completion handler (never asio::detached) and a cancellation signal
/// of its own; emit() sends one cancellation to every task, and wait_until()
/// returns once the group is empty.
///
/// Unlike Beast's sessions, a job spends its time waiting for a connector on
/// a worker thread, which an asio cancellation cannot reach. So the signal is
/// not bound to the coroutine (that would also make its next co_await throw,
/// losing the release); its handler (`on_cancel`) cancels the job through its
/// CancelToken, and the job then ends by its normal path.
///
/// Thread safety: the network thread only.
class JobGroup {
 public:
  using OnCancel = std::function<void(boost::asio::cancellation_type)>;
  using OnDone = std::function<void(std::exception_ptr)>;

  explicit JobGroup(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  JobGroup(const JobGroup&) = delete;
  JobGroup& operator=(const JobGroup&) = delete;

  /// Starts `task`. `done` runs when it ends, with its exception or null;
  /// it should hold whatever owns this group alive (the task's frame is gone
  /// by then).
  void spawn(boost::asio::awaitable<void> task, OnCancel on_cancel, OnDone done);

  /// Cancels every task in the group now.
  void emit(boost::asio::cancellation_type type = boost::asio::cancellation_type::terminal);

  [[nodiscard]] std::size_t size() const noexcept { return signals_.size(); }

  /// Returns when the group is empty or at `deadline`, whichever is first.
  boost::asio::awaitable<void> wait_until(Notifier::Clock::time_point deadline);

 private:
  boost::asio::any_io_executor executor_;
  std::list<boost::asio::cancellation_signal> signals_;
  Notifier changed_;
};

}  // namespace outpost::runtime
