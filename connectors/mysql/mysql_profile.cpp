// The `profile` job of jobs-v1.1 on MySQL/MariaDB. A table is found in
// information_schema (escaped literals) and quoted with backticks; a query
// becomes a derived table. Columns and kinds come from the result's field
// descriptions (a LIMIT 0 run). Sampling: a seeded RAND() filter
// (sample_percent) or ORDER BY RAND(seed) LIMIT n, the same draw for the
// top-k and histogram statements while the rows keep their order. Every
// statement runs under the job's query killer and max_statement_time.
#include <mysql.h>

#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "common/profile.hpp"
#include "mysql/mysql_jobs.hpp"
#include "mysql/mysql_query_killer.hpp"
#include "mysql/mysql_sql_guard.hpp"
#include "mysql/mysql_values.hpp"

namespace outpost::connectors::mysql {
namespace {

using common::ProfileColumn;
using common::ProfileKind;

constexpr unsigned kBinaryCharset = 63;

const common::ProfileDialect& dialect() {
  static const common::ProfileDialect d = [] {
    common::ProfileDialect out;
    out.quote = '`';
    out.length_fn = "CHAR_LENGTH";
    out.variance_fn = "VAR_SAMP";
    out.as_text = [](const std::string& e) { return "CAST(" + e + " AS CHAR)"; };
    out.as_double = [](const std::string& e) { return "(" + e + " * 1.0e0)"; };
    out.floor = [](const std::string& e) { return "FLOOR(" + e + ")"; };
    return out;
  }();
  return d;
}

ProfileKind kind_of(const ResultField& f) {
  switch (f.type) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_LONGLONG:
    case MYSQL_TYPE_YEAR: return ProfileKind::kInteger;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE: return ProfileKind::kFloat;
    case MYSQL_TYPE_DECIMAL:
    case MYSQL_TYPE_NEWDECIMAL: return ProfileKind::kDecimal;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
    case MYSQL_TYPE_TIME: return ProfileKind::kTemporal;
    case MYSQL_TYPE_VARCHAR:
    case MYSQL_TYPE_VAR_STRING:
    case MYSQL_TYPE_STRING:
    case MYSQL_TYPE_TINY_BLOB:
    case MYSQL_TYPE_MEDIUM_BLOB:
    case MYSQL_TYPE_LONG_BLOB:
    case MYSQL_TYPE_BLOB:
      return f.charset == kBinaryCharset ? ProfileKind::kOther : ProfileKind::kText;
    default: return ProfileKind::kOther;
  }
}

// The name and type as the query job reports them (type_name).
ProfileColumn column_of(const ResultField& f) {
  return {f.name, type_name(FieldInfo{f.type, f.flags, f.charset, {}}), kind_of(f)};
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void sample(const ProfileParams& p, const std::string& base, common::ProfileSource& out) {
  out.from = base;
  if (p.sample_percent) {
    out.from = "(SELECT * FROM " + base + " WHERE RAND(20261203) < " +
               number_text(*p.sample_percent / 100.0) + ") AS s";
    out.sample = "bernoulli " + number_text(*p.sample_percent) + "%";
  } else if (p.sample_rows) {
    out.from = "(SELECT * FROM " + base + " ORDER BY RAND(20261203) LIMIT " +
               std::to_string(*p.sample_rows) + ") AS s";
    out.sample = "random " + std::to_string(*p.sample_rows) + " rows";
  }
}

}  // namespace

std::variant<TextRows, JobResult> all_rows(JobContext& ctx, const MysqlConfig& config,
                                           Connection& connection, const std::string& sql,
                                           std::vector<ResultField>* fields) {
  std::optional<JobError> error;
  TextRows rows;
  {
    QueryKiller killer(config, connection);
    auto registration = ctx.cancel.on_cancel([&killer] { killer.fire(); });
    MYSQL* handle = connection.handle();
    MYSQL_RES* result = nullptr;
    if (ctx.cancel.cancelled()) {
    } else if (mysql_real_query(handle, sql.data(), static_cast<unsigned long>(sql.size())) != 0 ||
               (result = mysql_store_result(handle)) == nullptr) {
      error = connection.last_error();
    } else {
      const unsigned n = mysql_num_fields(result);
      if (fields != nullptr) {
        const MYSQL_FIELD* f = mysql_fetch_fields(result);
        for (unsigned i = 0; i < n; ++i)
          fields->push_back({f[i].name, f[i].type, f[i].flags, f[i].charsetnr});
      }
      while (MYSQL_ROW r = mysql_fetch_row(result)) {
        const unsigned long* lengths = mysql_fetch_lengths(result);
        auto& row = rows.emplace_back();
        for (unsigned i = 0; i < n; ++i) {
          row.push_back(r[i] == nullptr
                            ? std::nullopt
                            : std::optional<std::string>(std::string(r[i], lengths[i])));
        }
      }
      mysql_free_result(result);
    }
  }
  if (ctx.cancel.cancelled()) {
    connection.mark_broken();  // a KILL may still land
    return cancelled_result(ctx.cancel.reason());
  }
  if (error) {
    if (error->code == ErrorCode::kUnreachable) connection.mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  return rows;
}

JobResult run_profile(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  const auto& params = ctx.job.profile;
  common::ProfileSource source;
  std::string base;
  if (params.target) {
    auto found = find_table(ctx, config, session, *params.target);
    if (auto* failed = std::get_if<JobResult>(&found)) return std::move(*failed);
    const auto& table = std::get<Found>(found);
    base = table.quoted();
    if (!table.view && table.table_rows) source.estimate = std::stoll(*table.table_rows);
  } else {
    // The query job's second layer: what escapes a transaction is refused.
    if (auto what = forbidden_statement(*params.sql)) {
      return JobResult::failure(
          ErrorCode::kReadOnlyViolation,
          "the statement uses " + *what + "; the agent runs read-only statements only");
    }
    if (auto error = begin_read_only(*session, remaining_budget(ctx))) {
      session->mark_broken();
      return JobResult{std::move(error), nlohmann::json::object()};
    }
    base = "(" + common::subquery_text(*params.sql) + ") AS q";
  }
  std::vector<ResultField> fields;
  auto shape = all_rows(ctx, config, *session, "SELECT * FROM " + base + " LIMIT 0", &fields);
  if (auto* failed = std::get_if<JobResult>(&shape)) return std::move(*failed);
  std::vector<ProfileColumn> all;
  all.reserve(fields.size());
  for (const auto& f : fields) all.push_back(column_of(f));
  auto picked =
      common::pick_columns(std::move(all), params.columns, common::profile_subject(params));
  if (auto* failed = std::get_if<JobResult>(&picked)) return std::move(*failed);
  source.columns = std::move(std::get<0>(picked));
  sample(params, base, source);
  return common::run_profile(params, source, dialect(), [&](const std::string& sql) {
    auto rows = all_rows(ctx, config, *session, sql);
    if (auto* failed = std::get_if<JobResult>(&rows)) {
      return std::variant<common::SqlRows, JobResult>(std::move(*failed));
    }
    return std::variant<common::SqlRows, JobResult>(std::move(std::get<TextRows>(rows)));
  });
}

}  // namespace outpost::connectors::mysql
