// PostgresStore: retries — a failed attempt sent back to the queue with a
// run_at, and the look-ups the hub's timer uses to wake waiting claims when
// a retry's delay ends.
#include "store/postgres/pg_records.hpp"
#include "store/postgres/pg_store.hpp"

namespace outpost::hub::pg {

namespace {

const Statement& retry_statement() {
  // Locks the job only if the token is its live lease; drops every part (a
  // retried attempt leaves no result), ends the lease and the attempt as
  // failed, and queues the job again from run_at. final_token stays: a later
  // result with this lease is a conflict (409), like any stale lease.
  static const Statement st{
      "job_retry",
      "WITH j AS (SELECT seq FROM jobs WHERE id = $1 AND status = 'running' AND lease_token = $2 "
      "FOR UPDATE), "
      "dropped AS (DELETE FROM job_parts WHERE job_seq = (SELECT seq FROM j)), "
      "upd AS (UPDATE jobs SET status = 'scheduled', result = NULL, error = $3::json, "
      "started_at = NULL, progress = NULL, lease_token = NULL, lease_expires_at = NULL, "
      "lease_instance = NULL, part_count = 0, run_at = " +
          ts(5) +
          " WHERE seq = (SELECT seq FROM j) RETURNING *), "
          "att AS (UPDATE job_attempts SET status = 'failed', finished_at = " +
          ts(4) +
          ", error = $3::json WHERE id = (SELECT max(id) FROM job_attempts "
          "WHERE job_seq = (SELECT seq FROM j))) "
          "SELECT " +
          job_columns("upd") + " FROM upd"};
  return st;
}

}  // namespace

FinishOutcome PostgresStore::finish_for_retry(const FinishRequest& req) {
  static const Statement look_st{
      "job_retry_look",
      "SELECT status, final_token IS NOT NULL AND final_token = $2 FROM jobs WHERE id = $1"};
  FinishOutcome out;
  auto conn = pool_.acquire();
  auto r = conn->run(retry_statement(),
                     {req.job_id, req.lease_token,
                      req.error ? std::optional<std::string>(req.error->dump()) : std::nullopt,
                      ms(req.finished_at.value_or(req.now)), ms(*req.retry_at)});
  if (PQntuples(r.get()) == 1) {
    JobRecord rec = job_from_row(r.get(), 0);
    // The attempts subquery saw the rows before this statement's update.
    if (!rec.attempts.empty()) {
      auto& last = rec.attempts.back();
      last.status = to_string(JobStatus::kFailed);
      last.finished_at = req.finished_at.value_or(req.now);
      last.error = req.error;
    }
    out.kind = FinishOutcome::Kind::kAccepted;
    out.job = std::move(rec);
    return out;  // claimable at run_at: the hub's timer wakes the pool then
  }
  auto look = conn->run(look_st, {req.job_id, req.lease_token});
  if (PQntuples(look.get()) == 0) return out;  // kNotFound
  const auto status = text(look.get(), 0, 0);
  if (status == "cancelled") {
    out.kind = FinishOutcome::Kind::kGone;
  } else if ((status == "succeeded" || status == "failed") && boolean(look.get(), 0, 1)) {
    out.kind = FinishOutcome::Kind::kDuplicate;
  } else {
    out.kind = FinishOutcome::Kind::kConflict;
  }
  return out;
}

std::vector<std::string> PostgresStore::retries_due(SystemTime after, SystemTime now) {
  static const Statement st{"retries_due",
                            "SELECT DISTINCT pool_id FROM jobs WHERE status = 'scheduled' AND "
                            "run_at > " +
                                ts(1) + " AND run_at <= " + ts(2)};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {ms(after), ms(now)});
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(PQntuples(r.get())));
  for (int i = 0; i < PQntuples(r.get()); ++i) out.push_back(text(r.get(), i, 0));
  return out;
}

std::optional<SystemTime> PostgresStore::next_retry_at(SystemTime now) {
  static const Statement st{"retries_next", "SELECT " + ms_of("min(run_at)") +
                                                " FROM jobs WHERE status = 'scheduled' AND "
                                                "run_at > " +
                                                ts(1)};
  auto conn = pool_.acquire();
  auto r = conn->run(st, {ms(now)});
  return opt_time(r.get(), 0, 0);
}

}  // namespace outpost::hub::pg
