#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_server.hpp"

namespace outpost::test {

/// A small HTTP CONNECT forward proxy for tests, on 127.0.0.1 only: it
/// tunnels to loopback targets, optionally demands basic authentication, and
/// counts what it saw so a test can prove traffic went through it (or not).
/// One thread per connection; the destructor cuts every tunnel.
class ForwardProxy : public LoopbackServer {
 public:
  /// `user`/`password` empty = no authentication required.
  explicit ForwardProxy(std::string user = {}, std::string password = {});
  ~ForwardProxy() override;

  /// http://127.0.0.1:<port> (without credentials).
  [[nodiscard]] std::string url() const;

  /// CONNECT requests answered with 200 (tunnels opened).
  [[nodiscard]] std::uint64_t connects() const noexcept { return connects_; }
  /// Requests refused with 407 (missing or wrong credentials).
  [[nodiscard]] std::uint64_t auth_failures() const noexcept { return auth_failures_; }
  /// CONNECT targets seen ("host:port"), oldest first.
  [[nodiscard]] std::vector<std::string> targets() const;

 private:
  void serve(int fd) override;
  /// Answers the CONNECT head; returns the upstream descriptor of an opened tunnel, else -1.
  int open_tunnel(int fd, const std::string& head);
  void tunnel(int client, int upstream);

  std::string expected_authorization_;  // "Basic …" or empty
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> auth_failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
};

}  // namespace outpost::test
