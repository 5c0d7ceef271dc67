// The monitor jobs of jobs-v1.1 on PostgreSQL: `volume` (the planner's
// estimate, or count(*)) and `freshness` (max of a date/timestamp column, or
// the commit timestamps when track_commit_timestamp is on).
//
// The table is resolved through the catalog with to_regclass over
// quote_ident'ed names, so a name is never spliced into SQL: the statements
// that read the table use regclass's own quoted text of it.
#include <cstdlib>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/monitors.hpp"
#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

using common::FreshnessSource;

constexpr const char* kResolveSql =
    "SELECT c.oid, c.oid::pg_catalog.regclass::text, c.relkind, c.reltuples::bigint, "
    "(SELECT sum(ch.reltuples)::bigint FROM pg_catalog.pg_inherits i "
    "JOIN pg_catalog.pg_class ch ON ch.oid = i.inhrelid "
    "WHERE i.inhparent = c.oid AND ch.reltuples >= 0) "
    "FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass("
    "CASE WHEN $1 = '' THEN pg_catalog.quote_ident($2) "
    "ELSE pg_catalog.quote_ident($1) || '.' || pg_catalog.quote_ident($2) END) "
    "AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
    "AND pg_catalog.has_table_privilege(c.oid, 'SELECT')";

bool tuples(const ResultPtr& r) {
  return r && PQresultStatus(r.get()) == PGRES_TUPLES_OK;
}

std::optional<std::int64_t> optional_int(const PGresult* r, int col) {
  if (PQgetisnull(r, 0, col)) return std::nullopt;
  return std::strtoll(PQgetvalue(r, 0, col), nullptr, 10);
}

}  // namespace

std::variant<Relation, JobResult> open_relation(Session& session, JobContext& ctx,
                                                const TableRef& target) {
  auto begin = session.exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " +
                                   statement_timeout_sql(ctx));
  if (!begin || PQresultStatus(begin.get()) != PGRES_COMMAND_OK) {
    return statement_failure(begin.get(), ctx);
  }
  auto r = session.exec(kResolveSql, {target.schema.value_or(""), target.table});
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  if (PQntuples(r.get()) != 1) return common::table_not_found(target);
  Relation rel;
  rel.oid = PQgetvalue(r.get(), 0, 0);
  rel.name = PQgetvalue(r.get(), 0, 1);
  rel.kind = PQgetvalue(r.get(), 0, 2)[0];
  const auto own = optional_int(r.get(), 3);
  if ((rel.kind == 'r' || rel.kind == 'm') && own && *own >= 0) rel.estimate = own;
  if (rel.kind == 'p') rel.estimate = optional_int(r.get(), 4);
  return rel;
}

namespace {

// One value of one row: the statement's only cell (null → nullopt).
std::variant<std::optional<std::string>, JobResult> single_value(Session& session, JobContext& ctx,
                                                                 const std::string& sql) {
  auto r = session.exec(sql);
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  if (PQntuples(r.get()) != 1 || PQnfields(r.get()) != 1) {
    return JobResult::failure(ErrorCode::kInternal, "unexpected answer to " + sql);
  }
  if (PQgetisnull(r.get(), 0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(PQgetvalue(r.get(), 0, 0));
}

// to_char patterns that print ISO 8601 whatever the session's DateStyle.
std::optional<std::string> iso_expression(const std::string& type, const std::string& column) {
  if (type == "timestamp with time zone") {
    return "pg_catalog.to_char(max(" + column +
           ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
  }
  if (type == "timestamp without time zone") {
    return "pg_catalog.to_char(max(" + column + "), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS')";
  }
  if (type == "date") return "pg_catalog.to_char(max(" + column + "), 'YYYY-MM-DD')";
  return std::nullopt;
}

JobResult column_freshness(Session& session, JobContext& ctx, const Relation& rel,
                           const std::string& column) {
  const auto& target = ctx.job.freshness.target;
  auto r = session.exec(
      "SELECT pg_catalog.quote_ident(a.attname), pg_catalog.format_type(a.atttypid, NULL) "
      "FROM pg_catalog.pg_attribute a WHERE a.attrelid = $1::oid AND a.attname = $2 "
      "AND a.attnum > 0 AND NOT a.attisdropped",
      {rel.oid, column});
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  if (PQntuples(r.get()) != 1) return common::column_not_found(target, column);
  const std::string type = PQgetvalue(r.get(), 0, 1);
  const auto expr = iso_expression(type, PQgetvalue(r.get(), 0, 0));
  if (!expr) {
    return JobResult::failure(ErrorCode::kInvalidJob,
                              "column '" + column + "' of '" + common::describe(target) + "' is " +
                                  type + "; freshness needs a date or timestamp column");
  }
  auto value = single_value(session, ctx, "SELECT " + *expr + " FROM " + rel.name);
  if (auto* failed = std::get_if<JobResult>(&value)) return std::move(*failed);
  return common::freshness_result(std::get<0>(value), FreshnessSource::kColumn);
}

// Without a column: the newest commit timestamp of the table's rows, which
// PostgreSQL keeps only with track_commit_timestamp = on (a scan).
JobResult catalog_freshness(Session& session, JobContext& ctx, const Relation& rel) {
  auto setting =
      single_value(session, ctx, "SELECT pg_catalog.current_setting('track_commit_timestamp')");
  if (auto* failed = std::get_if<JobResult>(&setting)) return std::move(*failed);
  if (std::get<0>(setting).value_or("off") != "on" || rel.kind == 'v' || rel.kind == 'f') {
    return JobResult::failure(
        ErrorCode::kUnsupported,
        "PostgreSQL keeps no last-modified time for a table" +
            std::string(rel.kind == 'v' || rel.kind == 'f'
                            ? " (and '" + rel.name + "' is a view or foreign table)"
                            : " unless track_commit_timestamp is on") +
            "; give params.column, a date or timestamp column of the table");
  }
  auto value =
      single_value(session, ctx,
                   "SELECT pg_catalog.to_char(max(pg_catalog.pg_xact_commit_timestamp("
                   "xmin)) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') FROM " +
                       rel.name);
  if (auto* failed = std::get_if<JobResult>(&value)) return std::move(*failed);
  return common::freshness_result(std::get<0>(value), FreshnessSource::kCatalog);
}

}  // namespace

JobResult run_volume(Session& session, JobContext& ctx) {
  auto opened = open_relation(session, ctx, ctx.job.volume.target);
  if (auto* failed = std::get_if<JobResult>(&opened)) return std::move(*failed);
  const auto& rel = std::get<Relation>(opened);
  if (!ctx.job.volume.exact && rel.estimate) return common::volume_result(*rel.estimate, false);
  // Asked for, or no estimate to give (a view, a table never analysed).
  auto count = single_value(session, ctx, "SELECT count(*) FROM " + rel.name);
  if (auto* failed = std::get_if<JobResult>(&count)) return std::move(*failed);
  return common::volume_result(std::strtoll(std::get<0>(count).value_or("0").c_str(), nullptr, 10),
                               true);
}

JobResult run_freshness(Session& session, JobContext& ctx) {
  auto opened = open_relation(session, ctx, ctx.job.freshness.target);
  if (auto* failed = std::get_if<JobResult>(&opened)) return std::move(*failed);
  const auto& rel = std::get<Relation>(opened);
  if (ctx.job.freshness.column)
    return column_freshness(session, ctx, rel, *ctx.job.freshness.column);
  return catalog_freshness(session, ctx, rel);
}

}  // namespace outpost::connectors::postgres
