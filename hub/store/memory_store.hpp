#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/job_store.hpp"

namespace outpost::hub {

/// The in-memory JobStore: the default for the demo and fast tests. State
/// lives only in this process (a restart forgets it) and stays bounded by
/// retention: the hub purges finished jobs and stale instances regularly.
///
/// Thread safety: one mutex guards everything; no call blocks on I/O, so the
/// hub runs it inline on its I/O threads. The wake-up callback is called after
/// the mutex is released, on the thread of the operation that caused it.
class MemoryStore final : public JobStore {
 public:
  MemoryStore();  ///< holds kDefaultPool from the start
  MemoryStore(const MemoryStore&) = delete;
  MemoryStore& operator=(const MemoryStore&) = delete;

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

  JobRecord create_job(const NewJob& spec, SystemTime now) override;
  std::optional<JobRecord> get_job(const std::string& id) override;
  JobRecord create_failed_job(const NewJob& spec, const Json& error, SystemTime now) override;
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

  ScheduleRecord create_schedule(const NewSchedule& spec, SystemTime now) override;
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
  void ping() override {}
  StoreCounts counts(SystemTime online_since) override;
  void on_jobs_available(JobsAvailable callback) override;

 private:
  struct Part {
    std::string text;  // validated NDJSON, every line ending in '\n'
    std::uint64_t lines = 0;
  };
  struct Job {
    JobRecord rec;
    std::map<std::uint64_t, Part> parts;
    std::string final_token;  // lease token the result was accepted with
  };

  // Helpers expect mu_ held.
  Job* find(const std::string& id);
  bool live(const Job& job, std::string_view lease_token) const;
  void set_lease(Job& job, Lease lease);
  void drop_lease(Job& job);
  void mark_finished(Job& job, SystemTime at);
  void requeue(Job& job);
  void requeue_at(Job& job, SystemTime at);           // scheduled again, claimable from `at`
  std::set<std::string> promote_due(SystemTime now);  // delayed → ready; their pools
  void claim_ready(const ClaimRequest& req, std::vector<JobRecord>& out);
  FinishOutcome retry(Job& job, const FinishRequest& req);
  JobRecord insert_job(const NewJob& spec, SystemTime now);
  /// Ends an unfinished job as cancelled with `error` (see cancel()).
  void cancel_unfinished(Job& job, SystemTime now, Json error);
  JobRecord new_job_record(const NewJob& spec, SystemTime now);
  void notify(const std::string& pool_id);  // called without mu_

  std::mutex mu_;
  std::uint64_t next_token_ = 1, next_source_ = 1, next_job_ = 1;
  std::map<std::uint64_t, TokenRecord> tokens_;               // by creation
  std::unordered_map<std::string, std::uint64_t> token_ids_;  // id → key of tokens_
  std::unordered_map<std::string, std::uint64_t> token_hashes_;
  std::map<std::uint64_t, SourceRecord> sources_;
  std::unordered_map<std::string, std::uint64_t> source_ids_;
  std::map<std::string, InstanceRecord> instances_;
  std::map<std::uint64_t, Job> jobs_;  // by seq
  std::unordered_map<std::string, std::uint64_t> job_ids_;
  std::map<std::string, std::set<std::uint64_t>> ready_;     // pool → claimable seqs, FIFO
  std::set<std::pair<SystemTime, std::uint64_t>> expiries_;  // live leases
  std::set<std::pair<SystemTime, std::uint64_t>> finished_;  // retention order
  std::set<std::pair<SystemTime, std::uint64_t>> delayed_;   // retries waiting: run_at, seq
  std::uint64_t next_schedule_ = 1;
  std::map<std::uint64_t, ScheduleRecord> schedules_;  // by creation
  std::shared_ptr<const JobsAvailable> callback_;
  std::uint64_t next_pool_ = 1;
  std::map<std::uint64_t, PoolRecord> pools_;  // by creation; key 0 = kDefaultPool
};

}  // namespace outpost::hub
