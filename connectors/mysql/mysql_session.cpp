#include "mysql/mysql_session.hpp"

#include <mysql.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace outpost::connectors::mysql {

SessionLease::~SessionLease() {
  if (!connection_ || connection_->broken()) return;
  // COM_RESET_CONNECTION before the session goes idle: it ends the read-only
  // transaction (no snapshot kept) and drops what the job left behind on the
  // server — GET_LOCK() user locks, LOCK TABLES, user variables, temporary
  // tables, prepared statements, session variables, the active role — so an
  // idle pooled session holds nothing. A session that cannot be reset is closed.
  if (mysql_reset_connection(connection_->handle()) != 0) return;
  pool_.checkin(key_, std::move(connection_));
}

std::optional<JobError> SessionLease::open(const MysqlConfig& config, const NetworkGuard& network,
                                           bool fresh) {
  const ResolvedHost resolved = network.resolve(config.host, config.port);
  if (resolved.error) return resolved.error;
  if (!fresh) {
    connection_ = pool_.checkout(key_, [&](Connection& candidate) {
      // The egress policy is checked again for every job; the session was
      // reset when it was checked in, and a ping proves the link alive.
      return address_permitted(candidate.address(), resolved) &&
             mysql_ping(candidate.handle()) == 0;
    });
    if (connection_) return std::nullopt;
  }
  auto outcome = connect(config, resolved);
  if (!outcome.connection) return outcome.error;
  connection_ = std::move(outcome.connection);
  return std::nullopt;
}

std::optional<JobError> SessionLease::begin_read_only(std::chrono::milliseconds budget) {
  if (budget <= std::chrono::milliseconds::zero()) {
    return JobError{ErrorCode::kTimeout, "the job's time budget was used up before the query",
                    true};
  }
  char set[160];
  if (connection_->is_mariadb()) {
    // MariaDB: max_statement_time in seconds, fractional allowed.
    std::snprintf(set, sizeof set, "SET SESSION time_zone='+00:00', max_statement_time=%.3f",
                  static_cast<double>(budget.count()) / 1000.0);
  } else {
    // MySQL 5.7.8+: max_execution_time in milliseconds (SELECT only).
    std::snprintf(set, sizeof set, "SET SESSION time_zone='+00:00', max_execution_time=%lld",
                  static_cast<long long>(budget.count()));
  }
  if (auto error = connection_->execute(set)) return error;
  // The session default makes DDL fail too (a DDL statement would otherwise
  // commit the READ ONLY transaction implicitly and run in a new one).
  if (auto error = connection_->execute("SET SESSION TRANSACTION READ ONLY")) return error;
  return connection_->execute("START TRANSACTION READ ONLY");
}

std::chrono::milliseconds remaining_budget(const JobContext& ctx) {
  const auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
      ctx.deadline - std::chrono::steady_clock::now());
  return std::min(ctx.job.timeout, until_deadline);
}

JobResult cancelled_result(CancelReason reason) {
  if (reason == CancelReason::kTimeout) {
    return JobResult::failure(ErrorCode::kTimeout, "the statement was stopped: job timeout", true);
  }
  return JobResult::failure(ErrorCode::kCancelled,
                            "the statement was stopped: " + std::string(to_string(reason)));
}

}  // namespace outpost::connectors::mysql
