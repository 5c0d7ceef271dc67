#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_server.hpp"

namespace outpost::test {

/// A fault-injecting TCP proxy for reliability tests, on loopback only: put it
/// between the agent and the hub, or between a connector and its database,
/// then change what the network does while traffic flows.
///
/// Thread safety: every setter may be called from any thread at any time; it
/// applies to data forwarded from then on (and, for cut_all, to connections
/// that exist now).
class FaultProxy : public LoopbackServer {
 public:
  /// Listens on 127.0.0.1:0 (port() says which) and forwards to 127.0.0.1:`target_port`.
  explicit FaultProxy(std::uint16_t target_port);
  ~FaultProxy() override;

  /// Added before each forwarded chunk, both directions.
  void set_latency(std::chrono::milliseconds latency) { latency_ms_ = latency.count(); }
  /// Bytes per second per direction, 0 = unlimited.
  void set_bandwidth(std::uint64_t bytes_per_second) { bandwidth_ = bytes_per_second; }
  /// Accept connections and read from them, but drop everything read instead
  /// of forwarding it (also on connections that already exist): a network
  /// partition, as seen from both ends.
  void set_blackhole(bool on) { blackhole_ = on; }
  /// New connections are closed at once after accept (a reset-like refusal).
  void set_refuse(bool on) { refuse_ = on; }
  /// Cuts every connection after this many bytes forwarded (per direction);
  /// 0 = never. Models a connection dying mid-stream.
  void set_cut_after_bytes(std::uint64_t bytes) { cut_after_ = bytes; }
  /// Closes every connection open now.
  void cut_all();

  [[nodiscard]] std::uint64_t accepted() const noexcept { return accepted_; }
  [[nodiscard]] std::uint64_t bytes_forwarded() const noexcept { return bytes_; }

 private:
  struct Connection;
  bool admit(int fd) override;
  void serve(int fd) override;
  void pump(Connection& conn, bool upstream);
  void forget(const std::shared_ptr<Connection>& conn);

  std::uint16_t target_port_;
  std::atomic<std::int64_t> latency_ms_{0};
  std::atomic<std::uint64_t> bandwidth_{0};
  std::atomic<bool> blackhole_{false};
  std::atomic<bool> refuse_{false};
  std::atomic<std::uint64_t> cut_after_{0};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> bytes_{0};
  std::mutex mutex_;
  std::vector<std::shared_ptr<Connection>> connections_;
};

}  // namespace outpost::test
