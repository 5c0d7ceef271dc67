// The `query_log` job of jobs-v1.1 on MySQL/MariaDB:
// performance_schema.events_statements_summary_by_digest, the normalised
// statements with their counts, time (picoseconds, reported in ms) and rows
// sent; `unsupported` with the reason when performance_schema is off.
// `since` keeps the digests last seen at or after it (LAST_SEEN; the session
// runs in UTC).
#include <charconv>
#include <string>

#include "mysql/mysql_jobs.hpp"

namespace outpost::connectors::mysql {
namespace {

// "2026-12-01T10:00:00.5+02:00" as a UTC DATETIME expression; the text was
// checked by the SDK (digits and separators only), so it is safe to quote.
std::string utc_expression(const std::string& iso) {
  std::string local = iso.substr(0, 10) + " " + iso.substr(11, 8);
  std::size_t at = 19;
  std::string fraction;
  if (at < iso.size() && iso[at] == '.') {
    const std::size_t end = iso.find_first_not_of("0123456789", at + 1);
    fraction = iso.substr(at, std::min<std::size_t>(end - at, 7));
    at = end;
  }
  const std::string zone = iso[at] == 'Z' ? "+00:00" : iso.substr(at, 6);
  return "CONVERT_TZ('" + local + fraction + "', '" + zone + "', '+00:00')";
}

std::int64_t to_int(const std::optional<std::string>& text) {
  std::int64_t v = 0;
  if (text) std::from_chars(text->data(), text->data() + text->size(), v);
  return v;
}

}  // namespace

JobResult run_query_log(JobContext& ctx, const MysqlConfig& config, SessionLease& session) {
  if (auto error = begin_read_only(*session, remaining_budget(ctx))) {
    session->mark_broken();
    return JobResult{std::move(error), nlohmann::json::object()};
  }
  auto on = all_rows(ctx, config, *session, "SELECT @@GLOBAL.performance_schema");
  if (auto* failed = std::get_if<JobResult>(&on)) return std::move(*failed);
  const auto& flag = std::get<TextRows>(on);
  if (flag.empty() || flag[0].empty() || to_int(flag[0][0]) == 0) {
    return JobResult::failure(ErrorCode::kUnsupported,
                              "performance_schema is off on this server (start it with "
                              "--performance-schema=ON); it keeps the statement digests");
  }
  const auto& p = ctx.job.query_log;
  const std::string sql =
      "SELECT DIGEST_TEXT, COUNT_STAR, SUM_TIMER_WAIT / 1000000000, SUM_ROWS_SENT, SCHEMA_NAME "
      "FROM performance_schema.events_statements_summary_by_digest "
      "WHERE DIGEST_TEXT IS NOT NULL" +
      (p.since ? " AND LAST_SEEN >= " + utc_expression(*p.since) : std::string()) +
      " ORDER BY SUM_TIMER_WAIT DESC LIMIT " + std::to_string(p.limit);
  auto rows = all_rows(ctx, config, *session, sql);
  if (auto* failed = std::get_if<JobResult>(&rows)) return std::move(*failed);
  for (const auto& r : std::get<TextRows>(rows)) {
    if (r.size() != 5) continue;
    nlohmann::json record{{"query", r[0].value_or("")},
                          {"calls", to_int(r[1])},
                          {"total_ms", r[2] ? std::stod(*r[2]) : 0.0},
                          {"rows", to_int(r[3])},
                          {"user", nullptr},
                          {"database", r[4] ? nlohmann::json(*r[4]) : nlohmann::json(nullptr)}};
    if (!ctx.sink.add_record(record)) break;
  }
  if (ctx.cancel.cancelled()) return cancelled_result(ctx.cancel.reason());
  return JobResult::success({{"source", "performance_schema.events_statements_summary_by_digest"},
                             {"since_applied", p.since.has_value()}});
}

}  // namespace outpost::connectors::mysql
