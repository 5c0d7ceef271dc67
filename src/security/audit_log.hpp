#pragma once

#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <string>
#include <string_view>

#include "common/sha256.hpp"

namespace outpost::security {

/// One executed statement, as the runtime reports it.
struct AuditRecord {
  std::string job_id;
  int attempt = 1;
  std::string source;     ///< source name (or local ref name), never its config
  std::string statement;  ///< only its SHA-256 is written, never the text
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
  std::string outcome;  ///< e.g. "succeeded", "failed", "cancelled"
};

/// The --audit-log file: one JSON line per executed statement, hash-chained so
/// that `outpost-agent audit-verify` detects an edited, removed or reordered
/// line. Each line is (fields in this order, no spaces):
///
///   {"time":"2026-11-23T10:00:00.123Z","job_id":"job_42","attempt":1,
///    "source":"warehouse","statement_sha256":"<hex>","rows":10,"bytes":512,
///    "outcome":"succeeded","prev":"<hex>","hash":"<hex>"}
///
/// `prev` is the SHA-256 (lower-case hex) of the previous line's exact bytes
/// without its newline, or kAuditGenesis for the first line; `hash` is the
/// SHA-256 of this line's bytes before `,"hash":`. An existing file is
/// continued: the chain goes on from its last line.
///
/// The file is created 0600, opened O_APPEND and locked (flock) so a second
/// agent cannot interleave lines; each record() is one write(2), so a line is
/// in the kernel (visible to readers, safe from an agent crash) when record()
/// returns. Thread safe.
class AuditLog {
 public:
  /// Opens or creates `path`. Throws std::runtime_error when it cannot be
  /// opened, is locked by another process, or ends with an incomplete line
  /// (a crash mid-write: verify it and move it aside).
  explicit AuditLog(std::string path);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  /// Appends one line. Throws std::system_error when the write fails (disk
  /// full, I/O error); the chain then continues from the last good line.
  void record(const AuditRecord& record);

  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
  std::string prev_;  ///< hash of the last line written, hex
};

/// `prev` of the first line: 64 zeros.
inline constexpr std::string_view kAuditGenesis =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 of `data`, lower-case hex (common/sha256.hpp).
using common::sha256_hex;

/// `outpost-agent audit-verify PATH`: checks every line's fields, hash and
/// link to the line before. Prints "ok: N lines" and returns 0 for an intact
/// log; else prints "line K: <why>" for the first bad line and returns 1;
/// returns 2 (after printing why) when the file cannot be read. Removing lines
/// at the end cannot be detected from the file alone: keep a copy of the last
/// line (or ship the log) elsewhere to anchor it (docs/security.md).
int verify_audit_log(const std::string& path, std::ostream& out);

}  // namespace outpost::security
