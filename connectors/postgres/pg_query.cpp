#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgres/pg_jobs.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {
namespace {

// Output settings the value mapping relies on, local to the job's
// transaction: ISO dates, hex bytea, shortest round-trip floats.
// Rows larger than this retire the session after the job (see above).
constexpr std::size_t kMaxPooledRowBytes = 8u << 20;

constexpr const char* kSessionSettings =
    "SET LOCAL DateStyle = 'ISO'; SET LOCAL IntervalStyle = 'postgres'; "
    "SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 1";

JobResult failure_from(const PGresult* r, Session& session, JobContext& ctx) {
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  if (r == nullptr) {
    return JobResult::failure(
        ErrorCode::kUnreachable,
        session.abandoned() ? "server stopped answering" : session.error_message(), true);
  }
  const auto e = map_statement_error(r, ctx.cancel.reason());
  return JobResult::failure(e.code, e.message, e.retryable);
}

// Bind sent no values for the statement's $n placeholders: the server calls
// it a protocol violation (08P01), but it is the job's SQL that is wrong.
bool takes_parameters(const PGresult* r) {
  const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* text = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
  return state != nullptr && text != nullptr && std::string_view(state) == "08P01" &&
         std::string_view(text).starts_with("bind message supplies 0 parameters");
}

bool succeeded(const ResultPtr& r) {
  return r && (PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
               PQresultStatus(r.get()) == PGRES_TUPLES_OK);
}

struct ColumnPlan {
  std::vector<Column> columns;
  std::vector<ValueKind> kinds;
};

// Maps every result column to a value kind and names the built-in types;
// true when some type (enum, domain, extension type) needs a catalog lookup.
bool describe_columns(const PGresult* desc, ColumnPlan& plan) {
  bool unknown = false;
  for (int i = 0; i < PQnfields(desc); ++i) {
    const auto builtin = builtin_type(PQftype(desc, i));
    plan.columns.push_back(Column{PQfname(desc, i), builtin ? std::string(builtin->name) : ""});
    plan.kinds.push_back(builtin ? builtin->kind : ValueKind::kText);
    unknown = unknown || !builtin;
  }
  return unknown;
}

// Names the columns describe_columns() could not, with one catalog lookup.
std::optional<JobResult> name_types(Session& session, JobContext& ctx, const std::vector<Oid>& oids,
                                    ColumnPlan& plan) {
  std::string list = "{";
  for (std::size_t i = 0; i < oids.size(); ++i) {
    if (!plan.columns[i].type.empty()) continue;
    list += (list.size() > 1 ? "," : "") + std::to_string(oids[i]);
  }
  list += "}";
  auto names = session.exec(
      "SELECT t.oid, pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t "
      "WHERE t.oid = ANY ($1::oid[])",
      {list});
  if (!names || PQresultStatus(names.get()) != PGRES_TUPLES_OK) {
    return failure_from(names.get(), session, ctx);
  }
  for (int row = 0; row < PQntuples(names.get()); ++row) {
    const auto oid = static_cast<Oid>(std::stoul(PQgetvalue(names.get(), row, 0)));
    for (std::size_t i = 0; i < oids.size(); ++i) {
      if (oids[i] == oid && plan.columns[i].type.empty())
        plan.columns[i].type = PQgetvalue(names.get(), row, 1);
    }
  }
  return std::nullopt;
}

}  // namespace

JobResult run_query(Session& session, JobContext& ctx) {
  const std::string& sql = ctx.job.query.sql;
  const std::optional<std::uint64_t>& max_rows = ctx.job.query.max_rows;
  PGconn* conn = session.raw();

  auto begin = session.exec_simple("BEGIN READ ONLY; " + statement_timeout_sql(ctx) + "; " +
                                   kSessionSettings);
  if (!succeeded(begin)) return failure_from(begin.get(), session, ctx);

  // Parse, bind, describe and execute in one round trip (the extended
  // protocol takes exactly one statement, so "SELECT 1; DROP …" is refused).
  // The field descriptions arrive with the first row, or with the final
  // result when there is none.
  if (PQsendQueryParams(conn, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
    return failure_from(nullptr, session, ctx);
  }
  // One row per PGresult: memory stays at one row however large the result.
  PQsetSingleRowMode(conn);

  ColumnPlan plan;
  bool planned = false;
  bool names_pending = false;  // non-builtin types, named after the stream
  std::vector<Oid> oids;
  auto plan_from = [&](const PGresult* desc) {
    planned = true;
    for (int i = 0; i < PQnfields(desc); ++i) oids.push_back(PQftype(desc, i));
    names_pending = describe_columns(desc, plan);
    if (!names_pending) ctx.sink.set_columns(plan.columns);
  };

  std::uint64_t written = 0;
  bool truncated = false;
  bool stopped = false;
  std::optional<JobResult> error;
  std::string last_status;  // the statement's command tag ("SELECT 3", "COMMIT")
  while (auto r = session.next_result()) {
    switch (PQresultStatus(r.get())) {
      case PGRES_SINGLE_TUPLE: {
        if (error) break;  // draining after an error
        if (!planned) plan_from(r.get());
        if (max_rows && written >= *max_rows) {
          truncated = true;
          break;
        }
        RowWriter& row = ctx.sink.begin_row();
        const int ncols = static_cast<int>(plan.kinds.size());
        std::size_t row_bytes = 0;
        for (int c = 0; c < ncols; ++c) {
          if (PQgetisnull(r.get(), 0, c) != 0) {
            row.null_value();
          } else {
            const auto len = static_cast<std::size_t>(PQgetlength(r.get(), 0, c));
            row_bytes += len;
            // write_value checks row.fits() before any conversion copy.
            write_value(row, plan.kinds[static_cast<std::size_t>(c)],
                        std::string_view(PQgetvalue(r.get(), 0, c), len));
          }
        }
        // libpq keeps its input buffer at the largest message it has read:
        // a session that carried a huge row is closed, not pooled with it.
        if (row_bytes > kMaxPooledRowBytes) session.retire();
        if (!ctx.sink.end_row()) {
          stopped = true;
        } else {
          ++written;
        }
        break;
      }
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        if (!planned) plan_from(r.get());
        last_status = PQcmdStatus(r.get());
        break;
      case PGRES_EMPTY_QUERY: break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        error = JobResult::failure(ErrorCode::kUnsupported,
                                   "COPY is not supported in a query job; use SELECT");
        stopped = true;
        break;
      default:
        if (!error) {
          error = takes_parameters(r.get())
                      ? JobResult::failure(
                            ErrorCode::kInvalidJob,
                            "the statement has $n parameters; query jobs take literal SQL")
                      : failure_from(r.get(), session, ctx);
        }
        break;
    }
    // The rest of the stream is not wanted: close the session rather than
    // read it (PQfinish makes the server stop at its next write).
    if (truncated || stopped) {
      session.poison();
      break;
    }
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  if (error) return std::move(*error);
  if (session.abandoned() && !truncated && !stopped) return failure_from(nullptr, session, ctx);
  if (!session.abandoned() && PQtransactionStatus(conn) == PQTRANS_IDLE) {
    // The statement ended the job's READ ONLY transaction (COMMIT, ROLLBACK,
    // PREPARE TRANSACTION): whatever it returned is refused, and the session
    // is closed rather than trusted again.
    session.retire();
    return JobResult::failure(ErrorCode::kReadOnlyViolation,
                              "the statement ended the job's read-only transaction (" +
                                  std::string(last_status) +
                                  "); transaction control is not allowed in query jobs");
  }
  if (names_pending) {
    if (!session.abandoned()) {
      // Only now is the connection free for the catalog lookup.
      if (auto failed = name_types(session, ctx, oids, plan)) return std::move(*failed);
    } else {
      // Cut short (max_rows, result limits): the session is closed, so a
      // type that is not built in cannot be looked up any more.
      for (auto& column : plan.columns) {
        if (column.type.empty()) column.type = "unknown";
      }
    }
    ctx.sink.set_columns(plan.columns);
  }
  // The read-only transaction stays open: the connector's reset rolls it
  // back together with the session clean-up, in one round trip.
  nlohmann::json result = nlohmann::json::object();
  if (truncated) result["truncated"] = true;
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
