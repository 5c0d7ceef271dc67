#pragma once

#include <atomic>
#include <chrono>

#include "store/records.hpp"

namespace outpost::hub {

/// The wall clock of the hub's rules (leases, retention, timestamps).
/// Injectable so those rules are tested without sleeping. Thread safe.
class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual SystemTime now() const = 0;
};

/// std::chrono::system_clock, truncated to milliseconds (what RFC 3339 in
/// the API and a timestamptz column both keep exactly).
class SystemClock final : public Clock {
 public:
  [[nodiscard]] SystemTime now() const override {
    return std::chrono::time_point_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now());
  }
};

/// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(SystemTime start = SystemTime(std::chrono::hours(24 * 365 * 56)))
      : now_(start.time_since_epoch().count()) {}
  [[nodiscard]] SystemTime now() const override {
    return SystemTime(SystemTime::duration(now_.load()));
  }
  void set(SystemTime t) { now_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::milliseconds d) {
    now_.fetch_add(std::chrono::duration_cast<SystemTime::duration>(d).count());
  }

 private:
  std::atomic<SystemTime::rep> now_;
};

}  // namespace outpost::hub
