#pragma once

// Private to the ODBC connector: the job bodies, each run on an open
// connection that passed the privilege gate.

#include <chrono>

#include "common/job_support.hpp"
#include "odbc/odbc_handles.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::odbc {

using common::cancelled_result;
using common::failed;
using common::remaining_budget;

JobResult run_test_connection(JobContext& ctx, OdbcConnection& c,
                              std::chrono::steady_clock::time_point started);
JobResult run_metadata(JobContext& ctx, OdbcConnection& c);
JobResult run_query(JobContext& ctx, OdbcConnection& c);

/// SQL_SUCCESS or SQL_SUCCESS_WITH_INFO.
inline bool ok(SQLRETURN rc) {
  return rc == SQL_SUCCESS || rc == SQL_SUCCESS_WITH_INFO;
}

}  // namespace outpost::connectors::odbc
