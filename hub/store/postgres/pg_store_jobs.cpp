// PostgresStore: jobs and leases. Each operation is one statement (an
// implicit transaction) or one explicit transaction; a job becoming
// claimable sends NOTIFY outpost_jobs '<pool_id>' inside that transaction,
// so other hubs hear of it exactly when it commits.
#include <openssl/rand.h>

#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

std::string lease_token() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("PostgreSQL store: the CSPRNG failed");
  }
  return "l_" + to_hex(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// A text[] literal of tokens made of [a-z0-9_] only (no quoting needed).
std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += items[i];
  }
  out.push_back('}');
  return out;
}

}  // namespace

const Statement& PostgresStore::create_statement() {
  static const Statement st{
      "job_create",
      "WITH j AS (INSERT INTO jobs (type, pool_id, source_id, source, params, timeout_ms, "
      "status, created_at, max_attempts, retry_backoff_ms) VALUES ($1, $2, $3, $4, $5, $6, "
      "'scheduled', " +
          ts(7) + ", $8, $9) RETURNING *) SELECT " + job_columns("j") +
          ", pg_notify('outpost_jobs', j.pool_id) FROM j"};
  return st;
}

JobRecord PostgresStore::create_job(const NewJob& job, SystemTime now) {
  JobRecord out;
  {
    auto conn = pool_.acquire();
    out = insert_job(*conn, job, now);
  }
  notify(out.pool_id);
  return out;
}

JobRecord PostgresStore::insert_job(Connection& conn, const NewJob& job, SystemTime now) {
  auto r = conn.run(create_statement(),
                    {job.type, job.pool_id, job.source_id, job.source.dump(), job.params.dump(),
                     std::to_string(job.timeout_ms), ms(now), std::to_string(job.max_attempts),
                     std::to_string(job.retry_backoff_ms)});
  return job_from_row(r.get(), 0);
}

std::optional<JobRecord> PostgresStore::get_job(const std::string& id) {
  static const Statement st{"job_get",
                            "SELECT " + job_columns("j") + " FROM jobs j WHERE j.id = $1"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {id});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return job_from_row(r.get(), 0);
}

JobPage PostgresStore::list_jobs(const JobFilter& filter, std::size_t limit,
                                 std::optional<std::uint64_t> before_seq) {
  // Keyset paging on seq (never OFFSET); the SQL names only the filters in
  // use, so each shape is planned against the matching index.
  std::string sql = "SELECT " + job_columns("j") + " FROM jobs j WHERE true";
  Params params;
  auto add = [&](const char* cond, std::string value) {
    params.emplace_back(std::move(value));
    sql += std::string(" AND ") + cond + " $" + std::to_string(params.size());
  };
  if (filter.status) add("j.status =", to_string(*filter.status));
  if (filter.source_id) add("j.source_id =", *filter.source_id);
  if (filter.pool_id) add("j.pool_id =", *filter.pool_id);
  if (before_seq) add("j.seq <", std::to_string(*before_seq));
  params.emplace_back(std::to_string(limit + 1));
  sql += " ORDER BY j.seq DESC LIMIT $" + std::to_string(params.size());
  auto conn = pool_.acquire();
  auto r = conn->exec(sql.c_str(), params);
  JobPage page;
  const int rows = PQntuples(r.get());
  for (int i = 0; i < rows && page.jobs.size() < limit; ++i) {
    page.jobs.push_back(job_from_row(r.get(), i));
  }
  page.more = static_cast<std::size_t>(rows) > limit;
  return page;
}

std::vector<JobRecord> PostgresStore::claim(const ClaimRequest& req) {
  // FOR UPDATE SKIP LOCKED: concurrent claimers (any hub) each lock other
  // rows, so a job is handed out once; FIFO by seq within the pool. The
  // commit does not wait for its WAL flush (async_commit()): a claim lost in
  // a crash leaves the job scheduled and the agent's lease token unknown, so
  // its renewals, parts and result get 409 and the job is handed out again.
  static const Statement st{
      "job_claim",
      "WITH picked AS (SELECT seq FROM jobs WHERE " + async_commit() +
          " AND status = 'scheduled' AND pool_id = $1 "
          "AND (run_at IS NULL OR run_at <= " +
          ts(4) +
          ") ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED), "
          "numbered AS (SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM picked), "
          "dropped AS (DELETE FROM job_parts p USING numbered n WHERE p.job_seq = n.seq), "
          "upd AS (UPDATE jobs j SET status = 'running', attempt = j.attempt + 1, "
          "agent_instance = $3, started_at = " +
          ts(4) +
          ", progress = NULL, run_at = NULL, "
          "lease_token = ($6::text[])[n.rn], lease_expires_at = " +
          ts(5) +
          ", lease_instance = $3 "
          "FROM numbered n WHERE j.seq = n.seq RETURNING j.*), "
          "att AS (INSERT INTO job_attempts (job_seq, attempt, agent_instance, started_at, status) "
          "SELECT seq, attempt, $3, " +
          ts(4) +
          ", 'running' FROM upd) "
          "SELECT " +
          job_columns("upd") + " FROM upd ORDER BY upd.seq"};
  const int n = std::max(1, req.max_jobs);
  std::vector<std::string> tokens;
  tokens.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) tokens.push_back(lease_token());
  auto conn = pool_.acquire();
  auto r = conn->run(st, {req.pool_id, std::to_string(n), req.instance_id, ms(req.now),
                          ms(req.now + req.lease_ttl), text_array(tokens)});
  std::vector<JobRecord> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    JobRecord job = job_from_row(r.get(), i);
    // The attempts subquery saw the table before this statement's insert.
    AttemptRecord a;
    a.attempt = job.attempt;
    a.agent_instance = req.instance_id;
    a.started_at = req.now;
    job.attempts.push_back(std::move(a));
    out.push_back(std::move(job));
  }
  return out;
}

RenewOutcome PostgresStore::renew(const std::string& job_id, std::string_view token,
                                  std::chrono::milliseconds ttl, SystemTime now,
                                  std::optional<Json> progress) {
  // Asynchronous commit (async_commit()): a renewal lost in a crash leaves the
  // old expiry; the lease then expires sooner and the agent's result is
  // fenced with 409 if the job was handed out again.
  static const Statement renew_st{
      "job_renew", "WITH upd AS (UPDATE jobs SET lease_expires_at = " + ts(3) +
                       ", progress = coalesce($4::json, progress) "
                       "WHERE id = $1 AND status = 'running' AND lease_token = $2 AND " +
                       async_commit() + " RETURNING lease_token, " + ms_of("lease_expires_at") +
                       " AS expires, lease_instance), "
                       "seen AS (UPDATE agent_instances SET last_seen = " +
                       ts(5) +
                       " WHERE instance_id = (SELECT lease_instance FROM upd)) SELECT * FROM upd"};
  static const Statement look_st{
      "job_lease_look", "SELECT status, lease_token = $2, lease_token, " +
                            ms_of("lease_expires_at") + ", lease_instance FROM jobs WHERE id = $1"};
  const std::string tok(token);
  auto conn = pool_.acquire();
  auto r = conn->run(
      renew_st, {job_id, tok, ms(now + ttl),
                 progress ? std::optional<std::string>(progress->dump()) : std::nullopt, ms(now)});
  RenewOutcome out;
  if (PQntuples(r.get()) == 1) {
    out.kind = RenewOutcome::Kind::kRenewed;
    out.lease = Lease{text(r.get(), 0, 0), from_ms(int64(r.get(), 0, 1)), text(r.get(), 0, 2)};
    return out;
  }
  auto look = conn->run(look_st, {job_id, tok});
  if (PQntuples(look.get()) == 0) return out;  // kNotFound
  const bool live = !is_null(look.get(), 0, 1) && boolean(look.get(), 0, 1);
  if (text(look.get(), 0, 0) == "cancelled") {
    out.kind = live ? RenewOutcome::Kind::kCancelRequested : RenewOutcome::Kind::kGone;
    if (live) {
      out.lease =
          Lease{text(look.get(), 0, 2), from_ms(int64(look.get(), 0, 3)), text(look.get(), 0, 4)};
    }
    return out;
  }
  out.kind = RenewOutcome::Kind::kConflict;
  return out;
}

PartOutcome PostgresStore::put_part(const std::string& job_id, std::string_view token,
                                    std::uint64_t seq, std::string ndjson) {
  // FOR SHARE holds the job row against a concurrent finish or cancel until
  // the part is in; the same seq again replaces the part (idempotent).
  static const Statement put_st{
      "part_put",
      "WITH j AS (SELECT seq FROM jobs WHERE id = $1 AND status = 'running' "
      "AND lease_token = $2 FOR SHARE) "
      "INSERT INTO job_parts (job_seq, seq, lines, body) SELECT j.seq, $3, $4, $5 FROM j "
      "ON CONFLICT (job_seq, seq) DO UPDATE SET lines = excluded.lines, body = excluded.body"};
  static const Statement look_st{
      "part_look",
      "SELECT status, final_token IS NOT NULL AND final_token = $2 FROM jobs "
      "WHERE id = $1"};
  const std::string tok(token);
  std::uint64_t lines = 0;
  for (char c : ndjson) lines += c == '\n' ? 1 : 0;
  auto conn = pool_.acquire();
  auto r = conn->run(put_st,
                     {job_id, tok, std::to_string(seq), std::to_string(lines), std::move(ndjson)});
  PartOutcome out;
  if (std::string_view(PQcmdTuples(r.get())) == "1") {
    out.kind = PartOutcome::Kind::kAccepted;
    return out;
  }
  auto look = conn->run(look_st, {job_id, tok});
  if (PQntuples(look.get()) == 0) return out;
  const auto status = text(look.get(), 0, 0);
  if (status == "cancelled") {
    out.kind = PartOutcome::Kind::kGone;
  } else if ((status == "succeeded" || status == "failed") && boolean(look.get(), 0, 1)) {
    out.kind = PartOutcome::Kind::kDuplicate;
  } else {
    out.kind = PartOutcome::Kind::kConflict;
  }
  return out;
}

}  // namespace outpost::hub::pg
