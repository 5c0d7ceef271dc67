#include <optional>
#include <string>
#include <vector>

#include "postgres/pg_jobs.hpp"
#include "postgres/pg_values.hpp"

namespace outpost::connectors::postgres {
namespace {

// Output settings the value mapping relies on, local to the job's
// transaction: ISO dates, hex bytea, shortest round-trip floats.
constexpr const char* kSessionSettings =
    "SET LOCAL DateStyle = 'ISO'; SET LOCAL IntervalStyle = 'postgres'; "
    "SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 1";

constexpr const char* kStatement = "outpost_query";

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

bool succeeded(const ResultPtr& r) {
  return r && (PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
               PQresultStatus(r.get()) == PGRES_TUPLES_OK);
}

struct ColumnPlan {
  std::vector<Column> columns;
  std::vector<ValueKind> kinds;
};

// Names every result column; types that are not built in (enums, domains,
// extension types) are named by one catalog lookup.
std::optional<JobResult> plan_columns(Session& session, JobContext& ctx, const PGresult* desc,
                                      ColumnPlan& plan) {
  const int n = PQnfields(desc);
  std::vector<int> unknown;
  for (int i = 0; i < n; ++i) {
    const Oid oid = PQftype(desc, i);
    const auto builtin = builtin_type(oid);
    plan.columns.push_back(Column{PQfname(desc, i), builtin ? std::string(builtin->name) : ""});
    plan.kinds.push_back(builtin ? builtin->kind : ValueKind::kText);
    if (!builtin) unknown.push_back(i);
  }
  if (unknown.empty()) return std::nullopt;
  std::string oids = "{";
  for (int i : unknown) oids += (oids.size() > 1 ? "," : "") + std::to_string(PQftype(desc, i));
  oids += "}";
  auto names = session.exec(
      "SELECT t.oid, pg_catalog.format_type(t.oid, NULL) FROM pg_catalog.pg_type t "
      "WHERE t.oid = ANY ($1::oid[])",
      {oids});
  if (!names || PQresultStatus(names.get()) != PGRES_TUPLES_OK) {
    return failure_from(names.get(), session, ctx);
  }
  for (int row = 0; row < PQntuples(names.get()); ++row) {
    const auto oid = static_cast<Oid>(std::stoul(PQgetvalue(names.get(), row, 0)));
    for (int i : unknown) {
      if (PQftype(desc, i) == oid)
        plan.columns[static_cast<std::size_t>(i)].type = PQgetvalue(names.get(), row, 1);
    }
  }
  return std::nullopt;
}

}  // namespace

JobResult run_query(Session& session, JobContext& ctx) {
  const auto& p = ctx.job.params;
  if (!p.is_object() || !p.contains("sql") || !p["sql"].is_string() ||
      p["sql"].get_ref<const std::string&>().find_first_not_of(" \t\r\n") == std::string::npos) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "query params: \"sql\" must be a non-empty string");
  }
  const std::string& sql = p["sql"].get_ref<const std::string&>();
  std::optional<std::uint64_t> max_rows;
  if (auto it = p.find("max_rows"); it != p.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      return JobResult::failure(ErrorCode::kInvalidJob,
                                "query params: \"max_rows\" must be a non-negative integer");
    }
    max_rows = it->get<std::uint64_t>();
  }
  PGconn* conn = session.raw();

  auto begin = session.exec_simple("BEGIN READ ONLY; " + statement_timeout_sql(ctx) + "; " +
                                   kSessionSettings);
  if (!succeeded(begin)) return failure_from(begin.get(), session, ctx);

  // Parse (a prepared statement holds exactly one statement), then describe,
  // so the columns are known even for an empty result and syntax errors come
  // early. Named, because the type lookup below reuses the unnamed statement;
  // DISCARD ALL drops it before the session is pooled again.
  if (PQsendPrepare(conn, kStatement, sql.c_str(), 0, nullptr) != 1) {
    return failure_from(nullptr, session, ctx);
  }
  auto prepared = session.collect();
  if (!succeeded(prepared)) return failure_from(prepared.get(), session, ctx);
  if (PQsendDescribePrepared(conn, kStatement) != 1) return failure_from(nullptr, session, ctx);
  auto desc = session.collect();
  if (!succeeded(desc)) return failure_from(desc.get(), session, ctx);
  if (PQnparams(desc.get()) > 0) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "the statement has $n parameters; query jobs take literal SQL");
  }
  ColumnPlan plan;
  if (auto failed = plan_columns(session, ctx, desc.get(), plan)) return std::move(*failed);
  const int ncols = PQnfields(desc.get());
  desc.reset();
  ctx.sink.set_columns(plan.columns);

  if (PQsendQueryPrepared(conn, kStatement, 0, nullptr, nullptr, nullptr, 0) != 1) {
    return failure_from(nullptr, session, ctx);
  }
  // One row per PGresult: memory stays at one row however large the result.
  PQsetSingleRowMode(conn);

  std::uint64_t written = 0;
  bool truncated = false;
  bool stopped = false;
  std::optional<JobResult> error;
  while (auto r = session.next_result()) {
    switch (PQresultStatus(r.get())) {
      case PGRES_SINGLE_TUPLE: {
        if (error) break;  // draining after an error
        if (max_rows && written >= *max_rows) {
          truncated = true;
          break;
        }
        RowWriter& row = ctx.sink.begin_row();
        for (int c = 0; c < ncols; ++c) {
          if (PQgetisnull(r.get(), 0, c) != 0) {
            row.null_value();
          } else {
            write_value(row, plan.kinds[static_cast<std::size_t>(c)],
                        std::string_view(PQgetvalue(r.get(), 0, c),
                                         static_cast<std::size_t>(PQgetlength(r.get(), 0, c))));
          }
        }
        if (!ctx.sink.end_row()) {
          stopped = true;
        } else {
          ++written;
        }
        break;
      }
      case PGRES_TUPLES_OK:
      case PGRES_COMMAND_OK:
      case PGRES_EMPTY_QUERY: break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        error = JobResult::failure(ErrorCode::kUnsupported,
                                   "COPY is not supported in a query job; use SELECT");
        stopped = true;
        break;
      default:
        if (!error) error = failure_from(r.get(), session, ctx);
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
  if (!session.abandoned()) {
    auto rollback = session.exec_simple("ROLLBACK");
    if (!succeeded(rollback)) return failure_from(rollback.get(), session, ctx);
  }
  nlohmann::json result = nlohmann::json::object();
  if (truncated) result["truncated"] = true;
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
