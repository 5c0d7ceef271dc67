#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace outpost::test {

/// A throwaway MariaDB server for integration tests: a fresh data directory
/// (mariadb-install-db) in a temp dir, mariadbd listening on a free loopback
/// port (retried if another process takes it first) and a socket in that dir, grants enabled (so
/// authentication can be tested). The constructor returns once the server accepts connections and
/// throws std::runtime_error carrying the server's error log if it does not
/// start, so a test using it fails rather than skips. The destructor stops
/// the server and removes the directory.
class MariaDbServer {
 public:
  /// `extra_args` go to mariadbd (e.g. --ssl-cert=…).
  explicit MariaDbServer(std::vector<std::string> extra_args = {});
  ~MariaDbServer();
  MariaDbServer(const MariaDbServer&) = delete;
  MariaDbServer& operator=(const MariaDbServer&) = delete;

  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::filesystem::path socket_path() const { return dir_.path() / "mysqld.sock"; }
  /// The server's temp dir (files placed here are removed with it).
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_.path(); }

  /// Runs one or more `;`-separated statements as root over the socket and
  /// discards their results; throws std::runtime_error with the server's
  /// message on the first error.
  void execute(const std::string& sql) const;

  /// The first column of the first row of `sql` (NULL → empty string).
  [[nodiscard]] std::string scalar(const std::string& sql) const;

 private:
  /// Starts mariadbd with `args` plus a --port, retrying on a port race.
  void start(std::vector<std::string> args);

  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Process> server_;
};

}  // namespace outpost::test
