// PostgresStore: the end of a lease — result, release, cancel, expiry.
#include <set>

#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

// The job row locked for the rest of the transaction, and what finish()
// needs to decide between accept, duplicate, conflict and gone.
struct Locked {
  std::int64_t seq = 0;
  std::string status;
  bool live = false;      // the given token is the live lease
  bool finisher = false;  // the given token is the one the result was accepted with
};

std::optional<Locked> lock_job(Connection& conn, const std::string& id, const std::string& token) {
  static const Statement st{
      "job_lock",
      "SELECT seq, status, lease_token IS NOT NULL AND lease_token = $2, "
      "final_token IS NOT NULL AND final_token = $2 FROM jobs WHERE id = $1 FOR UPDATE"};
  auto r = conn.run(st, {id, token});
  if (PQntuples(r.get()) == 0) return std::nullopt;
  return Locked{int64(r.get(), 0, 0), text(r.get(), 0, 1), boolean(r.get(), 0, 2),
                boolean(r.get(), 0, 3)};
}

// The first part of 0..parts-1 not stored, if any.
std::optional<std::uint64_t> first_missing_part(Connection& conn, std::int64_t job_seq,
                                                std::uint64_t parts) {
  static const Statement count_st{"parts_count",
                                  "SELECT count(*) FROM job_parts WHERE job_seq = $1 AND seq < $2"};
  static const Statement missing_st{
      "parts_missing",
      "SELECT s FROM generate_series(0::bigint, $2::bigint - 1) s WHERE NOT EXISTS "
      "(SELECT 1 FROM job_parts p WHERE p.job_seq = $1 AND p.seq = s) ORDER BY s LIMIT 1"};
  if (parts == 0) return std::nullopt;
  const Params params{std::to_string(job_seq), std::to_string(parts)};
  auto count = conn.run(count_st, params);
  if (static_cast<std::uint64_t>(int64(count.get(), 0, 0)) == parts) return std::nullopt;
  auto missing = conn.run(missing_st, params);
  if (PQntuples(missing.get()) == 0) return std::nullopt;
  return static_cast<std::uint64_t>(int64(missing.get(), 0, 0));
}

const Statement& finish_statement() {
  // One statement in the common case: it locks the job only if the token is
  // its live lease and accepts only if every announced part is stored; then
  // drops parts above the announced count, ends the lease and the attempt.
  // The agent's times ($6, $7) are held inside the lease's life as
  // result_times() does: started in [claimed, now], finished in [started,
  // now]. Anything else (no such job, another lease, a duplicate, a missing
  // part) is sorted out by the transaction in finish().
  static const std::string now = ts(9);
  static const std::string claimed = "least(coalesce(j.started_at, " + now + "), " + now + ")";
  static const Statement st{
      "job_finish",
      "WITH j AS (SELECT seq, started_at FROM jobs WHERE id = $1 AND status = 'running' "
      "AND lease_token = $8 FOR UPDATE), "
      "ok AS (SELECT j.seq, CASE WHEN $6::bigint IS NULL THEN " +
          claimed + " ELSE greatest(least(" + ts(6) + ", " + now + "), " + claimed +
          ") END AS started FROM j WHERE (SELECT count(*) FROM job_parts p "
          "WHERE p.job_seq = j.seq AND p.seq < $2::bigint) = $2::bigint), "
          "t AS (SELECT seq, started, CASE WHEN $7::bigint IS NULL THEN " +
          now + " ELSE greatest(least(" + ts(7) + ", " + now +
          "), started) END AS finished FROM ok), "
          "dropped AS (DELETE FROM job_parts WHERE job_seq = (SELECT seq FROM t) AND seq >= $2), "
          "upd AS (UPDATE jobs SET status = $3, result = $4::json, error = $5::json, "
          "started_at = t.started, finished_at = t.finished, "
          "final_token = lease_token, lease_token = NULL, lease_expires_at = NULL, "
          "lease_instance = NULL, part_count = $2 FROM t WHERE jobs.seq = t.seq RETURNING jobs.*), "
          "att AS (UPDATE job_attempts SET status = $3, finished_at = (SELECT finished FROM t), "
          "error = $5::json WHERE id = (SELECT max(id) FROM job_attempts "
          "WHERE job_seq = (SELECT seq FROM t))) "
          "SELECT " +
          job_columns("upd") + " FROM upd"};
  return st;
}

// The outcome of an accepted finish from the statement's row.
FinishOutcome accepted(const FinishRequest& req, const Result& r) {
  FinishOutcome out;
  JobRecord rec = job_from_row(r.get(), 0);
  // The attempts subquery saw the rows before this statement's update.
  if (!rec.attempts.empty()) {
    auto& last = rec.attempts.back();
    last.status = to_string(req.status);
    last.finished_at = rec.finished_at.value_or(req.now);
    last.error = rec.error;
  }
  out.kind = FinishOutcome::Kind::kAccepted;
  out.job = std::move(rec);
  return out;
}

}  // namespace

FinishOutcome PostgresStore::finish(const FinishRequest& req) {
  if (req.retry_at && req.status == JobStatus::kFailed) return finish_for_retry(req);
  auto dump = [](const std::optional<Json>& j) {
    return j ? std::optional<std::string>(j->dump()) : std::nullopt;
  };
  const Params params{
      req.job_id,
      std::to_string(req.parts),
      to_string(req.status),
      dump(req.result),
      req.status == JobStatus::kFailed ? dump(req.error) : std::nullopt,
      req.started_at ? std::optional<std::string>(ms(*req.started_at)) : std::nullopt,
      req.finished_at ? std::optional<std::string>(ms(*req.finished_at)) : std::nullopt,
      req.lease_token,
      ms(req.now)};
  {
    auto conn = pool_.acquire();
    auto r = conn->run(finish_statement(), params);
    if (PQntuples(r.get()) == 1) return accepted(req, r);
  }
  return pool_.transaction([&](Connection& conn) {
    FinishOutcome out;
    const auto job = lock_job(conn, req.job_id, req.lease_token);
    if (!job) return out;  // kNotFound
    if (job->status == "cancelled") {
      out.kind = FinishOutcome::Kind::kGone;
    } else if (job->status == "succeeded" || job->status == "failed") {
      out.kind = job->finisher ? FinishOutcome::Kind::kDuplicate : FinishOutcome::Kind::kConflict;
    } else if (job->status != "running" || !job->live) {
      out.kind = FinishOutcome::Kind::kConflict;
    } else if (auto missing = first_missing_part(conn, job->seq, req.parts)) {
      out.kind = FinishOutcome::Kind::kMissingPart;
      out.missing_part = *missing;
    } else {
      // The last part committed after the statement above took its snapshot.
      auto r = conn.run(finish_statement(), params);
      if (PQntuples(r.get()) == 1) return accepted(req, r);
      out.kind = FinishOutcome::Kind::kConflict;
    }
    return out;
  });
}

ReleaseOutcome PostgresStore::release(const std::string& job_id, std::string_view token,
                                      SystemTime now) {
  // A release does not count as an attempt: the next claim gets the same number.
  static const Statement st{
      "job_release",
      "WITH upd AS (UPDATE jobs SET status = 'scheduled', attempt = attempt - 1, "
      "started_at = NULL, progress = NULL, lease_token = NULL, lease_expires_at = NULL, "
      "lease_instance = NULL WHERE id = $1 AND status = 'running' AND lease_token = $2 "
      "RETURNING seq, pool_id), "
      "att AS (UPDATE job_attempts SET status = 'released', finished_at = " +
          ts(3) +
          " WHERE id = (SELECT max(a.id) FROM job_attempts a, upd WHERE a.job_seq = upd.seq)) "
          "SELECT pool_id, pg_notify('outpost_jobs', pool_id) FROM upd"};
  static const Statement look_st{"job_status", "SELECT status FROM jobs WHERE id = $1"};
  std::string pool_id;
  ReleaseOutcome out;
  {
    auto conn = pool_.acquire();
    auto r = conn->run(st, {job_id, std::string(token), ms(now)});
    if (PQntuples(r.get()) == 1) {
      pool_id = text(r.get(), 0, 0);
      out.kind = ReleaseOutcome::Kind::kReleased;
    } else {
      auto look = conn->run(look_st, {job_id});
      if (PQntuples(look.get()) == 0) return out;
      out.kind = text(look.get(), 0, 0) == "cancelled" ? ReleaseOutcome::Kind::kGone
                                                       : ReleaseOutcome::Kind::kConflict;
      return out;
    }
  }
  notify(pool_id);
  return out;
}

CancelOutcome PostgresStore::cancel(const std::string& job_id, SystemTime now) {
  // A running job keeps its lease until it expires, so the agent's next
  // heartbeat learns cancel_requested; a scheduled one simply ends.
  static const Statement st{
      "job_cancel",
      "WITH upd AS (UPDATE jobs SET status = 'cancelled', finished_at = " + ts(2) +
          ", "
          "error = '{\"code\":\"cancelled\",\"message\":\"cancelled by the operator\","
          "\"retryable\":false}'::json WHERE id = $1 AND status IN ('scheduled', 'running') "
          "RETURNING seq), "
          "att AS (UPDATE job_attempts SET status = 'cancelled', finished_at = " +
          ts(2) +
          " WHERE id = (SELECT max(a.id) FROM job_attempts a, upd WHERE a.job_seq = upd.seq) "
          "AND status = 'running') SELECT 1 FROM upd"};
  static const Statement look_st{"job_status", "SELECT status FROM jobs WHERE id = $1"};
  auto conn = pool_.acquire();
  CancelOutcome out;
  if (PQntuples(conn->run(st, {job_id, ms(now)}).get()) == 1) {
    out.kind = CancelOutcome::Kind::kCancelled;
    return out;
  }
  auto look = conn->run(look_st, {job_id});
  if (PQntuples(look.get()) == 0) return out;
  const auto status = parse_job_status(text(look.get(), 0, 0)).value_or(JobStatus::kCancelled);
  out.status = status;
  out.kind = status == JobStatus::kCancelled ? CancelOutcome::Kind::kCancelled
                                             : CancelOutcome::Kind::kFinished;
  return out;
}

std::vector<ExpiredLease> PostgresStore::expire_leases(SystemTime now, int max_attempts,
                                                       std::size_t batch) {
  // SKIP LOCKED: several hubs sweeping at once each end different leases.
  static const Statement st{
      "leases_expire",
      "WITH due AS (SELECT seq, status AS old_status, lease_instance AS instance FROM jobs "
      "WHERE lease_token IS NOT NULL AND lease_expires_at <= " +
          ts(1) +
          " ORDER BY lease_expires_at LIMIT $3 FOR UPDATE SKIP LOCKED), "
          "upd AS (UPDATE jobs j SET "
          "expiries = j.expiries + CASE WHEN d.old_status = 'running' THEN 1 ELSE 0 END, "
          "status = CASE WHEN d.old_status <> 'running' THEN j.status "
          "WHEN j.attempt >= coalesce(nullif(j.max_attempts, 0), $2) THEN 'failed' "
          "ELSE 'scheduled' END, "
          "finished_at = CASE WHEN d.old_status = 'running' AND "
          "j.attempt >= coalesce(nullif(j.max_attempts, 0), $2) THEN " +
          ts(1) +
          " ELSE j.finished_at END, "
          "error = CASE WHEN d.old_status = 'running' AND "
          "j.attempt >= coalesce(nullif(j.max_attempts, 0), $2) THEN "
          "json_build_object('code', 'agent_lost', 'message', 'the lease expired ' || "
          "(j.expiries + 1) || ' times without a result', 'retryable', false) ELSE j.error END, "
          "lease_token = NULL, lease_expires_at = NULL, lease_instance = NULL "
          "FROM due d WHERE j.seq = d.seq "
          "RETURNING j.seq, j.id, j.attempt, j.status, j.pool_id, d.instance, d.old_status), "
          "att AS (UPDATE job_attempts a SET status = CASE WHEN u.old_status = 'cancelled' "
          "THEN 'cancelled' ELSE 'expired' END, finished_at = " +
          ts(1) +
          " FROM upd u WHERE a.id = (SELECT max(id) FROM job_attempts WHERE job_seq = u.seq) "
          "AND a.status = 'running'), "
          "woke AS (SELECT DISTINCT pool_id FROM upd WHERE status = 'scheduled') "
          "SELECT u.id, u.attempt, u.status, coalesce(u.instance, ''), u.pool_id, "
          "(SELECT count(pg_notify('outpost_jobs', w.pool_id)) FROM woke w) FROM upd u "
          "ORDER BY u.seq"};
  std::vector<ExpiredLease> out;
  std::set<std::string> pools;
  {
    auto conn = pool_.acquire();
    auto r = conn->run(st, {ms(now), std::to_string(max_attempts), std::to_string(batch)});
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      ExpiredLease e;
      e.job_id = text(r.get(), i, 0);
      e.attempt = static_cast<int>(int64(r.get(), i, 1));
      e.new_status = parse_job_status(text(r.get(), i, 2)).value_or(JobStatus::kScheduled);
      e.instance_id = text(r.get(), i, 3);
      if (e.new_status == JobStatus::kScheduled) pools.insert(text(r.get(), i, 4));
      out.push_back(std::move(e));
    }
  }
  for (const auto& p : pools) notify(p);
  return out;
}

std::optional<SystemTime> PostgresStore::next_lease_expiry() {
  static const Statement st{"leases_next", "SELECT " + ms_of("min(lease_expires_at)") +
                                               " FROM jobs WHERE lease_token IS NOT NULL"};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {});
  return opt_time(r.get(), 0, 0);
}

}  // namespace outpost::hub::pg
