#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outpost::test {

/// A small HTTP CONNECT forward proxy for tests, on 127.0.0.1 only: it
/// tunnels to loopback targets, optionally demands basic authentication, and
/// counts what it saw so a test can prove traffic went through it (or not).
/// One thread per connection; the destructor cuts every tunnel.
class ForwardProxy {
 public:
  /// `user`/`password` empty = no authentication required.
  explicit ForwardProxy(std::string user = {}, std::string password = {});
  ~ForwardProxy();
  ForwardProxy(const ForwardProxy&) = delete;
  ForwardProxy& operator=(const ForwardProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// http://127.0.0.1:<port> (without credentials).
  [[nodiscard]] std::string url() const;

  /// CONNECT requests answered with 200 (tunnels opened).
  [[nodiscard]] std::uint64_t connects() const noexcept { return connects_; }
  /// Requests refused with 407 (missing or wrong credentials).
  [[nodiscard]] std::uint64_t auth_failures() const noexcept { return auth_failures_; }
  /// CONNECT targets seen ("host:port"), oldest first.
  [[nodiscard]] std::vector<std::string> targets() const;

 private:
  void accept_loop();
  void serve(int fd);
  void tunnel(int client, int upstream);

  std::string expected_authorization_;  // "Basic …" or empty
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> connects_{0};
  std::atomic<std::uint64_t> auth_failures_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

}  // namespace outpost::test
