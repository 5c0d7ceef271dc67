#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/connection_pool.hpp"
#include "common/job_support.hpp"
#include "common/pooled_session.hpp"
#include "mysql/mysql_config.hpp"
#include "mysql/mysql_connection.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::mysql {

using Pool = common::ConnectionPool<Connection>;

/// One job's session (common::PooledSession): a pooled connection (reset on
/// checkin, proven alive by a ping on checkout) or a new one.
using SessionLease = common::PooledSession<Connection>;

/// A lease on `pool` for `key` whose recycle resets the connection
/// (COM_RESET_CONNECTION) and pools it only when that worked.
SessionLease lease_session(Pool& pool, std::string key);

/// Opens the session. `fresh` skips the pool (test_connection must prove
/// that a new login works). nullopt on success.
std::optional<JobError> open_session(SessionLease& session, const MysqlConfig& config,
                                     const NetworkGuard& network, bool fresh);

/// Applies the per-job session state: UTC time zone, the statement timeout
/// (`budget`), read-only access mode, and opens a READ ONLY transaction.
std::optional<JobError> begin_read_only(Connection& connection, std::chrono::milliseconds budget);

using common::cancelled_result;
using common::remaining_budget;

}  // namespace outpost::connectors::mysql
