#include "runtime/job_group.hpp"

#include <utility>

#include <boost/asio/co_spawn.hpp>

namespace outpost::runtime {

namespace asio = boost::asio;

void JobGroup::spawn(asio::awaitable<void> task, OnCancel on_cancel, OnDone done) {
  auto it = signals_.emplace(signals_.end());
  it->slot().assign([on_cancel = std::move(on_cancel)](asio::cancellation_type type) {
    if (on_cancel) on_cancel(type);
  });
  asio::co_spawn(executor_, std::move(task),
                 [this, it, done = std::move(done)](std::exception_ptr error) {
                   signals_.erase(it);
                   changed_.notify();
                   if (done) done(std::move(error));
                 });
}

void JobGroup::emit(asio::cancellation_type type) {
  for (auto& signal : signals_) signal.emit(type);
}

asio::awaitable<void> JobGroup::wait_until(Notifier::Clock::time_point deadline) {
  while (!signals_.empty() && Notifier::Clock::now() < deadline) {
    co_await changed_.wait_until(deadline);
  }
}

}  // namespace outpost::runtime
