// MemoryStore: the job lifecycle — create, claim, leases and their expiry,
// parts, results, release and cancel.
#include "store/memory_store.hpp"

#include "util.hpp"

namespace outpost::hub {

MemoryStore::Job* MemoryStore::find(const std::string& id) {
  auto it = job_ids_.find(id);
  return it == job_ids_.end() ? nullptr : &jobs_.at(it->second);
}

bool MemoryStore::live(const Job& job, std::string_view lease_token) const {
  return job.rec.lease && constant_time_equal(job.rec.lease->token, lease_token);
}

void MemoryStore::set_lease(Job& job, Lease lease) {
  drop_lease(job);
  expiries_.emplace(lease.expires_at, job.rec.seq);
  job.rec.lease = std::move(lease);
}

void MemoryStore::drop_lease(Job& job) {
  if (job.rec.lease) expiries_.erase({job.rec.lease->expires_at, job.rec.seq});
  job.rec.lease.reset();
}

void MemoryStore::mark_finished(Job& job, SystemTime at) {
  job.rec.finished_at = at;
  finished_.emplace(at, job.rec.seq);
}

void MemoryStore::requeue(Job& job) {
  drop_lease(job);
  job.rec.status = JobStatus::kScheduled;
  ready_[job.rec.pool_id].insert(job.rec.seq);
}

void MemoryStore::requeue_at(Job& job, SystemTime at) {
  drop_lease(job);
  job.rec.status = JobStatus::kScheduled;
  job.rec.run_at = at;
  delayed_.emplace(at, job.rec.seq);
}

std::set<std::string> MemoryStore::promote_due(SystemTime now) {
  std::set<std::string> pools;
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    Job& job = jobs_.at(delayed_.begin()->second);
    delayed_.erase(delayed_.begin());
    job.rec.run_at.reset();
    ready_[job.rec.pool_id].insert(job.rec.seq);
    pools.insert(job.rec.pool_id);
  }
  return pools;
}

JobRecord MemoryStore::new_job_record(const NewJob& spec, SystemTime now) {
  JobRecord rec;
  rec.seq = next_job_++;
  rec.id = "job_" + std::to_string(rec.seq);
  rec.type = spec.type;
  rec.pool_id = spec.pool_id;
  rec.source_id = spec.source_id;
  rec.source = spec.source;
  rec.params = spec.params;
  rec.timeout_ms = spec.timeout_ms;
  rec.max_attempts = spec.max_attempts;
  rec.retry_backoff_ms = spec.retry_backoff_ms;
  rec.created_at = now;
  return rec;
}

JobRecord MemoryStore::insert_job(const NewJob& spec, SystemTime now) {
  Job job;
  job.rec = new_job_record(spec, now);
  job_ids_.emplace(job.rec.id, job.rec.seq);
  Job& stored = jobs_.emplace(job.rec.seq, std::move(job)).first->second;
  requeue(stored);
  return stored.rec;
}

JobRecord MemoryStore::create_job(const NewJob& spec, SystemTime now) {
  JobRecord copy;
  {
    std::lock_guard lock(mu_);
    copy = insert_job(spec, now);
  }
  notify(copy.pool_id);
  return copy;
}

std::vector<JobRecord> MemoryStore::claim(const ClaimRequest& req) {
  std::vector<JobRecord> out;
  std::set<std::string> woken;
  {
    std::lock_guard lock(mu_);
    // Retries whose delay ended become claimable here too, not only when the
    // hub's timer asks (retries_due): every waiter of those pools hears of it.
    woken = promote_due(req.now);
    claim_ready(req, out);
  }
  for (const auto& pool : woken) notify(pool);
  return out;
}

void MemoryStore::claim_ready(const ClaimRequest& req, std::vector<JobRecord>& out) {
  auto queue = ready_.find(req.pool_id);
  if (queue == ready_.end()) return;
  while (!queue->second.empty() && static_cast<int>(out.size()) < req.max_jobs) {
    const std::uint64_t seq = *queue->second.begin();
    queue->second.erase(queue->second.begin());
    Job& job = jobs_.at(seq);
    JobRecord& rec = job.rec;
    rec.status = JobStatus::kRunning;
    ++rec.attempt;
    rec.agent_instance = req.instance_id;
    rec.started_at = req.now;
    rec.progress.reset();
    job.parts.clear();  // parts of an earlier attempt are not this attempt's
    set_lease(job, Lease{"l_" + random_hex(16), req.now + req.lease_ttl, req.instance_id});
    rec.attempts.push_back(AttemptRecord{rec.attempt, req.instance_id, req.now, std::nullopt,
                                         "running", std::nullopt});
    out.push_back(rec);
  }
}

RenewOutcome MemoryStore::renew(const std::string& job_id, std::string_view lease_token,
                                std::chrono::milliseconds ttl, SystemTime now,
                                std::optional<Json> progress) {
  using K = RenewOutcome::Kind;
  std::lock_guard lock(mu_);
  Job* job = find(job_id);
  if (job == nullptr) return {K::kNotFound, std::nullopt};
  const bool is_live = live(*job, lease_token);
  if (job->rec.status == JobStatus::kCancelled) {
    // The agent still holding the lease learns to stop; then the job is gone.
    if (!is_live) return {K::kGone, std::nullopt};
    return {K::kCancelRequested, job->rec.lease};
  }
  if (job->rec.status != JobStatus::kRunning || !is_live) return {K::kConflict, std::nullopt};
  Lease lease = *job->rec.lease;
  lease.expires_at = now + ttl;
  set_lease(*job, std::move(lease));
  if (progress) job->rec.progress = std::move(*progress);
  if (auto it = instances_.find(job->rec.lease->instance_id); it != instances_.end()) {
    it->second.last_seen = now;
  }
  return {K::kRenewed, job->rec.lease};
}

PartOutcome MemoryStore::put_part(const std::string& job_id, std::string_view lease_token,
                                  std::uint64_t seq, std::string ndjson) {
  using K = PartOutcome::Kind;
  std::lock_guard lock(mu_);
  Job* job = find(job_id);
  if (job == nullptr) return {K::kNotFound};
  if (job->rec.status == JobStatus::kCancelled) return {K::kGone};
  if (is_finished(job->rec.status)) {
    return {constant_time_equal(job->final_token, lease_token) ? K::kDuplicate : K::kConflict};
  }
  if (job->rec.status != JobStatus::kRunning || !live(*job, lease_token)) return {K::kConflict};
  Part part;
  for (char c : ndjson) part.lines += c == '\n' ? 1 : 0;
  part.text = std::move(ndjson);
  job->parts[seq] = std::move(part);  // the same seq again replaces: idempotent
  return {K::kAccepted};
}

FinishOutcome MemoryStore::finish(const FinishRequest& req) {
  using K = FinishOutcome::Kind;
  std::lock_guard lock(mu_);
  Job* job = find(req.job_id);
  FinishOutcome out;
  if (job == nullptr) return out;
  JobRecord& rec = job->rec;
  if (rec.status == JobStatus::kCancelled) {
    out.kind = K::kGone;
    return out;
  }
  if (is_finished(rec.status)) {
    out.kind =
        constant_time_equal(job->final_token, req.lease_token) ? K::kDuplicate : K::kConflict;
    return out;
  }
  if (rec.status != JobStatus::kRunning || !live(*job, req.lease_token)) {
    out.kind = K::kConflict;
    return out;
  }
  for (std::uint64_t i = 0; i < req.parts; ++i) {
    if (!job->parts.contains(i)) {
      out.kind = K::kMissingPart;
      out.missing_part = i;
      return out;
    }
  }
  // Parts beyond the announced count belong to nothing.
  if (req.retry_at && req.status == JobStatus::kFailed) return retry(*job, req);
  job->parts.erase(job->parts.lower_bound(req.parts), job->parts.end());
  rec.part_count = req.parts;
  job->final_token = rec.lease->token;
  drop_lease(*job);
  rec.status = req.status;
  rec.result = req.result;
  rec.error = req.status == JobStatus::kFailed ? req.error : std::nullopt;
  const auto times = result_times(rec.started_at, req);
  rec.started_at = times.started_at;
  mark_finished(*job, times.finished_at);
  if (!rec.attempts.empty()) {
    AttemptRecord& a = rec.attempts.back();
    a.finished_at = times.finished_at;
    a.status = to_string(req.status);
    a.error = rec.error;
  }
  out.kind = K::kAccepted;
  out.job = rec;
  return out;
}

FinishOutcome MemoryStore::retry(Job& job, const FinishRequest& req) {
  // The attempt failed but may be retried: no result, the parts go, the job
  // waits for req.retry_at. A later result with this lease is a conflict.
  JobRecord& rec = job.rec;
  const auto finished_at = result_times(rec.started_at, req).finished_at;
  job.parts.clear();
  rec.part_count = 0;
  rec.result.reset();
  rec.error = req.error;
  rec.started_at.reset();
  rec.progress.reset();
  if (!rec.attempts.empty()) {
    AttemptRecord& a = rec.attempts.back();
    a.finished_at = finished_at;
    a.status = to_string(JobStatus::kFailed);
    a.error = req.error;
  }
  requeue_at(job, *req.retry_at);
  FinishOutcome out;
  out.kind = FinishOutcome::Kind::kAccepted;
  out.job = rec;
  return out;
}

std::vector<std::string> MemoryStore::retries_due(SystemTime /*after*/, SystemTime now) {
  std::lock_guard lock(mu_);
  const auto pools = promote_due(now);
  return {pools.begin(), pools.end()};
}

std::optional<SystemTime> MemoryStore::next_retry_at(SystemTime now) {
  std::lock_guard lock(mu_);
  auto it = delayed_.upper_bound({now, UINT64_MAX});
  if (it == delayed_.end()) return std::nullopt;
  return it->first;
}

ReleaseOutcome MemoryStore::release(const std::string& job_id, std::string_view lease_token,
                                    SystemTime now) {
  using K = ReleaseOutcome::Kind;
  std::string pool;
  {
    std::lock_guard lock(mu_);
    Job* job = find(job_id);
    if (job == nullptr) return {K::kNotFound};
    JobRecord& rec = job->rec;
    if (rec.status == JobStatus::kCancelled) return {K::kGone};
    if (rec.status != JobStatus::kRunning || !live(*job, lease_token)) return {K::kConflict};
    // A release is not a failed attempt: the next claim gets the same number.
    --rec.attempt;
    rec.started_at.reset();
    if (!rec.attempts.empty()) {
      rec.attempts.back().status = "released";
      rec.attempts.back().finished_at = now;
    }
    requeue(*job);
    pool = rec.pool_id;
  }
  notify(pool);
  return {K::kReleased};
}

CancelOutcome MemoryStore::cancel(const std::string& job_id, SystemTime now) {
  using K = CancelOutcome::Kind;
  std::lock_guard lock(mu_);
  Job* job = find(job_id);
  if (job == nullptr) return {K::kNotFound, JobStatus::kCancelled};
  JobRecord& rec = job->rec;
  switch (rec.status) {
    case JobStatus::kSucceeded:
    case JobStatus::kFailed: return {K::kFinished, rec.status};
    case JobStatus::kCancelled: return {K::kCancelled, rec.status};  // idempotent
    case JobStatus::kScheduled:
    case JobStatus::kRunning: break;
  }
  cancel_unfinished(
      *job, now,
      Json{{"code", "cancelled"}, {"message", "cancelled by the operator"}, {"retryable", false}});
  return {K::kCancelled, rec.status};
}

void MemoryStore::cancel_unfinished(Job& job, SystemTime now, Json error) {
  JobRecord& rec = job.rec;
  if (rec.status == JobStatus::kScheduled) {
    ready_[rec.pool_id].erase(rec.seq);
    if (rec.run_at) delayed_.erase({*rec.run_at, rec.seq});
    rec.run_at.reset();
  }
  if (rec.status == JobStatus::kRunning && !rec.attempts.empty()) {
    // The lease stays until it expires, so the agent's next heartbeat
    // learns cancel_requested: true; after that the job is gone (410).
    rec.attempts.back().status = "cancelled";
    rec.attempts.back().finished_at = now;
  }
  rec.status = JobStatus::kCancelled;
  rec.error = std::move(error);
  mark_finished(job, now);
}

std::vector<ExpiredLease> MemoryStore::expire_leases(SystemTime now, int max_attempts,
                                                     std::size_t batch) {
  std::vector<ExpiredLease> out;
  std::set<std::string> pools;
  {
    std::lock_guard lock(mu_);
    while (out.size() < batch && !expiries_.empty() && expiries_.begin()->first <= now) {
      Job& job = jobs_.at(expiries_.begin()->second);
      JobRecord& rec = job.rec;
      ExpiredLease e{rec.id, rec.attempt, rec.lease->instance_id, rec.status};
      drop_lease(job);
      if (rec.status == JobStatus::kRunning) {
        ++rec.expiries;
        Json lost{{"code", "agent_lost"},
                  {"message",
                   "the lease expired " + std::to_string(rec.expiries) + " times without a result"},
                  {"retryable", false}};
        if (!rec.attempts.empty()) {
          rec.attempts.back().status = "expired";
          rec.attempts.back().finished_at = now;
        }
        // Every counted hand-out is an attempt: expiries and retried failures.
        const int limit = rec.max_attempts > 0 ? rec.max_attempts : max_attempts;
        if (rec.attempt >= limit) {
          rec.status = JobStatus::kFailed;
          rec.error = std::move(lost);
          mark_finished(job, now);
        } else {
          requeue(job);
          pools.insert(rec.pool_id);
        }
        e.new_status = rec.status;
      }
      out.push_back(std::move(e));
    }
  }
  for (const auto& pool : pools) notify(pool);
  return out;
}

std::optional<SystemTime> MemoryStore::next_lease_expiry() {
  std::lock_guard lock(mu_);
  if (expiries_.empty()) return std::nullopt;
  return expiries_.begin()->first;
}

}  // namespace outpost::hub
