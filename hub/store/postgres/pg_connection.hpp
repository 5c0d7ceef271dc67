#pragma once

// libpq plumbing of the PostgreSQL store: one connection with lazily
// prepared statements, and the classification of server errors into
// "the store is unavailable" (connection lost, server shutting down) and
// "this statement failed" (a bug or a constraint). Only the store's .cpp
// files include this header (it pulls in libpq-fe.h).

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace outpost::hub::pg {

/// libpq connection keywords and values (the password among them, never logged).
struct ConnParams {
  std::vector<std::pair<std::string, std::string>> keywords;
  /// Host, port and database for log lines and error messages: no user secret.
  std::string display;
};

struct ResultDeleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

/// A statement that failed for a reason other than the connection (bad SQL,
/// a constraint): a bug or a conflict the caller asked for.
class StatementError : public std::runtime_error {
 public:
  StatementError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  [[nodiscard]] const std::string& sqlstate() const noexcept { return sqlstate_; }
  /// Serialization failure or deadlock: the transaction may simply be retried.
  [[nodiscard]] bool retryable() const noexcept {
    return sqlstate_ == "40001" || sqlstate_ == "40P01";
  }

 private:
  std::string sqlstate_;
};

/// A statement text with a name: prepared once per connection on first use.
struct Statement {
  std::string name;
  std::string sql;
};

/// Parameters in text format; nullopt is SQL NULL.
using Params = std::vector<std::optional<std::string>>;

/// One libpq connection. Not thread safe: one thread at a time (the pool
/// hands it out). Every failure throws: StoreUnavailable when the connection
/// is gone or the server refuses work, StatementError otherwise.
class Connection {
 public:
  /// Connects (blocking, bounded by connect_timeout in `params`).
  explicit Connection(const ConnParams& params);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements without parameters.
  Result exec(const char* sql);
  /// Runs one statement with text parameters (unnamed, planned each time).
  Result exec(const char* sql, const Params& params);
  /// Runs a named statement, preparing it on this connection the first time.
  Result run(const Statement& statement, const Params& params);

  /// True once libpq reports the connection as bad (the pool drops it).
  [[nodiscard]] bool broken() const noexcept;
  /// True while a transaction is open or aborted on the server side.
  [[nodiscard]] bool in_transaction() const noexcept;
  [[nodiscard]] PGconn* raw() noexcept { return conn_; }
  [[nodiscard]] const std::string& display() const noexcept { return display_; }

 private:
  Result check(Result result);

  PGconn* conn_ = nullptr;
  std::string display_;
  std::set<std::string, std::less<>> prepared_;
};

/// Throws StoreUnavailable or StatementError for a failed result (or a null
/// one, which libpq returns when it could not even send the query).
[[noreturn]] void raise(PGconn* conn, const PGresult* result, std::string_view what);

/// A libpq message on one line (newlines and runs of blanks → one space).
[[nodiscard]] std::string one_line(const char* message);

/// Field helpers over a result row (text format).
[[nodiscard]] inline bool is_null(const PGresult* r, int row, int col) {
  return PQgetisnull(r, row, col) != 0;
}
[[nodiscard]] std::string text(const PGresult* r, int row, int col);
[[nodiscard]] std::optional<std::string> opt_text(const PGresult* r, int row, int col);
[[nodiscard]] std::int64_t int64(const PGresult* r, int row, int col);
[[nodiscard]] bool boolean(const PGresult* r, int row, int col);

}  // namespace outpost::hub::pg
