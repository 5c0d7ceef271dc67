#pragma once

// Private to the ODBC connector: one job's connection, pooled or new.

#include <optional>
#include <string>

#include "common/pooled_session.hpp"
#include "odbc/odbc_config.hpp"
#include "odbc/odbc_handles.hpp"
#include "outpost/network_guard.hpp"

namespace outpost::connectors::odbc {

using Pool = common::ConnectionPool<OdbcConnection>;
using SessionLease = common::PooledSession<OdbcConnection>;

/// A lease whose recycle rolls the job back and pools the connection only
/// when it is healthy and still read-only.
SessionLease lease_session(Pool& pool, std::string key);

/// Takes a pooled connection or dials a new one (`fresh`: always dial, as
/// test_connection must). The egress policy is checked for every job.
std::optional<JobError> open_session(SessionLease& session, const OdbcConfig& config,
                                     const NetworkGuard& network, bool fresh);

}  // namespace outpost::connectors::odbc
