#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mysql/mysql_config.hpp"
#include "mysql/mysql_privileges.hpp"
#include "outpost/errors.hpp"
#include "outpost/network_guard.hpp"

struct st_mysql;

namespace outpost::connectors::mysql {

/// One open Connector/C session (MYSQL*), closed by the destructor.
///
/// Not thread safe: used by one job at a time. The one exception is
/// `interrupt_socket()`, which a cancel hook may call from another thread
/// while the owner is blocked in a read.
class Connection {
 public:
  Connection(st_mysql* handle, std::string address);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] st_mysql* handle() const noexcept { return handle_; }
  /// The numeric address that was dialled (checked against the egress policy).
  [[nodiscard]] const std::string& address() const noexcept { return address_; }
  void set_address(std::string address) { address_ = std::move(address); }
  /// True for MariaDB servers (max_statement_time), false for MySQL (max_execution_time).
  [[nodiscard]] bool is_mariadb() const noexcept { return mariadb_; }
  /// e.g. "MariaDB 10.11.19" or "MySQL 8.0.36".
  [[nodiscard]] std::string server_version() const;
  /// The server's connection id, the argument of KILL QUERY.
  [[nodiscard]] unsigned long thread_id() const;

  /// Runs a statement and discards any result set. nullopt on success.
  std::optional<JobError> execute(std::string_view sql);

  /// Marks the session unusable so it is closed instead of pooled (an
  /// interrupted stream, a KILL that may still be in flight, a lost link).
  void mark_broken() noexcept { broken_ = true; }
  [[nodiscard]] bool broken() const noexcept { return broken_; }

  /// Shuts the socket down so a blocked read in another thread returns at
  /// once; the session is unusable afterwards.
  void interrupt_socket() const noexcept;

  /// Error of the last failed call on this session, classified.
  [[nodiscard]] JobError last_error() const;

  /// The privilege gate's verdict for this session's login, read once per
  /// session (the first query or metadata job) and kept while it is pooled.
  [[nodiscard]] std::optional<PrivilegeReport>& privileges() noexcept { return privileges_; }

 private:
  st_mysql* handle_;
  std::string address_;
  bool mariadb_ = false;
  bool broken_ = false;
  std::optional<PrivilegeReport> privileges_;
};

/// A new session, or why there is none.
struct ConnectOutcome {
  std::unique_ptr<Connection> connection;
  std::optional<JobError> error;
};

/// Dials the addresses that `network.resolve(config.host)` permitted, in order,
/// and never the name itself: with certificate verification the name is only
/// what the certificate must match (probe_certificate + a pinned fingerprint).
ConnectOutcome connect(const MysqlConfig& config, const ResolvedHost& resolved);

/// Whether `address` is one of `resolved`'s addresses (compared as binary addresses).
bool address_permitted(const std::string& address, const ResolvedHost& resolved);

/// Opens a session to one already-permitted address (the cancel hook's second
/// connection). `timeout` caps the connect step.
ConnectOutcome connect_to_address(const MysqlConfig& config, const std::string& address,
                                  std::chrono::seconds timeout);

/// The most bytes one row packet may take in the client (MYSQL_OPT_MAX_ALLOWED_PACKET):
/// MariaDB's default max_allowed_packet, four times the default part size (a
/// row larger than one part is never delivered anyway). A larger row fails the
/// job (result_too_large, or truncated when the job's byte budget was smaller
/// anyway) before Connector/C allocates past it.
inline constexpr std::size_t kMaxRowPacketBytes = std::size_t{16} << 20;

/// The message of a refused LOAD DATA LOCAL request.
inline constexpr const char* kLocalInfileRefused = "LOAD DATA LOCAL refused by the agent";

/// Whether a client error message says a LOAD DATA LOCAL request was refused.
bool is_local_infile_refusal(std::string_view message);

/// Maps a server or client error number to a protocol error code.
JobError classify_error(unsigned int code, std::string_view message);

}  // namespace outpost::connectors::mysql
