#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgres/pg_jobs.hpp"
#include "postgres/pg_query_support.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {
namespace {

// BEGIN READ ONLY and the transaction's settings as one simple-protocol
// message (the job's application_name was set when the session was checked out).
std::string begin_sql(const JobContext& ctx) {
  std::string sql = "BEGIN READ ONLY; " + statement_timeout_sql(ctx);
  for (const auto& s : kOutputSettings) {
    sql += "; SET LOCAL " + std::string(s.name) + " = '" + s.value + "'";
  }
  return sql;
}

}  // namespace

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

namespace {

// One statement's result stream, read one row per PGresult: the column plan
// (made from the first row's description), rows written, and why reading
// stopped. run_query() drives it; each step is one kind of PGresult.
class QueryStream {
 public:
  QueryStream(Session& session, JobContext& ctx) : session_(session), ctx_(ctx) {}

  /// Handles one PGresult; false when the rest of the stream is not wanted.
  /// Not const: libpq's PQcmdStatus() takes a mutable PGresult.
  bool consume(PGresult* r) {
    switch (PQresultStatus(r)) {
      case PGRES_SINGLE_TUPLE:
        if (!error_) write_row(r);  // else draining after an error
        break;
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
        if (!planned_) plan_from(r);
        last_status_ = PQcmdStatus(r);
        break;
      case PGRES_EMPTY_QUERY: break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        error_ = JobResult::failure(ErrorCode::kUnsupported,
                                    "COPY is not supported in a query job; use SELECT");
        stopped_ = true;
        break;
      default:
        if (!error_) {
          error_ = takes_parameters(r)
                       ? JobResult::failure(
                             ErrorCode::kInvalidJob,
                             "the statement has $n parameters; query jobs take literal SQL")
                       : failure_from(r, session_, ctx_);
        }
        break;
    }
    return !truncated_ && !stopped_;
  }

  /// The job's result once the stream has ended (or was cut short).
  JobResult finish(PGconn* conn) {
    if (ctx_.cancel.cancelled()) return cancelled_result(ctx_.cancel);
    if (error_) return std::move(*error_);
    if (session_.abandoned() && !truncated_ && !stopped_) {
      return failure_from(nullptr, session_, ctx_);
    }
    if (!session_.abandoned() && PQtransactionStatus(conn) == PQTRANS_IDLE) {
      // The statement ended the job's READ ONLY transaction (COMMIT, ROLLBACK,
      // PREPARE TRANSACTION): whatever it returned is refused, and the session
      // is closed rather than trusted again.
      session_.retire();
      return JobResult::failure(ErrorCode::kReadOnlyViolation,
                                "the statement ended the job's read-only transaction (" +
                                    last_status_ +
                                    "); transaction control is not allowed in query jobs");
    }
    if (names_pending_) {
      if (auto failed = name_pending_types()) return std::move(*failed);
    }
    // The read-only transaction stays open: the connector's reset rolls it
    // back together with the session clean-up, in one round trip.
    nlohmann::json result = nlohmann::json::object();
    if (truncated_) result["truncated"] = true;
    return JobResult::success(std::move(result));
  }

 private:
  void plan_from(const PGresult* desc) {
    planned_ = true;
    for (int i = 0; i < PQnfields(desc); ++i) oids_.push_back(PQftype(desc, i));
    names_pending_ = describe_columns(desc, plan_);
    if (!names_pending_) ctx_.sink.set_columns(plan_.columns);
  }

  void write_row(const PGresult* r) {
    if (!planned_) plan_from(r);
    if (ctx_.job.query.max_rows && written_ >= *ctx_.job.query.max_rows) {
      truncated_ = true;
      return;
    }
    RowWriter& row = ctx_.sink.begin_row();
    const int ncols = static_cast<int>(plan_.kinds.size());
    std::size_t row_bytes = 0;
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(r, 0, c) != 0) {
        row.null_value();
        continue;
      }
      const auto len = static_cast<std::size_t>(PQgetlength(r, 0, c));
      row_bytes += len;
      // write_value checks row.fits() before any conversion copy.
      write_value(row, plan_.kinds[static_cast<std::size_t>(c)],
                  std::string_view(PQgetvalue(r, 0, c), len));
    }
    // libpq keeps its input buffer at the largest message it has read:
    // a session that carried a huge row is closed, not pooled with it.
    if (row_bytes > kMaxPooledRowBytes) session_.retire();
    if (ctx_.sink.end_row()) {
      ++written_;
    } else {
      stopped_ = true;
    }
  }

  // Non-builtin types are named after the stream, when the connection is free.
  std::optional<JobResult> name_pending_types() {
    if (!session_.abandoned()) {
      if (auto failed = name_types(session_, ctx_, oids_, plan_)) return failed;
    } else {
      // Cut short (max_rows, result limits): the session is closed, so a
      // type that is not built in cannot be looked up any more.
      for (auto& column : plan_.columns) {
        if (column.type.empty()) column.type = "unknown";
      }
    }
    ctx_.sink.set_columns(plan_.columns);
    return std::nullopt;
  }

  Session& session_;
  JobContext& ctx_;
  ColumnPlan plan_;
  bool planned_ = false;
  bool names_pending_ = false;  // non-builtin types, named after the stream
  std::vector<Oid> oids_;
  std::uint64_t written_ = 0;
  bool truncated_ = false;
  bool stopped_ = false;
  std::optional<JobResult> error_;
  std::string last_status_;  // the statement's command tag ("SELECT 3", "COMMIT")
};

}  // namespace

JobResult run_query(Session& session, JobContext& ctx, const std::string& tag) {
  PGconn* conn = session.raw();
  if (copy_eligible(ctx.job.query.sql)) {
    if (auto copied = run_query_copy(session, ctx, tag)) return std::move(*copied);
  } else {
    auto begin = session.exec_simple(begin_sql(ctx));
    if (!succeeded(begin)) return failure_from(begin.get(), session, ctx);
  }

  // Parse, bind, describe and execute in one round trip (the extended
  // protocol takes exactly one statement, so "SELECT 1; DROP …" is refused).
  // The field descriptions arrive with the first row, or with the final
  // result when there is none.
  if (PQsendQueryParams(conn, ctx.job.query.sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr,
                        0) != 1) {
    return failure_from(nullptr, session, ctx);
  }
  // One row per PGresult: memory stays at one row however large the result.
  PQsetSingleRowMode(conn);

  QueryStream stream(session, ctx);
  while (auto r = session.next_result()) {
    if (!stream.consume(r.get())) {
      // The rest of the stream is not wanted: close the session rather than
      // read it (PQfinish makes the server stop at its next write).
      session.poison();
      break;
    }
  }
  return stream.finish(conn);
}

}  // namespace outpost::connectors::postgres
