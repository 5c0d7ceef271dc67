#pragma once

// The PostgreSQL JobStore (hub-v2.md §1, §2): every operation is one
// statement or one transaction on a pooled libpq connection; wake-ups from
// other hubs arrive through LISTEN outpost_jobs on a thread of its own.
// Split over pg_store_*.cpp by area (agent calls, admin calls, results).

#include <memory>
#include <mutex>
#include <string>

#include "observability/log.hpp"
#include "store/job_store.hpp"
#include "store/postgres/pg_listener.hpp"
#include "store/postgres/pg_pool.hpp"

namespace outpost::hub::pg {

class PostgresStore final : public JobStore {
 public:
  /// Connects (one connection at once, so an unreachable store fails here
  /// with StoreUnavailable), migrates the schema and starts the listener.
  PostgresStore(ConnParams params, std::size_t connections);
  ~PostgresStore() override;

  TokenRecord create_token(const NewToken& token, SystemTime now) override;
  bool revoke_token(const std::string& id) override;
  std::optional<TokenRecord> find_token_by_hash(std::string_view hash) override;
  std::vector<TokenRecord> list_tokens() override;
  void touch_token(const std::string& id, SystemTime now) override;

  SourceRecord create_source(const NewSource& source, SystemTime now) override;
  std::optional<SourceRecord> get_source(const std::string& id) override;
  std::vector<SourceRecord> list_sources() override;
  std::optional<SourceRecord> update_source(const std::string& id,
                                            const SourcePatch& patch) override;
  std::optional<std::size_t> delete_source(const std::string& id, SystemTime now) override;

  std::optional<PoolRecord> create_pool(const std::string& name, SystemTime now) override;
  std::optional<PoolRecord> get_pool(const std::string& id) override;
  std::vector<PoolRecord> list_pools() override;

  InstanceRecord upsert_instance(const InstanceUpdate& update, SystemTime now) override;
  std::vector<InstanceRecord> list_instances() override;
  std::size_t purge_instances_before(SystemTime cutoff) override;
  std::uint64_t agents_online(const std::string& pool_id, SystemTime since) override;

  JobRecord create_job(const NewJob& job, SystemTime now) override;
  std::optional<JobRecord> get_job(const std::string& id) override;
  JobRecord create_failed_job(const NewJob& job, const Json& error, SystemTime now) override;
  JobPage list_jobs(const JobFilter& filter, std::size_t limit,
                    std::optional<std::uint64_t> before_seq) override;

  std::vector<JobRecord> claim(const ClaimRequest& request) override;
  RenewOutcome renew(const std::string& job_id, std::string_view lease_token,
                     std::chrono::milliseconds ttl, SystemTime now,
                     std::optional<Json> progress) override;
  PartOutcome put_part(const std::string& job_id, std::string_view lease_token, std::uint64_t seq,
                       std::string ndjson) override;
  FinishOutcome finish(const FinishRequest& request) override;
  ReleaseOutcome release(const std::string& job_id, std::string_view lease_token,
                         SystemTime now) override;
  CancelOutcome cancel(const std::string& job_id, SystemTime now) override;
  std::vector<ExpiredLease> expire_leases(SystemTime now, int max_attempts,
                                          std::size_t batch) override;
  std::optional<SystemTime> next_lease_expiry() override;
  std::vector<std::string> retries_due(SystemTime after, SystemTime now) override;
  std::optional<SystemTime> next_retry_at(SystemTime now) override;

  ScheduleRecord create_schedule(const NewSchedule& schedule, SystemTime now) override;
  std::vector<ScheduleRecord> list_schedules() override;
  bool delete_schedule(const std::string& id) override;
  std::size_t cancel_schedules_for_source(const std::string& source_id) override;
  std::vector<ScheduleRecord> due_schedules(SystemTime now, std::size_t limit) override;
  std::optional<JobRecord> fire_schedule(const std::string& id, SystemTime due, SystemTime next,
                                         const NewJob& job, SystemTime now) override;
  std::optional<SystemTime> next_schedule_at() override;

  bool read_parts(const std::string& job_id, const PartSink& sink) override;
  std::optional<std::uint64_t> read_rows(const std::string& job_id, std::uint64_t offset,
                                         std::uint64_t limit, const LineSink& sink) override;

  std::size_t purge_finished_before(SystemTime cutoff, std::size_t batch) override;
  void ping() override;
  StoreCounts counts(SystemTime online_since) override;
  void on_jobs_available(JobsAvailable callback) override;

 private:
  /// Calls the wake-up callback (if set) for `pool_id` ("" = every pool).
  void notify(const std::string& pool_id);
  /// After the LISTEN connection (re)connects: "" and every pool with queued jobs.
  void resync();
  /// The INSERT of a job (with its pg_notify) and running it on `conn`.
  static const Statement& create_statement();
  static JobRecord insert_job(Connection& conn, const NewJob& job, SystemTime now);
  /// finish() of a failed attempt that will be retried (req.retry_at set).
  FinishOutcome finish_for_retry(const FinishRequest& req);
  /// The job's seq, or nullopt when there is no such job.
  std::optional<std::int64_t> job_seq(Connection& conn, const std::string& id);

  obs::Logger log_{"hub.store"};
  Pool pool_;
  std::mutex callback_mu_;
  JobsAvailable callback_;
  std::unique_ptr<Listener> listener_;  // last: its thread calls notify()
};

}  // namespace outpost::hub::pg
