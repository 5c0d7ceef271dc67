#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "support/loopback_server.hpp"

namespace outpost::test {

/// A malicious MySQL-protocol server on 127.0.0.1 (class 1 of issue 14): it
/// greets with a v10 handshake (mysql_native_password, no TLS), accepts any
/// login with an OK packet, and answers every COM_QUERY with a LOAD DATA LOCAL
/// request (0xFB + `filename`), the way a rogue server pulls agent-side files.
/// Every byte the client sends after the first such request is recorded, so a
/// test can prove that the file's contents never left the agent.
///
/// One thread per connection (LoopbackServer); the destructor stops it.
class RogueMysqlServer : public LoopbackServer {
 public:
  explicit RogueMysqlServer(std::string filename);
  ~RogueMysqlServer() override;
  /// Connections accepted so far.
  [[nodiscard]] int connections() const noexcept { return connections_; }
  /// LOAD DATA LOCAL requests sent so far.
  [[nodiscard]] int requests_sent() const noexcept { return requests_; }
  /// Every byte received after a LOAD DATA LOCAL request was sent (raw
  /// packets, headers included).
  [[nodiscard]] std::string received_after_request() const;
  /// Waits until a connection that got a request has been closed by the client.
  bool wait_for_close(std::chrono::milliseconds timeout) const;

 private:
  bool admit(int fd) override;
  void serve(int fd) override;

  std::string filename_;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable closed_;
  int closed_after_request_ = 0;  // guarded by mutex_
  std::string received_;
};

}  // namespace outpost::test
