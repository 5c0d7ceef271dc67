// The COPY path of query jobs: `COPY (<query>) TO STDOUT` in text format
// delivers one CopyData message per row, which libpq hands over as one
// buffer, where single-row mode builds a whole PGresult for every row.
// The values are the same text (the types' output functions, under the
// job's DateStyle/bytea_output/extra_float_digits), so write_value() maps
// them exactly as on the row-by-row path.
#include <cctype>
#include <memory>
#include <string>
#include <string_view>

#include "postgres/pg_copy_text.hpp"
#include "postgres/pg_query_support.hpp"

namespace outpost::connectors::postgres {
namespace {

struct CopyBufferFree {
  void operator()(char* p) const noexcept { PQfreemem(p); }
};

bool starts_with_word(std::string_view sql, std::string_view word) {
  if (sql.size() < word.size()) return false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(sql[i])) != word[i]) return false;
  }
  return sql.size() == word.size() || std::isspace(static_cast<unsigned char>(sql[word.size()]));
}

// Reads the COPY rows into the sink: max_rows, the sink's byte limit and
// cancellation stop it as on the row-by-row path.
class CopyStream {
 public:
  CopyStream(Session& session, JobContext& ctx, std::vector<ValueKind> kinds)
      : session_(session), ctx_(ctx), kinds_(std::move(kinds)) {}

  JobResult run() {
    int n = 0;
    for (;;) {
      char* data = nullptr;
      n = session_.next_copy_row(&data);
      if (n < 0) break;
      const std::unique_ptr<char, CopyBufferFree> owned(data);
      if (!write_row(std::string_view(data, static_cast<std::size_t>(n)))) {
        // The rest is not wanted: close the session rather than read it.
        session_.poison();
        return finish();
      }
    }
    if (n == -3) return failure_from(nullptr, session_, ctx_);
    // The end of the data (or a broken connection): the statement's own
    // result says how it ended (statement_timeout, an error mid-way).
    auto last = session_.collect();
    if (!succeeded(last)) return failure_from(last.get(), session_, ctx_);
    return finish();
  }

 private:
  bool write_row(std::string_view line) {
    if (ctx_.job.query.max_rows && written_ >= *ctx_.job.query.max_rows) {
      truncated_ = true;
      return false;
    }
    RowWriter& row = ctx_.sink.begin_row();
    if (!write_copy_row(row, kinds_, line, scratch_).complete) {
      error_ = JobResult::failure(ErrorCode::kInternal,
                                  "the server's COPY row does not have one field per column");
      return false;
    }
    // libpq keeps its input buffer at the largest message it has read.
    if (line.size() > kMaxPooledRowBytes) session_.retire();
    if (!ctx_.sink.end_row()) return false;
    ++written_;
    return true;
  }

  JobResult finish() {
    if (ctx_.cancel.cancelled()) return cancelled_result(ctx_.cancel);
    if (error_) return std::move(*error_);
    nlohmann::json result = nlohmann::json::object();
    if (truncated_) result["truncated"] = true;
    return JobResult::success(std::move(result));
  }

  Session& session_;
  JobContext& ctx_;
  std::vector<ValueKind> kinds_;
  std::string scratch_;  // a field with escapes, decoded
  std::uint64_t written_ = 0;
  bool truncated_ = false;
  std::optional<JobResult> error_;
};

// The transaction's settings as one statement ($1 statement_timeout in ms,
// $2 the job's application_name), each local to the transaction.
const std::string& settings_statement() {
  static const std::string sql = [] {
    std::string out =
        "SELECT pg_catalog.set_config('statement_timeout', $1, true), "
        "pg_catalog.set_config('application_name', $2, true)";
    for (const auto& s : kOutputSettings) {
      out += ", pg_catalog.set_config('" + std::string(s.name) + "', '" + s.value + "', true)";
    }
    return out;
  }();
  return sql;
}

// BEGIN READ ONLY, the settings, Parse and Describe of the job's statement,
// and Sync as one libpq pipeline: one round trip. Returns the first failed
// result, else Describe's; nullptr when the session gave up.
ResultPtr open_and_describe(Session& session, JobContext& ctx, const std::string& tag) {
  PGconn* conn = session.raw();
  if (PQenterPipelineMode(conn) != 1) return nullptr;
  const std::string timeout = std::to_string(common::statement_budget(ctx).count());
  const char* values[] = {timeout.c_str(), tag.c_str()};
  if (PQsendQueryParams(conn, "BEGIN READ ONLY", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1 ||
      PQsendQueryParams(conn, settings_statement().c_str(), 2, nullptr, values, nullptr, nullptr,
                        0) != 1 ||
      PQsendPrepare(conn, "", ctx.job.query.sql.c_str(), 0, nullptr) != 1 ||
      PQsendDescribePrepared(conn, "") != 1 || PQpipelineSync(conn) != 1) {
    session.poison();
    return nullptr;
  }
  // Each of the four steps' result then NULL (PIPELINE_ABORTED after the
  // first error), then PIPELINE_SYNC: at most nine results.
  ResultPtr kept;
  bool synced = false;
  for (int step = 0; step < 16 && !synced && !session.abandoned(); ++step) {
    auto r = session.next_result();
    if (!r) continue;
    const auto status = PQresultStatus(r.get());
    if (status == PGRES_PIPELINE_SYNC) {
      synced = true;
    } else if (status != PGRES_PIPELINE_ABORTED &&
               (!kept || PQresultStatus(kept.get()) != PGRES_FATAL_ERROR)) {
      kept = std::move(r);
    }
  }
  if (!synced || PQexitPipelineMode(conn) != 1) {
    session.poison();
    return nullptr;
  }
  return kept;
}

// Opens the transaction, parses and describes the bare statement: its
// errors are exactly those of the row-by-row path, and the description gives
// the column types.
std::optional<JobResult> describe(Session& session, JobContext& ctx, const std::string& tag,
                                  ColumnPlan& plan, bool& copyable) {
  auto desc = open_and_describe(session, ctx, tag);
  if (!succeeded(desc)) return failure_from(desc.get(), session, ctx);
  // No columns (SELECT INTO, SELECT with an empty list) or parameters: row by row.
  copyable = PQnfields(desc.get()) > 0 && PQnparams(desc.get()) == 0;
  if (!copyable) return std::nullopt;
  std::vector<Oid> oids;
  oids.reserve(static_cast<std::size_t>(PQnfields(desc.get())));
  for (int i = 0; i < PQnfields(desc.get()); ++i) oids.push_back(PQftype(desc.get(), i));
  if (describe_columns(desc.get(), plan)) return name_types(session, ctx, oids, plan);
  return std::nullopt;
}

}  // namespace

// A statement COPY can wrap in parentheses: a query (SELECT, WITH, VALUES,
// TABLE) with nothing that could reach past the wrapping or comment it out
// (';', comments, dollar quotes and $n parameters go row by row). The
// server's Parse of the bare statement proves it is one whole statement.
bool copy_eligible(std::string_view sql) {
  const auto start = sql.find_first_not_of(" \t\r\n\f\v");
  if (start == std::string_view::npos) return false;
  sql.remove_prefix(start);
  if (sql.find_first_of(";$") != std::string_view::npos ||
      sql.find("--") != std::string_view::npos || sql.find("/*") != std::string_view::npos) {
    return false;
  }
  return starts_with_word(sql, "select") || starts_with_word(sql, "with") ||
         starts_with_word(sql, "values") || starts_with_word(sql, "table");
}

std::optional<JobResult> run_query_copy(Session& session, JobContext& ctx, const std::string& tag) {
  ColumnPlan plan;
  bool copyable = false;
  if (auto failed = describe(session, ctx, tag, plan, copyable)) return failed;
  if (!copyable) return std::nullopt;
  ctx.sink.set_columns(plan.columns);
  session.allow_light_reset();
  // Extended protocol: exactly one statement. The newline keeps the query's
  // last line from running into the closing parenthesis.
  if (!session.send("COPY (\n" + ctx.job.query.sql + "\n) TO STDOUT")) {
    return failure_from(nullptr, session, ctx);
  }
  auto started = session.next_result();
  if (!started || PQresultStatus(started.get()) != PGRES_COPY_OUT) {
    auto rest = session.collect();  // drain, keeping the first error
    return failure_from(started ? started.get() : rest.get(), session, ctx);
  }
  started.reset();
  return CopyStream(session, ctx, std::move(plan.kinds)).run();
}

}  // namespace outpost::connectors::postgres
