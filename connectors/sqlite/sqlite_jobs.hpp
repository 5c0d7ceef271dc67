#pragma once

// Private to the SQLite connector: the job bodies, each run on a database
// opened read-only for the job.

#include <cstdint>

#include "common/job_support.hpp"
#include "outpost/connector.hpp"
#include "sqlite/sqlite_session.hpp"

namespace outpost::connectors::sqlite {

using common::failed;

JobResult run_test_connection(Database& db, JobContext& ctx, std::int64_t open_ms);
JobResult run_metadata(Database& db, JobContext& ctx);
JobResult run_query(Database& db, JobContext& ctx);
/// The monitors of jobs-v1.1 (sqlite_monitors.cpp).
JobResult run_volume(Database& db, JobContext& ctx);
JobResult run_freshness(Database& db, JobContext& ctx);

}  // namespace outpost::connectors::sqlite
