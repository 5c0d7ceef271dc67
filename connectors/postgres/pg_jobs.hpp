#pragma once

// Private to the postgres connector: the job bodies, each run on a session
// already tagged with the job and guarded by its cancel hook.

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "common/job_support.hpp"
#include "outpost/connector.hpp"
#include "postgres/pg_session.hpp"

namespace outpost::connectors::postgres {

JobResult run_test_connection(Session& session, JobContext& ctx, std::int64_t connect_ms);
JobResult run_metadata(Session& session, JobContext& ctx);
/// `tag` is the job's application_name: a query that COPY can take sets it
/// inside its transaction (its session skipped the tagging round trip).
JobResult run_query(Session& session, JobContext& ctx, const std::string& tag);
// The monitors of jobs-v1.1 (pg_monitors.cpp).
JobResult run_volume(Session& session, JobContext& ctx);
JobResult run_freshness(Session& session, JobContext& ctx);
// jobs-v1.1 profile (pg_profile.cpp) and query_log (pg_query_log.cpp).
JobResult run_profile(Session& session, JobContext& ctx);
JobResult run_query_log(Session& session, JobContext& ctx);

/// A table, view or other relation a job of jobs-v1.1 reads.
struct Relation {
  std::string oid;
  std::string name;  ///< regclass text: quoted where needed, schema-qualified off the search_path
  char kind = 'r';
  std::optional<std::int64_t> estimate;  ///< none for views, foreign and never-analysed tables
};

/// Opens the job's read-only (repeatable read) transaction and finds the
/// table the login may read; the failure to return otherwise.
std::variant<Relation, JobResult> open_relation(Session& session, JobContext& ctx,
                                                const TableRef& target);

/// "SET LOCAL statement_timeout = …" for what is left of the job's time (ms ≥ 1).
std::string statement_timeout_sql(const JobContext& ctx);

using common::cancelled_result;

/// The failure of a statement: its mapped SQLSTATE, or (no result) the
/// cancel that stopped it or `unreachable` when the server stopped answering.
JobResult statement_failure(const PGresult* r, JobContext& ctx);

/// Quotes `items` as a PostgreSQL text[] literal ({"a","b\"c"}), for use as a
/// bound parameter value (never spliced into SQL).
std::string text_array_literal(const std::vector<std::string>& items);

}  // namespace outpost::connectors::postgres
