#pragma once

// Private to the SQLite connector: an open read-only database bound to one
// job (cancel hook, deadline), error mapping, and the job bodies.

#include <sqlite3.h>

#include <chrono>
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

  /// Prepares one statement; on failure returns nullptr and sets `error`.
  StmtPtr prepare(const std::string& sql, std::optional<JobError>& error);
  /// The error for a failed call that returned `rc`, with SQLite's message.
  [[nodiscard]] JobError error_for(int rc) const;

 private:
  Database(sqlite3* db, std::string path, JobContext& ctx);
  static int on_progress(void* self) noexcept;
  static int on_authorize(void* self, int action, const char* a1, const char* a2, const char*,
                          const char*) noexcept;

  sqlite3* db_;
  std::string path_;
  JobContext& ctx_;
  bool refused_write_ = false;  // the authorizer refused a pragma that would write
  std::optional<CancelToken::HookRegistration> hook_;
};

JobResult run_test_connection(Database& db, JobContext& ctx, std::int64_t open_ms);
JobResult run_metadata(Database& db, JobContext& ctx);
JobResult run_query(Database& db, JobContext& ctx);

}  // namespace outpost::connectors::sqlite
