#pragma once

#include "mysql/mysql_config.hpp"
#include "mysql/mysql_session.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::mysql {

/// The three job types on an open, read-only session. Each returns expected
/// failures as JobResult errors and leaves the session broken (so it is not
/// pooled) whenever its state is uncertain.
JobResult run_test_connection(JobContext& ctx, SessionLease& session,
                              std::chrono::steady_clock::time_point started);
JobResult run_metadata(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
JobResult run_query(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
/// The monitors of jobs-v1.1 (mysql_monitors.cpp).
JobResult run_volume(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
JobResult run_freshness(JobContext& ctx, const MysqlConfig& config, SessionLease& session);

}  // namespace outpost::connectors::mysql
