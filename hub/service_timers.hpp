#pragma once

// HubService's timers (private to service_*.cpp): the lease sweep, the
// retention pass and the scheduler, all on the hub's io executor.

#include <optional>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "service.hpp"

namespace outpost::hub {

struct HubService::Timers {
  explicit Timers(const boost::asio::any_io_executor& io)
      : sweep(io), retention(io), scheduler(io) {}
  boost::asio::steady_timer sweep;
  std::optional<SystemTime> sweep_due;
  boost::asio::steady_timer retention;
  boost::asio::steady_timer scheduler;
  std::optional<SystemTime> scheduler_due;  // when `scheduler` fires next
};

}  // namespace outpost::hub
