// The `profile` job of jobs-v1.1 on SQLite. The table is looked up in
// sqlite_schema with a bound name, then quoted; a query becomes a subquery.
// Columns and their kinds come from the declared types (SQLite's affinity
// rules); a value without one is profiled by its text form. Sampling is a
// random() filter (sample_percent) or ORDER BY random() LIMIT n; SQLite's
// random() takes no seed, so top-k and histogram statements draw their own
// sample. The job's timeout and cancel reach every statement through the
// database's progress handler and sqlite3_interrupt.
#include <cmath>
#include <cstdio>
#include <string>
#include <variant>
#include <vector>

#include "common/monitors.hpp"
#include "common/profile.hpp"
#include "sqlite/sqlite_jobs.hpp"
#include "sqlite/sqlite_values.hpp"

namespace outpost::connectors::sqlite {
namespace {

using common::ProfileColumn;
using common::ProfileKind;
using common::SqlRows;

const common::ProfileDialect& dialect() {
  static const common::ProfileDialect d = [] {
    common::ProfileDialect out;
    out.quote = '"';
    out.length_fn = "length";
    out.variance_fn = nullptr;  // from sums
    out.as_text = [](const std::string& e) { return "CAST(" + e + " AS TEXT)"; };
    out.as_double = [](const std::string& e) { return "CAST(" + e + " AS REAL)"; };
    // Of a non-negative value, truncation is the floor (floor() needs the
    // math functions, which a build may leave out).
    out.floor = [](const std::string& e) { return "CAST(" + e + " AS INTEGER)"; };
    return out;
  }();
  return d;
}

bool contains(std::string upper, const char* part) {
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper.find(part) != std::string::npos;
}

// SQLite's affinity rules (datatype3 §3.1), plus the names dates and
// booleans are usually declared with.
ProfileKind kind_of(const std::string& declared) {
  if (contains(declared, "INT")) return ProfileKind::kInteger;
  if (contains(declared, "CHAR") || contains(declared, "CLOB") || contains(declared, "TEXT")) {
    return ProfileKind::kText;
  }
  if (contains(declared, "REAL") || contains(declared, "FLOA") || contains(declared, "DOUB")) {
    return ProfileKind::kFloat;
  }
  if (contains(declared, "DATE") || contains(declared, "TIME")) return ProfileKind::kTemporal;
  if (contains(declared, "BOOL")) return ProfileKind::kBoolean;
  if (contains(declared, "DEC") || contains(declared, "NUM")) return ProfileKind::kDecimal;
  return ProfileKind::kOther;
}

std::variant<SqlRows, JobResult> run_sql(Database& db, const std::string& sql) {
  std::optional<JobError> error;
  auto st = db.prepare(sql, error);
  if (!st) return failed(error.value_or(db.error_for(SQLITE_ERROR)));
  SqlRows rows;
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    auto& row = rows.emplace_back();
    for (int c = 0; c < sqlite3_column_count(st.get()); ++c) {
      row.push_back(sqlite3_column_type(st.get(), c) == SQLITE_NULL
                        ? std::nullopt
                        : std::optional<std::string>(text(st.get(), c)));
    }
  }
  if (rc != SQLITE_DONE) return failed(db.error_for(rc));
  return rows;
}

std::variant<std::vector<ProfileColumn>, JobResult> describe(Database& db,
                                                             const std::string& base) {
  std::optional<JobError> error;
  auto st = db.prepare("SELECT * FROM " + base + " LIMIT 1", error);
  if (!st) return failed(error.value_or(db.error_for(SQLITE_ERROR)));
  if (sqlite3_stmt_readonly(st.get()) == 0) {
    return JobResult::failure(ErrorCode::kReadOnlyViolation, "the statement would write");
  }
  // An expression has no declared type: the first row's storage class
  // names it, as the query job does.
  const int rc = sqlite3_step(st.get());
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed(db.error_for(rc));
  std::vector<ProfileColumn> out;
  for (int c = 0; c < sqlite3_column_count(st.get()); ++c) {
    const char* declared = sqlite3_column_decltype(st.get(), c);
    std::string type = declared != nullptr ? declared : "";
    if (type.empty() && rc == SQLITE_ROW) {
      type = storage_class(sqlite3_column_type(st.get(), c));
    }
    out.push_back({sqlite3_column_name(st.get(), c), type, kind_of(type)});
  }
  return out;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// Samples `base`; a sampled profile also counts the whole relation (cheap
// in SQLite: no MVCC, a b-tree count).
std::optional<JobResult> sample(Database& db, const ProfileParams& p, const std::string& base,
                                common::ProfileSource& out) {
  out.from = base;
  if (!p.sample_percent && !p.sample_rows) return std::nullopt;
  if (p.sample_percent) {
    // random() is uniform over int64; its residue mod 10^6 nearly so.
    const auto cut = static_cast<long long>(std::llround(*p.sample_percent * 10000.0));
    out.from = "(SELECT * FROM " + base + " WHERE abs(random() % 1000000) < " +
               std::to_string(cut) + ") AS s";
    out.sample = "bernoulli " + number_text(*p.sample_percent) + "%";
  } else {
    out.from = "(SELECT * FROM " + base + " ORDER BY random() LIMIT " +
               std::to_string(*p.sample_rows) + ") AS s";
    out.sample = "random " + std::to_string(*p.sample_rows) + " rows";
  }
  auto count = run_sql(db, "SELECT count(*) FROM " + base);
  if (auto* failed_result = std::get_if<JobResult>(&count)) return std::move(*failed_result);
  const auto& rows = std::get<SqlRows>(count);
  if (!rows.empty() && !rows[0].empty() && rows[0][0]) {
    out.estimate = std::stoll(*rows[0][0]);
    out.estimate_exact = true;
  }
  return std::nullopt;
}

}  // namespace

JobResult run_profile(Database& db, JobContext& ctx) {
  const auto& params = ctx.job.profile;
  std::string base;
  if (params.target) {
    auto found = find_table(db, *params.target);
    if (auto* failed_result = std::get_if<JobResult>(&found)) return std::move(*failed_result);
    base = common::quote_identifier(std::get<Found>(found).name, '"');
  } else {
    base = "(" + common::subquery_text(*params.sql) + ") AS q";
  }
  auto described = describe(db, base);
  if (auto* failed_result = std::get_if<JobResult>(&described)) return std::move(*failed_result);
  auto picked = common::pick_columns(std::move(std::get<0>(described)), params.columns,
                                     common::profile_subject(params));
  if (auto* failed_result = std::get_if<JobResult>(&picked)) return std::move(*failed_result);
  common::ProfileSource source;
  source.columns = std::move(std::get<0>(picked));
  if (auto failed_result = sample(db, params, base, source)) return std::move(*failed_result);
  return common::run_profile(params, source, dialect(),
                             [&db](const std::string& sql) { return run_sql(db, sql); });
}

}  // namespace outpost::connectors::sqlite
