#include "sqlite/sqlite_session.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <utility>

#include "common/error_classify.hpp"
#include "sqlite/sqlite_authorizer.hpp"

namespace outpost::connectors::sqlite {
namespace {

using Clock = std::chrono::steady_clock;

// The progress handler runs every this many VM instructions: often enough to
// stop within milliseconds, rare enough to cost nothing measurable.
constexpr int kProgressInstructions = 1000;

// SQLITE_LIMIT_LENGTH never below this: the schema's own CREATE statements
// pass through it too. Values between the budget left and this floor are
// refused by RowWriter::fits instead.
constexpr std::uint64_t kMinValueLimit = 64 * 1024;

// Sets a boolean connection option and reads it back: the hardening must be
// in force, or the job does not run.
bool set_option(sqlite3* db, int option, int value) {
  int now = -1;
  return sqlite3_db_config(db, option, value, &now) == SQLITE_OK && now == value;
}

}  // namespace

Database::Database(sqlite3* db, std::string path, JobContext& ctx)
    : db_(db), path_(std::move(path)), ctx_(ctx) {}

Database::~Database() {
  hook_.reset();  // no sqlite3_interrupt may race with the close
  sqlite3_close_v2(db_);
}

Database::Opened Database::open(const std::string& path, int busy_timeout_ms, JobContext& ctx) {
  sqlite3* raw = nullptr;
  // No SQLITE_OPEN_URI: the name is a plain path ("file:" names are refused
  // earlier, so a build with URI support on by default cannot be tricked).
  // NOFOLLOW: `path` is canonical; a link swapped in since is not followed.
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOFOLLOW, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    const int sys = raw != nullptr ? sqlite3_system_errno(raw) : 0;
    sqlite3_close_v2(raw);
    message += " (" + path + ")";
    if (sys == EACCES || sys == EPERM)
      return {nullptr, JobError{ErrorCode::kPermissionDenied, message, false}};
    return {nullptr, JobError{ErrorCode::kUnreachable, message, false}};
  }
  std::unique_ptr<Database> db(new Database(raw, path, ctx));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  sqlite3_limit(raw, SQLITE_LIMIT_ATTACHED, 0);
  db->limit_values(ctx.sink.max_value_bytes());
  sqlite3_enable_load_extension(raw, 0);
  // Load extension (C API and SQL function), the fts3_tokenizer() pointer,
  // writes through writable_schema or the schema's own functions: all off.
  const bool hardened = set_option(raw, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0) &&
                        set_option(raw, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0) &&
                        set_option(raw, SQLITE_DBCONFIG_DEFENSIVE, 1) &&
                        set_option(raw, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0);
  if (!hardened) {
    return {nullptr,
            JobError{ErrorCode::kInternal,
                     "this SQLite library refused a hardening option; no job runs on it", false}};
  }
  // Belt and braces over READONLY: also refuses writes to the TEMP schema.
  char* err = nullptr;
  if (sqlite3_exec(raw, "PRAGMA query_only = ON", nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err != nullptr ? err : "PRAGMA query_only failed";
    sqlite3_free(err);
    return {nullptr, JobError{ErrorCode::kInternal, message, false}};
  }
  sqlite3_set_authorizer(raw, &Database::on_authorize, db.get());
  sqlite3_progress_handler(raw, kProgressInstructions, &Database::on_progress, db.get());
  Database* self = db.get();
  db->hook_.emplace(ctx.cancel.on_cancel([self] { sqlite3_interrupt(self->db_); }));
  return {std::move(db), std::nullopt};
}

void Database::limit_values(std::uint64_t bytes) {
  const auto limit = std::clamp<std::uint64_t>(bytes, kMinValueLimit, INT_MAX);
  sqlite3_limit(db_, SQLITE_LIMIT_LENGTH, static_cast<int>(limit));
}

int Database::on_progress(void* self) noexcept {
  auto* db = static_cast<Database*>(self);
  return db->ctx_.cancel.cancelled() || Clock::now() >= db->ctx_.deadline ? 1 : 0;
}

int Database::on_authorize(void* self, int action, const char* a1, const char* a2, const char*,
                           const char*) noexcept {
  auto* db = static_cast<Database*>(self);
  try {
    auto refusal = authorize(action, a1, a2);
    if (!refusal) return SQLITE_OK;
    if (!db->refusal_) db->refusal_ = std::move(refusal);
  } catch (...) {  // out of memory building the message: still refuse
  }
  return SQLITE_DENY;
}

StmtPtr Database::prepare(const std::string& sql, std::optional<JobError>& error,
                          const char** tail) {
  sqlite3_stmt* stmt = nullptr;
  refusal_.reset();
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, tail);
  if (rc != SQLITE_OK) {
    error = error_for(rc);
    sqlite3_finalize(stmt);
    return nullptr;
  }
  return StmtPtr(stmt);
}

JobError Database::error_for(int rc) const {
  std::string message = sqlite3_errmsg(db_);
  const int primary = rc & 0xFF;
  if (primary == SQLITE_INTERRUPT) {
    const auto reason = ctx_.cancel.reason();
    if (reason == CancelReason::kNone || reason == CancelReason::kTimeout) {
      return {ErrorCode::kTimeout, "statement stopped at the job deadline", true};
    }
    return {ErrorCode::kCancelled, "statement cancelled (" + std::string(to_string(reason)) + ")",
            false};
  }
  // The authorizer's reason wins whatever the code: a refusal fails the
  // statement with SQLITE_AUTH, SQLITE_ERROR ("not authorized to use
  // function") or SQLITE_SCHEMA (when the schema was loaded meanwhile).
  if (refusal_) return *refusal_;
  if (primary == SQLITE_TOOBIG) {
    return {ErrorCode::kResultTooLarge,
            message + " (a value is larger than the result may still hold)", false};
  }
  if (primary == SQLITE_READONLY || common::is_read_only_refusal(message) ||
      message.find("may not be modified") != std::string::npos) {  // the schema table
    return {ErrorCode::kReadOnlyViolation, message, false};
  }
  if (primary == SQLITE_AUTH || primary == SQLITE_PERM) {
    return {ErrorCode::kPermissionDenied, message, false};
  }
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return {ErrorCode::kTimeout, message + " (busy timeout elapsed)", true};
  }
  if (primary == SQLITE_CANTOPEN || primary == SQLITE_NOTADB) {
    return {ErrorCode::kUnreachable, message + " (" + path_ + ")", false};
  }
  return {ErrorCode::kQueryError, message, false};
}

}  // namespace outpost::connectors::sqlite
