#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "outpost/connector.hpp"
#include "outpost/errors.hpp"

namespace outpost::connectors::postgres {

/// One thing a login can do beyond reading, as found by the session probe.
struct Privilege {
  /// Stable name, reported by test_connection and named in refusals:
  /// "superuser", "createrole", "createdb", "replication", a predefined role
  /// ("pg_execute_server_program", "pg_write_server_files",
  /// "pg_read_server_files", "pg_signal_backend", "pg_checkpoint",
  /// "pg_write_all_data", "pg_create_subscription"), "execute:<function>"
  /// (a server-file or server-control function such as pg_read_file,
  /// lo_export, pg_reload_conf), "dblink", "table_write", "sequence_write",
  /// "schema_create", "database_create", "owner".
  std::string name;
  /// What it allows, for people ("member of pg_execute_server_program: COPY
  /// … TO PROGRAM runs programs on the database server").
  std::string detail;
};

/// What the probe learnt about a new session, cached on it for its life in
/// the pool (one probe per connection, not per job).
struct SessionInfo {
  std::string server_version;  ///< "15.14 (Debian 15.14-0+deb12u1)"
  std::string user;
  std::string database;
  /// Empty for a login that can only read. A superuser gets exactly
  /// {"superuser"}: it implies every other entry.
  std::vector<Privilege> privileges;
  /// Worth knowing but not refused: "bypassrls" (reads rows that row-level
  /// security would hide; still reading).
  std::vector<std::string> notes;
  std::int64_t probe_ms = 0;  ///< the probe's round trip

  [[nodiscard]] bool privileged() const noexcept { return !privileges.empty(); }
  /// The privilege names, in probe order.
  [[nodiscard]] std::vector<std::string> names() const;
};

/// The statement a new session runs first: it tags the session ($1 is the
/// application_name) and reads everything SessionInfo holds, in one round
/// trip. "Can do more than read" is defined in pg_privileges.cpp and
/// README.md: role attributes and predefined roles of every role the login
/// can SET ROLE to (pg_has_role MEMBER, so NOINHERIT grants count), EXECUTE
/// on server-file/server-control functions, dblink, and any write or create
/// privilege or ownership in the current database.
const char* probe_sql() noexcept;

/// Reads the probe's single row.
SessionInfo parse_probe(const PGresult* result);

/// The refusal for a query or metadata job on a privileged login:
/// permission_denied naming every privilege, unless the operator opted in
/// (privileged_login_allowed: --allow-privileged-logins, or
/// "allow_privileged_login": true on a sources-file source). nullopt when
/// the job may run. test_connection is never refused: it reports.
std::optional<JobError> privilege_gate(const SessionInfo& info, const JobContext& ctx);

/// The last probe's SessionInfo per pool key (one login on one server), kept
/// for a minute, so a burst of new sessions for one source costs one probe
/// instead of one each: the others wait for it (up to a limit) and reuse its
/// verdict. test_connection always probes its own session and refreshes it.
///
/// Thread safety: every member may be called from any worker thread.
/// One probe of a login at a time: the others wait, bounded, for its verdict.
/// A mutex, a flag and a condition variable waited on with the system clock
/// (pthread_cond_timedwait) rather than std::timed_mutex: ThreadSanitizer in
/// GCC 12 does not intercept pthread_mutex_clocklock, which try_lock_until
/// uses, and then reports every unlock as a bug.
class ProbeSlot {
 public:
  /// Takes the slot, waiting at most until `until`; false when it stayed taken.
  bool acquire_until(std::chrono::steady_clock::time_point until);
  void release();

 private:
  std::mutex mu_;
  std::condition_variable freed_;
  bool busy_ = false;
};

class VerdictCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kTtl = std::chrono::seconds(60);
  static constexpr std::size_t kMaxEntries = 1024;

  /// Held while one job probes `key`; others wait on it (acquire_until).
  std::shared_ptr<ProbeSlot> prober(const std::string& key);
  /// The verdict stored for `key` less than kTtl ago.
  std::optional<SessionInfo> fresh(const std::string& key) const;
  void store(const std::string& key, const SessionInfo& info);

 private:
  struct Entry {
    std::optional<SessionInfo> info;
    Clock::time_point at{};
    std::shared_ptr<ProbeSlot> prober = std::make_shared<ProbeSlot>();
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace outpost::connectors::postgres
