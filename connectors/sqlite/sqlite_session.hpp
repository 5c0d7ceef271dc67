#pragma once

// Private to the SQLite connector: an open read-only database bound to one
// job (cancel hook, deadline) and its error mapping.

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "outpost/connector.hpp"

namespace outpost::connectors::sqlite {

struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const noexcept { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

/// One read-only connection for one job.
class Database {
 public:
  struct Opened {
    std::unique_ptr<Database> db;
    std::optional<JobError> error;
  };
  /// Opens `path` read-only with the hardening described on SqliteConnector
  /// and binds it to `ctx` (cancel hook, progress handler at the deadline).
  static Opened open(const std::string& path, int busy_timeout_ms, JobContext& ctx);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  [[nodiscard]] sqlite3* raw() const noexcept { return db_; }
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

  /// Prepares the first statement of `sql`; on failure returns nullptr and
  /// sets `error`. `tail`, when given, receives where the next one starts.
  StmtPtr prepare(const std::string& sql, std::optional<JobError>& error,
                  const char** tail = nullptr);
  /// The error for a failed call that returned `rc`, with SQLite's message
  /// (or the authorizer's reason when it refused).
  [[nodiscard]] JobError error_for(int rc) const;

  /// Bounds every value SQLite builds, results and intermediates alike
  /// (SQLITE_LIMIT_LENGTH), to `bytes`: what is left of the result's byte
  /// budget (ResultSink::max_value_bytes), with a floor for the schema's own
  /// text. A larger value fails with SQLITE_TOOBIG before it is allocated.
  void limit_values(std::uint64_t bytes);

 private:
  Database(sqlite3* db, std::string path, JobContext& ctx);
  static int on_progress(void* self) noexcept;
  static int on_authorize(void* self, int action, const char* a1, const char* a2, const char*,
                          const char*) noexcept;

  sqlite3* db_;
  std::string path_;
  JobContext& ctx_;
  std::optional<JobError> refusal_;  // the authorizer's first refusal
  std::optional<CancelToken::HookRegistration> hook_;
};

}  // namespace outpost::connectors::sqlite
