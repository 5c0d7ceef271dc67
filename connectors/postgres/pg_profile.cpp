// The `profile` job of jobs-v1.1 on PostgreSQL. A table is resolved as the
// monitors resolve it (to_regclass over quote_ident'ed names, regclass's own
// quoted text in the SQL); a query becomes a subquery, described by a LIMIT 0
// run. Sampling: TABLESAMPLE SYSTEM (REPEATABLE, so the top-k and histogram
// statements see the same pages) for tables and materialized views, a
// random() filter for the rest, ORDER BY random() LIMIT n for sample_rows.
// The statements themselves are common/profile's.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <variant>
#include <vector>

#include "common/profile.hpp"
#include "postgres/pg_jobs.hpp"

namespace outpost::connectors::postgres {
namespace {

using common::ProfileColumn;
using common::ProfileKind;
using common::SqlRows;

// ISO dates and UTC for min/max of temporal columns, shortest exact floats.
constexpr const char* kSettings =
    "SET LOCAL DateStyle = 'ISO'; SET LOCAL TimeZone = 'UTC'; SET LOCAL extra_float_digits = 1";

const common::ProfileDialect& dialect() {
  static const common::ProfileDialect d = [] {
    common::ProfileDialect out;
    out.quote = '"';
    out.length_fn = "pg_catalog.length";
    out.variance_fn = "pg_catalog.var_samp";
    out.bool_min = "pg_catalog.bool_and";
    out.bool_max = "pg_catalog.bool_or";
    out.as_text = [](const std::string& e) { return "(" + e + ")::text"; };
    out.as_double = [](const std::string& e) { return "(" + e + ")::float8"; };
    out.floor = [](const std::string& e) { return "pg_catalog.floor(" + e + ")"; };
    return out;
  }();
  return d;
}

ProfileKind kind_of(const std::string& oid, char category) {
  const long id = std::strtol(oid.c_str(), nullptr, 10);
  if (id == 20 || id == 21 || id == 23) return ProfileKind::kInteger;
  if (id == 700 || id == 701) return ProfileKind::kFloat;
  if (id == 1700) return ProfileKind::kDecimal;
  if (category == 'S') return ProfileKind::kText;
  if (category == 'D') return ProfileKind::kTemporal;
  if (category == 'B') return ProfileKind::kBoolean;
  return ProfileKind::kOther;
}

// Rows of (name, type, oid, typcategory) as profile columns.
std::vector<ProfileColumn> columns_of(const PGresult* r) {
  std::vector<ProfileColumn> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r)));
  for (int i = 0; i < PQntuples(r); ++i) {
    out.push_back({PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   kind_of(PQgetvalue(r, i, 2), PQgetvalue(r, i, 3)[0])});
  }
  return out;
}

std::string percent_text(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", p);
  return buf;
}

// The FROM item of the (sampled) relation, and how it was sampled.
void sample(const ProfileParams& p, const std::string& base, bool table_sample,
            common::ProfileSource& out) {
  if (p.sample_percent) {
    const std::string pct = percent_text(*p.sample_percent);
    if (table_sample) {
      out.from = base + " TABLESAMPLE SYSTEM (" + pct + ") REPEATABLE (0)";
      out.sample = "system " + pct + "%";
    } else {
      out.from = "(SELECT * FROM " + base + " WHERE pg_catalog.random() < " +
                 percent_text(*p.sample_percent / 100.0) + ") AS s";
      out.sample = "bernoulli " + pct + "%";
    }
  } else if (p.sample_rows) {
    out.from = "(SELECT * FROM " + base + " ORDER BY pg_catalog.random() LIMIT " +
               std::to_string(*p.sample_rows) + ") AS s";
    out.sample = "random " + std::to_string(*p.sample_rows) + " rows";
  } else {
    out.from = base;
  }
}

bool tuples(const ResultPtr& r) {
  return r && PQresultStatus(r.get()) == PGRES_TUPLES_OK;
}

bool command_ok(const ResultPtr& r) {
  return r && PQresultStatus(r.get()) == PGRES_COMMAND_OK;
}

using Described = std::variant<std::vector<ProfileColumn>, JobResult>;

Described describe_table(Session& session, JobContext& ctx, const TableRef& target,
                         common::ProfileSource& out) {
  auto opened = open_relation(session, ctx, target);
  if (auto* failed = std::get_if<JobResult>(&opened)) return std::move(*failed);
  const auto& rel = std::get<Relation>(opened);
  auto set = session.exec_simple(kSettings);
  if (!command_ok(set)) return statement_failure(set.get(), ctx);
  auto r = session.exec(
      "SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, "
      "t.typcategory FROM pg_catalog.pg_attribute a "
      "JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
      "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      {rel.oid});
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  sample(ctx.job.profile, rel.name, rel.kind == 'r' || rel.kind == 'm' || rel.kind == 'p', out);
  out.estimate = rel.estimate;
  return columns_of(r.get());
}

Described describe_query(Session& session, JobContext& ctx, common::ProfileSource& out) {
  auto begin = session.exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; " +
                                   statement_timeout_sql(ctx) + "; " + kSettings);
  if (!command_ok(begin)) return statement_failure(begin.get(), ctx);
  const std::string base = "(" + common::subquery_text(*ctx.job.profile.sql) + ") AS q";
  auto shape = session.exec("SELECT * FROM " + base + " LIMIT 0");
  if (!tuples(shape)) return statement_failure(shape.get(), ctx);
  std::vector<std::string> oids;
  oids.reserve(static_cast<std::size_t>(PQnfields(shape.get())));
  for (int i = 0; i < PQnfields(shape.get()); ++i) {
    oids.push_back(std::to_string(PQftype(shape.get(), i)));
  }
  auto r = session.exec(
      "SELECT NULL, pg_catalog.format_type(u.o, NULL), u.o, t.typcategory "
      "FROM unnest($1::oid[]) WITH ORDINALITY AS u(o, i) "
      "JOIN pg_catalog.pg_type t ON t.oid = u.o ORDER BY u.i",
      {text_array_literal(oids)});
  if (!tuples(r)) return statement_failure(r.get(), ctx);
  auto columns = columns_of(r.get());
  for (int i = 0; i < PQnfields(shape.get()) && i < static_cast<int>(columns.size()); ++i) {
    columns[static_cast<std::size_t>(i)].name = PQfname(shape.get(), i);
  }
  sample(ctx.job.profile, base, false, out);
  return columns;
}

}  // namespace

JobResult run_profile(Session& session, JobContext& ctx) {
  const auto& params = ctx.job.profile;
  common::ProfileSource source;
  auto described = params.target ? describe_table(session, ctx, *params.target, source)
                                 : describe_query(session, ctx, source);
  if (auto* failed = std::get_if<JobResult>(&described)) return std::move(*failed);
  auto picked = common::pick_columns(std::move(std::get<0>(described)), params.columns,
                                     common::profile_subject(params));
  if (auto* failed = std::get_if<JobResult>(&picked)) return std::move(*failed);
  source.columns = std::move(std::get<0>(picked));
  auto run = [&](const std::string& sql) -> std::variant<SqlRows, JobResult> {
    auto r = session.exec(sql);
    if (!tuples(r)) return statement_failure(r.get(), ctx);
    SqlRows rows;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      auto& row = rows.emplace_back();
      for (int c = 0; c < PQnfields(r.get()); ++c) {
        row.push_back(PQgetisnull(r.get(), i, c)
                          ? std::nullopt
                          : std::optional<std::string>(PQgetvalue(r.get(), i, c)));
      }
    }
    return rows;
  };
  return common::run_profile(params, source, dialect(), run);
}

}  // namespace outpost::connectors::postgres
