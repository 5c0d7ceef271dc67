#pragma once

#include <sys/types.h>

#include <chrono>
#include <ctime>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace outpost::test {

/// A child process for integration and e2e tests: started with an explicit
/// argument vector and environment, its stdout and stderr captured to files in
/// a temp dir so a test can wait for a log line with a deadline (no sleeps).
/// The destructor kills (SIGKILL) and reaps a child that is still running.
class Process {
 public:
  struct Options {
    std::vector<std::string> args;  ///< args[0] is the program path
    /// Extra variables on top of a clean copy of this process's environment
    /// with every AGENT_* variable removed.
    std::vector<std::pair<std::string, std::string>> env;
    std::optional<std::string> stdin_text;  ///< written to the child's stdin, then closed
    std::filesystem::path working_dir;      ///< empty = inherit
  };

  explicit Process(Options options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  void signal(int sig) const;

  /// Waits for the process to exit; returns its exit status (128+signal when
  /// killed), or nullopt if it is still running at the deadline.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  [[nodiscard]] bool running();

  /// Everything the child wrote so far.
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;

  /// Waits until stdout (or stderr when `use_stderr`) contains `needle`.
  bool wait_for_output(const std::string& needle, std::chrono::milliseconds timeout,
                       bool use_stderr = false) const;

  /// Resident set size in KiB (from /proc), 0 once exited.
  [[nodiscard]] std::uint64_t rss_kib() const;
  /// Peak resident set size (VmHWM) in KiB.
  [[nodiscard]] std::uint64_t peak_rss_kib() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path dir_;
};

/// A free TCP port on 127.0.0.1 (bound then released; fine for tests that
/// start a server right after).
std::uint16_t free_port();

/// A fresh directory under $TMPDIR removed (recursively) by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// Path of a binary built in this tree (OUTPOST_AGENT_BIN / OUTPOST_HUB_BIN,
/// set by CMake as compile definitions of the test support library).
std::string agent_binary();
std::string hub_binary();

/// Polls `predicate` every 5 ms until it is true or the deadline passes.
template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    struct timespec ts{0, 5'000'000};
    nanosleep(&ts, nullptr);
  }
  return true;
}

}  // namespace outpost::test
