#pragma once

// Private to the postgres connector: what the row-by-row query path
// (pg_query.cpp) and the COPY path (pg_query_copy.cpp) share.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgres/pg_jobs.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {

/// Rows larger than this retire the session after the job: libpq keeps its
/// input buffer at the largest message it has read.
constexpr std::size_t kMaxPooledRowBytes = 8u << 20;

/// Output settings the value mapping relies on, local to the job's
/// transaction: ISO dates, hex bytea, shortest round-trip floats.
struct OutputSetting {
  const char* name;
  const char* value;
};
inline constexpr OutputSetting kOutputSettings[] = {{"DateStyle", "ISO"},
                                                    {"IntervalStyle", "postgres"},
                                                    {"bytea_output", "hex"},
                                                    {"extra_float_digits", "1"}};

/// True for a statement COPY can wrap in parentheses (see pg_query_copy.cpp):
/// such a query job opens its transaction in the round trip that parses it.
bool copy_eligible(std::string_view sql);

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

/// Runs a copy_eligible() query job as `COPY (<query>) TO STDOUT` in text
/// format (one CopyData message per row instead of one PGresult). Its first
/// round trip is one libpq pipeline: BEGIN READ ONLY, the transaction's
/// settings (statement_timeout, application_name = `tag`, kOutputSettings),
/// then Parse and Describe of the bare statement for its column types.
/// nullopt when the statement turns out to be something COPY cannot take
/// (no columns, $n parameters): the transaction is open, and the caller runs
/// it row by row.
std::optional<JobResult> run_query_copy(Session& session, JobContext& ctx, const std::string& tag);

}  // namespace outpost::connectors::postgres
