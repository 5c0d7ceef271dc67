#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

// Schemas the role cannot use are left out: their tables could not be queried.
// Both cursors filter and order relations identically inside one snapshot
// (REPEATABLE READ), so the column stream visits relations in the same order
// as the relation stream and the two merge in one pass with bounded memory.
constexpr const char* kRelationFilter = R"SQL(
  c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND ($1::text = '' OR n.nspname = ANY ((CASE WHEN $1::text = '' THEN '{}' ELSE $1::text END)::text[]))
  AND ($2::bool OR c.relkind NOT IN ('v', 'm'))
)SQL";
constexpr const char* kSchemaFilter = R"SQL(
  n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND ($1::text = '' OR n.nspname = ANY ((CASE WHEN $1::text = '' THEN '{}' ELSE $1::text END)::text[]))
)SQL";
constexpr const char* kRelationOrder =
    " ORDER BY n.nspname COLLATE \"C\", c.relname COLLATE \"C\", c.oid";

constexpr int kRelationBatch = 500;
constexpr int kColumnBatch = 5000;

const char* kind_name(char relkind) {
  switch (relkind) {
    case 'v': return "view";
    case 'm': return "materialized_view";
    case 'f': return "foreign_table";
    default: return "table";
  }
}

// Reads a cursor batch by batch.
class CursorReader {
 public:
  CursorReader(Session& session, const std::string& name, int batch)
      : session_(session), fetch_("FETCH " + std::to_string(batch) + " FROM " + name) {}

  /// The next row index in current(), or -1 at the end; sets `failed` on error.
  int next(JobContext& ctx, std::optional<JobResult>& failed) {
    if (batch_ && ++row_ < PQntuples(batch_.get())) return row_;
    if (done_) return -1;
    batch_ = session_.exec(fetch_);
    row_ = 0;
    if (!batch_ || PQresultStatus(batch_.get()) != PGRES_TUPLES_OK) {
      if (ctx.cancel.cancelled() || !batch_) {
        failed = cancelled_result(ctx.cancel);
        if (!ctx.cancel.cancelled()) {
          failed = JobResult::failure(ErrorCode::kUnreachable, "server stopped answering", true);
        }
      } else {
        const auto e = map_statement_error(batch_.get(), ctx.cancel.reason());
        failed = JobResult::failure(e.code, e.message, e.retryable);
      }
      done_ = true;
      return -1;
    }
    if (PQntuples(batch_.get()) == 0) {
      done_ = true;
      return -1;
    }
    return row_;
  }
  [[nodiscard]] const PGresult* current() const { return batch_.get(); }

 private:
  Session& session_;
  std::string fetch_;
  ResultPtr batch_;
  int row_ = -1;
  bool done_ = false;
};

JobResult statement_failure(const PGresult* r, JobContext& ctx) {
  if (r == nullptr) {
    if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
    return JobResult::failure(ErrorCode::kUnreachable, "server stopped answering", true);
  }
  const auto e = map_statement_error(r, ctx.cancel.reason());
  return JobResult::failure(e.code, e.message, e.retryable);
}

bool ok(const ResultPtr& r) {
  return r && (PQresultStatus(r.get()) == PGRES_COMMAND_OK ||
               PQresultStatus(r.get()) == PGRES_TUPLES_OK);
}

}  // namespace

JobResult run_metadata(Session& session, JobContext& ctx) {
  const auto& schemas = ctx.job.metadata.schemas;
  const bool include_views = ctx.job.metadata.include_views;
  // Bound as text; "" means no filter (see kSchemaFilter).
  const std::vector<std::string> params{schemas ? text_array_literal(*schemas) : std::string(),
                                        include_views ? "true" : "false"};

  auto begin = session.exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " +
                                   statement_timeout_sql(ctx));
  if (!ok(begin)) return statement_failure(begin.get(), ctx);

  auto schema_rows =
      session.exec(std::string("SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE ") +
                       kSchemaFilter + " AND $2::bool IS NOT NULL ORDER BY n.nspname COLLATE \"C\"",
                   params);
  if (!schema_rows || PQresultStatus(schema_rows.get()) != PGRES_TUPLES_OK) {
    return statement_failure(schema_rows.get(), ctx);
  }
  nlohmann::json schema_names = nlohmann::json::array();
  for (int i = 0; i < PQntuples(schema_rows.get()); ++i) {
    schema_names.push_back(PQgetvalue(schema_rows.get(), i, 0));
  }
  schema_rows.reset();

  auto relations =
      session.exec(std::string("DECLARE outpost_rel NO SCROLL CURSOR FOR "
                               "SELECT c.oid, n.nspname, c.relname, c.relkind, c.reltuples "
                               "FROM pg_catalog.pg_class c "
                               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE ") +
                       kRelationFilter + kRelationOrder,
                   params);
  if (!ok(relations)) return statement_failure(relations.get(), ctx);
  auto columns = session.exec(
      std::string("DECLARE outpost_col NO SCROLL CURSOR FOR "
                  "SELECT a.attrelid, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), "
                  "NOT a.attnotnull, "
                  "pg_catalog.row_number() OVER (PARTITION BY a.attrelid ORDER BY a.attnum) "
                  "FROM pg_catalog.pg_attribute a "
                  "JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "
                  "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE a.attnum > 0 AND NOT a.attisdropped AND ") +
          kRelationFilter + kRelationOrder + ", a.attnum",
      params);
  if (!ok(columns)) return statement_failure(columns.get(), ctx);

  CursorReader rel_reader(session, "outpost_rel", kRelationBatch);
  CursorReader col_reader(session, "outpost_col", kColumnBatch);
  std::optional<JobResult> failed;
  int col = col_reader.next(ctx, failed);
  std::uint64_t table_count = 0;
  bool stopped = false;
  for (int rel = rel_reader.next(ctx, failed); rel >= 0 && !failed;
       rel = rel_reader.next(ctx, failed)) {
    const PGresult* r = rel_reader.current();
    const std::string oid = PQgetvalue(r, rel, 0);
    const char relkind = PQgetvalue(r, rel, 3)[0];
    Table table{PQgetvalue(r, rel, 1), PQgetvalue(r, rel, 2), kind_name(relkind), std::nullopt, {}};
    const double tuples = std::strtod(PQgetvalue(r, rel, 4), nullptr);
    // reltuples is -1 until the first VACUUM/ANALYZE (PostgreSQL 14+); views have none.
    if (relkind != 'v' && tuples >= 0) table.row_estimate = std::llround(tuples);
    while (col >= 0 && !failed && oid == PQgetvalue(col_reader.current(), col, 0)) {
      const PGresult* c = col_reader.current();
      table.columns.push_back(TableColumn{PQgetvalue(c, col, 1), PQgetvalue(c, col, 2),
                                          PQgetvalue(c, col, 3)[0] == 't',
                                          std::strtoll(PQgetvalue(c, col, 4), nullptr, 10)});
      col = col_reader.next(ctx, failed);
    }
    if (failed) break;
    if (!ctx.sink.add_table(table)) {
      stopped = true;
      break;
    }
    ++table_count;
    if (ctx.cancel.cancelled()) break;
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel);
  if (failed) return std::move(*failed);
  // The snapshot's transaction is rolled back by the connector's reset.

  nlohmann::json result = {{"database", PQdb(session.raw())}, {"schema_names", schema_names}};
  if (stopped) result["truncated"] = true;
  return JobResult::success(std::move(result));
}

}  // namespace outpost::connectors::postgres
