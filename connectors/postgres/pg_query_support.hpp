#pragma once

// Private to the postgres connector: what the row-by-row query path
// (pg_query.cpp) and the COPY path (pg_query_copy.cpp) share.

#include <cstddef>
#include <optional>
#include <vector>

#include "postgres/pg_jobs.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {

/// Rows larger than this retire the session after the job: libpq keeps its
/// input buffer at the largest message it has read.
constexpr std::size_t kMaxPooledRowBytes = 8u << 20;

struct ColumnPlan {
  std::vector<Column> columns;
  std::vector<ValueKind> kinds;
};

/// The job's failure for a failed statement (`r`), or for no result at all
/// (cancelled, the server stopped answering, the connection broke).
JobResult failure_from(const PGresult* r, Session& session, JobContext& ctx);

/// Bind sent no values for the statement's $n placeholders: the server calls
/// it a protocol violation (08P01), but it is the job's SQL that is wrong.
bool takes_parameters(const PGresult* r);

bool succeeded(const ResultPtr& r);

/// Maps every result column to a value kind and names the built-in types;
/// true when some type (enum, domain, extension type) needs a catalog lookup.
bool describe_columns(const PGresult* desc, ColumnPlan& plan);

/// Names the columns describe_columns() could not, with one catalog lookup.
std::optional<JobResult> name_types(Session& session, JobContext& ctx, const std::vector<Oid>& oids,
                                    ColumnPlan& plan);

/// Runs the job's query as `COPY (<query>) TO STDOUT` in text format (one
/// CopyData message per row instead of one PGresult), after a describe that
/// gives the column types. nullopt when the statement is not a plain query
/// that COPY can take (the caller then runs it row by row); the read-only
/// transaction must already be open.
std::optional<JobResult> run_query_copy(Session& session, JobContext& ctx);

}  // namespace outpost::connectors::postgres
