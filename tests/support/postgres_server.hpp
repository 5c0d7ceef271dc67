#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace outpost::test {

/// A throwaway PostgreSQL 15 cluster for integration tests: initdb and pg_ctl
/// run as the `postgres` OS user (`runuser -u postgres --`) in a temp dir it
/// owns, listening on a free 127.0.0.1 port with scram-sha-256 password auth
/// for TCP (so wrong-password tests are real) and its unix socket inside the
/// temp dir. The destructor stops it (`pg_ctl stop -m immediate`) and removes
/// the dir. A watchdog process does the same if the test process dies
/// without running the destructor (crash, ctest timeout, SIGKILL), so no
/// cluster outlives its test.
///
/// The constructor throws std::runtime_error carrying the server log when the
/// cluster cannot start: a database test must fail, never skip.
class PostgresServer {
 public:
  /// `extra_conf`: lines added to postgresql.auto.conf (e.g.
  /// "shared_preload_libraries = 'pg_stat_statements'").
  explicit PostgresServer(std::vector<std::string> extra_conf = {});
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  [[nodiscard]] std::string host() const { return "127.0.0.1"; }
  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_; }
  [[nodiscard]] std::filesystem::path socket_dir() const { return dir_; }
  [[nodiscard]] static std::string superuser() { return "postgres"; }
  [[nodiscard]] const std::string& superuser_password() const noexcept { return password_; }

  /// Runs SQL (one or more statements) as the superuser over TCP; throws
  /// std::runtime_error with the server's message on failure.
  void exec(const std::string& sql, const std::string& database = "postgres") const;
  /// The first column of each row of `sql`, as text ("" for NULL).
  [[nodiscard]] std::vector<std::string> query_column(
      const std::string& sql, const std::string& database = "postgres") const;

  /// A postgres connector source config for this server.
  [[nodiscard]] nlohmann::json source_config(const std::string& user, const std::string& password,
                                             const std::string& database = "postgres") const;

  /// The server's log so far.
  [[nodiscard]] std::string log() const;

 private:
  void start();
  void start_watchdog();
  void stop_and_remove() noexcept;

  std::filesystem::path dir_;
  std::vector<std::string> extra_conf_;
  std::uint16_t port_ = 0;
  std::string password_;
  int watchdog_fd_ = -1;  // write end of the watchdog's pipe; closing it (or dying) fires it
  pid_t watchdog_pid_ = -1;
};

}  // namespace outpost::test
