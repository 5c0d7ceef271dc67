#pragma once

// The storage interface of outpost-hub (hub-v2.md §1, §2). The rules layer
// (hub/service.*) calls it; the memory store (hub/store/memory_store.*) and
// the PostgreSQL store (hub/store/postgres/) implement it.
//
// Each operation is one atomic unit: a PostgreSQL store does it in one
// transaction, the memory store under one lock. Operations take the time
// (`now`) from the caller's clock, so lease and retention rules are tested
// with a manual clock. No operation returns or knows about HTTP.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/records.hpp"

namespace outpost::hub {

/// The store cannot be reached or failed mid-operation (connection lost,
/// server shut down, serialization retries exhausted). The caller answers 503
/// `store_unavailable`; the operation had no effect or its effect is durable
/// and repeating it is safe (every agent call is idempotent per lease).
/// The message never holds a password.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- outcomes: expected results are values, never exceptions ----------------

struct ClaimRequest {
  std::string pool_id{kDefaultPool};  ///< only jobs of this pool
  std::string instance_id;
  int max_jobs = 1;  ///< >= 1
  std::chrono::milliseconds lease_ttl{30'000};
  SystemTime now;
};

/// Heartbeat of a job's lease.
struct RenewOutcome {
  enum class Kind {
    kRenewed,          ///< lease extended to now + ttl; `lease` is the new one
    kCancelRequested,  ///< job cancelled, lease still live: `lease` unchanged, tell the agent to
                       ///< stop
    kConflict,         ///< not the job's live lease (expired / handed to another agent) → 409
    kGone,             ///< job cancelled and this lease no longer live → 410
    kNotFound,         ///< → 404
  };
  Kind kind = Kind::kNotFound;
  std::optional<Lease> lease;
};

/// Upload of one result part.
struct PartOutcome {
  enum class Kind {
    kAccepted,   ///< stored (the same seq again replaces: idempotent)
    kDuplicate,  ///< the job already finished with this lease → 200 duplicate
    kConflict,   ///< → 409
    kGone,       ///< cancelled → 410
    kNotFound,   ///< → 404
  };
  Kind kind = Kind::kNotFound;
};

struct FinishRequest {
  std::string job_id;
  std::string lease_token;
  JobStatus status = JobStatus::kSucceeded;  ///< kSucceeded or kFailed
  std::optional<Json> result;
  std::optional<Json> error;  ///< required by the rules when status is kFailed
  std::uint64_t parts = 0;    ///< parts 0..parts-1 must all be stored
  /// The agent's times as it reported them. The store holds them inside the
  /// lease's life as it saw it (result_times()), so a drifting agent clock
  /// cannot date a result before its claim or after `now` (retention counts
  /// from finished_at): started_at absent keeps the claim time.
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> finished_at;  ///< absent: `now`
  SystemTime now;
  /// With status kFailed: the attempt ends failed, but the job goes back to
  /// scheduled (no result kept, error kept), claimable from this time on.
  /// The rules decide it (retryable error, attempts left, backoff).
  std::optional<SystemTime> retry_at;
};

/// The times a finished attempt is stored with: the agent's started_at in
/// [claimed, now] (absent: `claimed`), its finished_at in [started, now]
/// (absent: now). `claimed` is the job's started_at as the claim set it.
struct ResultTimes {
  SystemTime started_at;
  SystemTime finished_at;
};
inline ResultTimes result_times(std::optional<SystemTime> claimed, const FinishRequest& req) {
  const SystemTime lo = std::min(claimed.value_or(req.now), req.now);
  const SystemTime started = req.started_at ? std::clamp(*req.started_at, lo, req.now) : lo;
  const SystemTime finished =
      req.finished_at ? std::clamp(*req.finished_at, started, req.now) : req.now;
  return {started, finished};
}

struct FinishOutcome {
  enum class Kind {
    kAccepted,     ///< result stored; parts above `parts` dropped; lease ended
    kDuplicate,    ///< this lease's result was already accepted → 200 duplicate
    kConflict,     ///< → 409 (another lease, or finished with another lease)
    kGone,         ///< cancelled → 410
    kNotFound,     ///< → 404
    kMissingPart,  ///< `missing_part` names the first absent part → 400
  };
  Kind kind = Kind::kNotFound;
  std::uint64_t missing_part = 0;
  std::optional<JobRecord> job;  ///< the finished job on kAccepted
};

/// Release of a lease without a result (agent shutting down): the job is
/// scheduled again and the hand-out does not count as an attempt.
struct ReleaseOutcome {
  enum class Kind { kReleased, kConflict, kGone, kNotFound };
  Kind kind = Kind::kNotFound;
};

struct CancelOutcome {
  enum class Kind {
    kCancelled,  ///< now cancelled, or already was (idempotent) → 202
    kFinished,   ///< succeeded or failed earlier → 409 job_finished; `status` says which
    kNotFound,
  };
  Kind kind = Kind::kNotFound;
  JobStatus status = JobStatus::kCancelled;
};

/// One lease that expire_leases ended (for the log and metrics).
struct ExpiredLease {
  std::string job_id;
  int attempt = 0;
  std::string instance_id;
  /// kScheduled (claimable again), kFailed (agent_lost: expiries reached
  /// max_attempts) or kCancelled (a cancelled job's lease just ended).
  JobStatus new_status = JobStatus::kScheduled;
};

/// Receives stored NDJSON in order. Return false to stop early.
using PartSink = std::function<bool(std::uint64_t seq, std::string_view ndjson)>;
/// Receives one line (a row or a metadata table) without its '\n'. Return false to stop.
using LineSink = std::function<bool(std::string_view line)>;

/// Called with a pool id when jobs may have become claimable there.
using JobsAvailable = std::function<void(const std::string& pool_id)>;

/// Storage of tokens, sources, agent instances, jobs, leases and result parts.
///
/// Thread safety: every member may be called from any thread concurrently.
/// Calls may block (network round trips): the rules layer runs them off the
/// I/O threads. Every member may throw StoreUnavailable.
class JobStore {
 public:
  virtual ~JobStore() = default;

  // ---- tokens (only hashes are stored) ----
  virtual TokenRecord create_token(const NewToken& token, SystemTime now) = 0;
  /// Marks revoked; false when there is no such token. Revoking twice is true.
  virtual bool revoke_token(const std::string& id) = 0;
  /// The token whose hash is `hash` (revoked ones included: the caller checks).
  virtual std::optional<TokenRecord> find_token_by_hash(std::string_view hash) = 0;
  virtual std::vector<TokenRecord> list_tokens() = 0;  ///< by creation, oldest first
  /// Sets last_used_at = now (the rules throttle how often they call it).
  virtual void touch_token(const std::string& id, SystemTime now) = 0;

  // ---- sources ----
  virtual SourceRecord create_source(const NewSource& source, SystemTime now) = 0;
  virtual std::optional<SourceRecord> get_source(const std::string& id) = 0;
  virtual std::vector<SourceRecord> list_sources() = 0;  ///< by creation, oldest first

  /// Applies `patch`; nullopt when there is no such source. Jobs already
  /// created keep the source and pool they were created with.
  virtual std::optional<SourceRecord> update_source(const std::string& id,
                                                    const SourcePatch& patch) = 0;
  /// Deletes the source and ends its unfinished jobs as `cancelled` (with
  /// error code "cancelled"), as cancel() would: a scheduled one at once, a
  /// running one keeps its lease so its agent learns cancel_requested.
  /// nullopt when there is no such source, else how many jobs it cancelled.
  virtual std::optional<std::size_t> delete_source(const std::string& id, SystemTime now) = 0;

  // ---- pools (kDefaultPool always exists) ----
  /// nullopt when a pool of that name exists already.
  virtual std::optional<PoolRecord> create_pool(const std::string& name, SystemTime now) = 0;
  virtual std::optional<PoolRecord> get_pool(const std::string& id) = 0;
  virtual std::vector<PoolRecord> list_pools() = 0;  ///< kDefaultPool first, then by creation

  // ---- agent instances ----
  virtual InstanceRecord upsert_instance(const InstanceUpdate& update, SystemTime now) = 0;
  /// Every instance with `leased` filled in, by instance id.
  virtual std::vector<InstanceRecord> list_instances() = 0;
  /// Instances of `pool_id` seen since `since` (a Test connection's check,
  /// cheaper than counts()).
  virtual std::uint64_t agents_online(const std::string& pool_id, SystemTime since) = 0;
  /// Forgets instances not seen since `cutoff`; returns how many.
  virtual std::size_t purge_instances_before(SystemTime cutoff) = 0;

  // ---- jobs ----
  /// Stores a scheduled job, then reports its pool through on_jobs_available.
  virtual JobRecord create_job(const NewJob& job, SystemTime now) = 0;
  virtual std::optional<JobRecord> get_job(const std::string& id) = 0;
  /// Stores a job that is already `failed` with `error` (finished_at = now):
  /// never claimable, no wake-up. A Test connection with no agent online.
  virtual JobRecord create_failed_job(const NewJob& job, const Json& error, SystemTime now) = 0;
  /// Jobs matching `filter`, newest first, at most `limit`, only those with
  /// seq < *before_seq when given (the cursor of the previous page).
  virtual JobPage list_jobs(const JobFilter& filter, std::size_t limit,
                            std::optional<std::uint64_t> before_seq) = 0;

  /// Leases up to max_jobs scheduled jobs of the pool, oldest first (FIFO by
  /// seq), each exactly once across every hub: status running, attempt + 1,
  /// a new lease token expiring at now + lease_ttl, parts of an earlier
  /// attempt dropped, an AttemptRecord appended. Returns them as leased.
  virtual std::vector<JobRecord> claim(const ClaimRequest& request) = 0;
  virtual RenewOutcome renew(const std::string& job_id, std::string_view lease_token,
                             std::chrono::milliseconds ttl, SystemTime now,
                             std::optional<Json> progress) = 0;
  /// `ndjson`: validated lines, each ending in '\n'.
  virtual PartOutcome put_part(const std::string& job_id, std::string_view lease_token,
                               std::uint64_t seq, std::string ndjson) = 0;
  virtual FinishOutcome finish(const FinishRequest& request) = 0;
  /// On kReleased, reports the pool through on_jobs_available.
  virtual ReleaseOutcome release(const std::string& job_id, std::string_view lease_token,
                                 SystemTime now) = 0;
  /// A scheduled job ends at once; a running one keeps its lease until it
  /// expires. Sets finished_at = now and error {"code": "cancelled", …}.
  virtual CancelOutcome cancel(const std::string& job_id, SystemTime now) = 0;
  /// Ends up to `batch` leases with expires_at <= now (see ExpiredLease);
  /// reports pools with requeued jobs through on_jobs_available.
  virtual std::vector<ExpiredLease> expire_leases(SystemTime now, int max_attempts,
                                                  std::size_t batch) = 0;
  /// The earliest expires_at of any lease, if any.
  virtual std::optional<SystemTime> next_lease_expiry() = 0;

  // ---- retries (a failed attempt waiting out its backoff) ----
  /// Pools of scheduled jobs whose retry time fell in (after, now]: they just
  /// became claimable (claim never hands out a job before its run_at).
  virtual std::vector<std::string> retries_due(SystemTime after, SystemTime now) = 0;
  /// The earliest run_at after `now` of a scheduled job, if any.
  virtual std::optional<SystemTime> next_retry_at(SystemTime now) = 0;

  // ---- schedules (hub-v2.md §4) ----
  virtual ScheduleRecord create_schedule(const NewSchedule& schedule, SystemTime now) = 0;
  virtual std::vector<ScheduleRecord> list_schedules() = 0;  ///< by creation, oldest first
  /// False when there is no such schedule.
  virtual bool delete_schedule(const std::string& id) = 0;
  /// Every active schedule of the source ends "cancelled" (no next run);
  /// returns how many. Called when the source is deleted.
  virtual std::size_t cancel_schedules_for_source(const std::string& source_id) = 0;
  /// Up to `limit` active schedules with next_run_at <= now, earliest first.
  virtual std::vector<ScheduleRecord> due_schedules(SystemTime now, std::size_t limit) = 0;
  /// In one atomic unit: if the schedule is active and its next_run_at is
  /// still `due`, moves it to `next`, creates `job` (reporting its pool through
  /// on_jobs_available) and records it as last_job_id. nullopt when another
  /// hub fired this due time first (or the schedule is gone): exactly one job
  /// per due time, however many hubs share the store.
  virtual std::optional<JobRecord> fire_schedule(const std::string& id, SystemTime due,
                                                 SystemTime next, const NewJob& job,
                                                 SystemTime now) = 0;
  /// The earliest next_run_at of an active schedule, if any.
  virtual std::optional<SystemTime> next_schedule_at() = 0;

  // ---- results ----
  /// Streams the stored parts of a job in seq order; false when no such job.
  virtual bool read_parts(const std::string& job_id, const PartSink& sink) = 0;
  /// Streams lines offset..offset+limit-1 of the stored parts (in seq order,
  /// line by line, never the whole result in memory). nullopt when no such
  /// job, else the number of lines given to `sink`.
  virtual std::optional<std::uint64_t> read_rows(const std::string& job_id, std::uint64_t offset,
                                                 std::uint64_t limit, const LineSink& sink) = 0;

  // ---- retention, health, metrics, wake-ups ----
  /// Deletes up to `batch` finished jobs with finished_at < cutoff, with
  /// their parts; returns how many (0 = nothing left to do).
  virtual std::size_t purge_finished_before(SystemTime cutoff, std::size_t batch) = 0;
  /// Throws StoreUnavailable when the store cannot answer.
  virtual void ping() = 0;
  /// Jobs by status, queue depth by pool, and instances with last_seen >=
  /// online_since by pool.
  virtual StoreCounts counts(SystemTime online_since) = 0;
  /// Sets the one wake-up callback (replacing any earlier one). The memory
  /// store calls it inline from the operation, after releasing its locks; a
  /// shared store also calls it from its own thread when another process
  /// made jobs claimable. The callback must not block.
  virtual void on_jobs_available(JobsAvailable callback) = 0;
};

}  // namespace outpost::hub
