#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/cancel.hpp"
#include "outpost/errors.hpp"
#include "postgres/pg_config.hpp"
#include "postgres/pg_privileges.hpp"

namespace outpost::connectors::postgres {

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// One libpq connection. Every wait on the server goes through poll() in
/// short slices so cancellation and the job deadline are always noticed, even
/// when the server or the network stops answering.
///
/// Not thread safe (one job at a time), except that the cancel hook installed
/// by `guard_cancel` may fire from the runtime's thread.
class Session {
 public:
  struct ConnDeleter {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
  };

  explicit Session(PGconn* conn) : conn_(conn) {}

  /// Connects without blocking past `deadline` (nor the config's
  /// connect_timeout) and polls `cancel`. The error is mapped to the protocol
  /// codes (auth_failed, unreachable, timeout, tls_error, permission_denied).
  struct Connected {
    std::unique_ptr<Session> session;
    std::optional<JobError> error;
  };
  static Connected connect(const ConnectParams& params, const CancelToken& cancel,
                           std::chrono::steady_clock::time_point deadline);

  [[nodiscard]] PGconn* raw() const noexcept { return conn_.get(); }

  /// Binds this session to one job: waits honour `cancel` and `deadline`, and
  /// a cancel (or the deadline passing) sends PQcancel to the server.
  /// Returns the hook registration; keep it alive while statements run.
  CancelToken::HookRegistration guard_cancel(CancelToken& cancel,
                                             std::chrono::steady_clock::time_point deadline);
  /// Sets what waits honour without installing a hook (pool housekeeping).
  void bind(const CancelToken* cancel, std::chrono::steady_clock::time_point deadline) noexcept;
  /// Forgets the job bound by guard_cancel (call after the registration is gone).
  void release_job() noexcept { cancel_ = nullptr; }

  /// Sends a statement with parameters (extended protocol: exactly one
  /// statement, so a "; COMMIT; DELETE …" cannot escape the transaction).
  bool send(std::string_view sql, const std::vector<std::string>& params = {});
  /// Next result of the statement in flight, or nullptr once all are read;
  /// nullptr with `abandoned()` true when the wait had to be given up.
  ResultPtr next_result();
  /// The next row of a `COPY … TO STDOUT` in flight, waiting like
  /// next_result(): its length with `*row` set (free it with PQfreemem), -1
  /// at the end of the data (the statement's result follows from
  /// next_result()), -2 on a connection error, -3 when the wait was given up
  /// (`abandoned()`).
  int next_copy_row(char** row);
  /// Runs one statement and returns its last result (nullptr if abandoned).
  ResultPtr exec(std::string_view sql, const std::vector<std::string>& params = {});
  /// Runs trusted, fixed SQL (possibly several statements) with the simple protocol.
  ResultPtr exec_simple(const std::string& sql);
  /// Reads every result of the statement in flight; returns the first error,
  /// else the last result (nullptr if abandoned).
  ResultPtr collect();
  /// Marks the session unusable (e.g. a result stream left unread): it is closed.
  void poison() noexcept { abandoned_ = true; }
  /// Closes the session after the current job instead of pooling it, without
  /// stopping the job (e.g. libpq's input buffer grew to hold a huge row and
  /// would keep that memory while idle).
  void retire() noexcept { retired_ = true; }

  /// What the session's first statement learnt (version, user, privileges);
  /// nullptr until set. Cached for the session's whole life in the pool.
  [[nodiscard]] const SessionInfo* info() const noexcept { return info_ ? &*info_ : nullptr; }
  void set_info(SessionInfo info) { info_ = std::move(info); }

  /// True when a wait was given up (server unresponsive after a cancel, or
  /// the connection broke): the session must not be reused.
  [[nodiscard]] bool abandoned() const noexcept { return abandoned_; }
  /// True when PQcancel was sent during the current job: a late cancel could
  /// hit the next job's statement, so the session is not pooled.
  [[nodiscard]] bool cancel_sent() const noexcept { return cancel_sent_.load(); }
  /// Healthy enough to pool: connected, idle, nothing abandoned or cancelled.
  [[nodiscard]] bool reusable() const noexcept;
  /// The health check of a pooled session that costs no round trip:
  /// reusable(), and the server sent nothing since the last job (a server
  /// that ends an idle session — restart, pg_terminate_backend,
  /// idle_session_timeout — sends its FATAL error and closes the socket,
  /// which makes it readable).
  [[nodiscard]] bool still_open();
  /// Ends the job's transaction (if one is open) and clears every piece of
  /// session state it may have left, in one round trip: what DISCARD ALL
  /// does, which itself cannot follow a ROLLBACK in the same message. True
  /// when the session is clean and reusable afterwards.
  [[nodiscard]] bool reset_for_pool(std::chrono::steady_clock::time_point deadline);
  /// The job ran nothing but one query inside its read-only transaction (the
  /// COPY path): rolling that transaction back already undoes what a query
  /// can set (GUCs, LISTEN, temporary objects, cursors), so the next
  /// reset_for_pool() only adds what outlives a rollback (session advisory
  /// locks, statements prepared through SPI, the session-wide tag of a new
  /// session's probe) instead of the whole of DISCARD ALL, which costs the
  /// server about three times as much. For this job only.
  void allow_light_reset() noexcept { light_reset_ = true; }

  /// The libpq error text, trimmed.
  [[nodiscard]] std::string error_message() const;

 private:
  enum class Slice { kWaiting, kBroken, kGiveUp };
  /// One poll of at most kPollSliceMs that honours cancel and deadline.
  Slice wait_slice();
  bool wait_readable();
  void send_cancel() noexcept;

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  /// Shared with the detached thread that sends a cancel request (see send_cancel).
  std::shared_ptr<PGcancel> pg_cancel_;
  const CancelToken* cancel_ = nullptr;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point cancel_seen_{};
  std::atomic<bool> cancel_sent_{false};
  bool abandoned_ = false;
  bool retired_ = false;
  bool light_reset_ = false;
  std::optional<SessionInfo> info_;
};

/// Maps a failed statement's result to a job error using its SQLSTATE:
/// 25006 read_only_violation, 42501 permission_denied, 57014 cancelled or
/// timeout (by `reason`; statement_timeout when nobody cancelled), 08xxx and
/// 57P0x unreachable, 28xxx auth_failed, everything else query_error. The
/// message is the server's, with its SQLSTATE.
JobError map_statement_error(const PGresult* result, CancelReason reason);

/// Maps a failed connection attempt's libpq message (no SQLSTATE is exposed
/// for those) to auth_failed, unreachable, timeout, tls_error or permission_denied.
JobError map_connect_error(std::string message);

/// Trims trailing whitespace and libpq's newlines.
std::string trim_message(std::string message);

}  // namespace outpost::connectors::postgres
