#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outpost::test {

/// The listener and thread lifecycle every hand-written test server shares:
/// binds 127.0.0.1:0 (the kernel picks the port, read back at once, so
/// there is no free_port() race), accepts on its own thread and serves each
/// connection on a thread of its own.
///
/// A derived server implements serve() (and optionally admit()), calls
/// start() at the end of its constructor and stop() first thing in its
/// destructor: the threads call into the derived object, so they must be
/// gone before it is.
class LoopbackServer {
 public:
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  /// True once stop() began: serve() loops end on it.
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }

 protected:
  /// Binds and listens; throws std::runtime_error naming `name` on failure.
  explicit LoopbackServer(std::string name);
  /// Calls stop() (a safety net: derived destructors must call it first).
  virtual ~LoopbackServer();

  /// Starts accepting. Call once, when the derived object is complete.
  void start();
  /// Stops accepting, shuts down every connection and tracked descriptor
  /// (their reads then end), and joins every thread. Idempotent.
  void stop();

  /// Serves one accepted connection on its own thread. Return when the peer
  /// is done or stopping() is true; poll wake_fd() beside `fd` when waiting
  /// without a timeout. The base closes `fd` after serve() returns.
  virtual void serve(int fd) = 0;
  /// Runs on the accept thread for each new connection before any thread
  /// starts; false refuses it (the base then closes it at once).
  virtual bool admit(int fd);

  /// Becomes readable (and stays so) once stop() began.
  [[nodiscard]] int wake_fd() const noexcept { return wake_pipe_[0]; }
  /// Also shut `fd` down on stop() (an upstream connection a server opened);
  /// untrack it before closing it.
  void track(int fd);
  void untrack(int fd);

 private:
  void accept_loop();
  void run(int fd);

  std::string name_;
  std::uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_pipe_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;  // touched by the owning thread only
  std::mutex mutex_;
  std::vector<int> open_fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

/// Writes all of `data` to a socket (MSG_NOSIGNAL); false when the peer is gone.
bool write_all(int fd, const char* data, std::size_t size);
bool write_all(int fd, const std::string& data);

}  // namespace outpost::test
