#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/connection_pool.hpp"
#include "mysql/mysql_config.hpp"
#include "mysql/mysql_connection.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::mysql {

using Pool = common::ConnectionPool<Connection>;

/// One job's session: a pooled connection (reset on checkout, which also
/// proves it alive) or a new one, returned to the pool by the destructor when
/// it is still clean, closed otherwise.
class SessionLease {
 public:
  SessionLease(Pool& pool, std::string key) : pool_(pool), key_(std::move(key)) {}
  ~SessionLease();
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;

  /// Opens the session. `fresh` skips the pool (test_connection must prove
  /// that a new login works). nullopt on success.
  std::optional<JobError> open(const MysqlConfig& config, const NetworkGuard& network, bool fresh);

  /// Applies the per-job session state: UTC time zone, the statement timeout
  /// (`budget`), read-only access mode, and opens a READ ONLY transaction.
  std::optional<JobError> begin_read_only(std::chrono::milliseconds budget);

  [[nodiscard]] Connection& connection() const { return *connection_; }

 private:
  Pool& pool_;
  std::string key_;
  std::unique_ptr<Connection> connection_;
};

/// What is left of the job's time budget: the smaller of job.timeout and the
/// time until ctx.deadline.
std::chrono::milliseconds remaining_budget(const JobContext& ctx);

/// The failure a cancelled job reports: timeout for kTimeout, cancelled otherwise.
JobResult cancelled_result(CancelReason reason);

}  // namespace outpost::connectors::mysql
