#pragma once

// Private to the SQLite connector: the job bodies, each run on a database
// opened read-only for the job.

#include <cstdint>
#include <string>
#include <variant>

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
/// jobs-v1.1 profile (sqlite_profile.cpp).
JobResult run_profile(Database& db, JobContext& ctx);

/// A table or view a job of jobs-v1.1 reads.
struct Found {
  std::string name;  ///< as the schema spells it
  bool view = false;
};

/// The table or view named `target` in "main" (SQLite's one schema here:
/// ATTACH is disabled), or the failure.
std::variant<Found, JobResult> find_table(Database& db, const TableRef& target);

}  // namespace outpost::connectors::sqlite
