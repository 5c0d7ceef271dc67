#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>

#include <boost/asio/any_io_executor.hpp>

#include "agent_requests.hpp"
#include "answer.hpp"
#include "clock.hpp"
#include "metrics.hpp"
#include "observability/log.hpp"
#include "store/job_store.hpp"

namespace outpost::hub {

/// Rules and timings of the protocol (the name is historical: they used to
/// live in the in-memory Store).
struct StoreOptions {
  std::chrono::milliseconds lease_ttl{30'000};
  int max_attempts = 3;  ///< lease expiries before a job fails as agent_lost
  std::chrono::milliseconds poll_wait{20'000};
  std::chrono::milliseconds heartbeat_interval{10'000};
  std::size_t max_part_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds max_wait{120'000};  ///< cap on a claim's wait_ms
  /// Finished jobs older than this are deleted with their parts (--retain).
  std::chrono::milliseconds retain{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds retention_interval{60'000};  ///< how often retention runs
  std::size_t retention_batch = 500;                     ///< jobs deleted per store call
  /// Longest wait between lease sweeps when no lease of this hub is due
  /// (another hub on a shared store may hold leases this hub does not know).
  std::chrono::milliseconds sweep_interval{1'000};
  /// Longest wait between scheduler passes (due schedules, retries whose
  /// delay ended): another hub on a shared store may have created them.
  std::chrono::milliseconds schedule_interval{1'000};
  /// Smallest every_ms a schedule may have.
  std::chrono::milliseconds min_every{1'000};
};

/// How a waiting claim is answered and learns that its client went away.
struct ClaimReply {
  std::function<void(Answer)> send;                    ///< required; any thread, once
  std::function<bool()> gone;                          ///< may be empty
  std::function<void(std::function<void()>)> on_gone;  ///< may be empty
};

/// The hub's rules: validation, authentication, lease and fencing rules,
/// attempts, the long-poll waiters of this process and their wake-ups, job
/// views, lease expiry and retention. Calls the JobStore; knows no HTTP.
///
/// Calls block for as long as the store does: the transport runs them where
/// blocking is allowed (see Hub). Timers run on `io`; store work they start
/// is posted to `store_exec`. Thread safe. Create with std::make_shared and
/// call start() once.
class HubService : public std::enable_shared_from_this<HubService> {
 public:
  HubService(boost::asio::any_io_executor io, boost::asio::any_io_executor store_exec,
             std::shared_ptr<JobStore> store, StoreOptions options,
             std::shared_ptr<const Clock> clock, std::shared_ptr<HubMetrics> metrics);
  ~HubService();
  HubService(const HubService&) = delete;
  HubService& operator=(const HubService&) = delete;

  /// Subscribes to wake-ups and arms the lease and retention timers.
  void start();
  /// Answers every waiting claim with no jobs and stops the timers.
  void shutdown();

  [[nodiscard]] const StoreOptions& options() const noexcept { return options_; }
  [[nodiscard]] JobStore& store() noexcept { return *store_; }
  [[nodiscard]] const Clock& clock() const noexcept { return *clock_; }

  /// The live (not revoked) agent token whose secret is `secret`.
  std::optional<TokenRecord> authenticate_agent(std::string_view secret);

  // Agent protocol (agent-protocol-v1.md).
  Answer connect(const TokenRecord& token, const ConnectRequest& request);
  Answer agent_heartbeat(const TokenRecord& token, const AgentHeartbeatRequest& request);
  /// Answers through `reply`, at once or when a job arrives / the wait ends.
  void claim(const TokenRecord& token, const ClaimParams& params, ClaimReply reply);
  Answer job_heartbeat(const std::string& job_id, const JobHeartbeatRequest& request);
  Answer put_part(const std::string& job_id, std::string_view lease_token, std::uint64_t seq,
                  std::string_view ndjson);
  Answer result(const std::string& job_id, const ResultRequest& request);
  Answer release(const std::string& job_id, const ReleaseRequest& request);

  // Admin API (hub-admin-api.md, hub-v2.md §2).
  Answer create_token(const Json& body);
  Answer revoke_token(const std::string& id);
  Answer list_tokens();
  Answer create_source(const Json& body);
  Answer list_sources();
  /// One source, its config masked as in list_sources (hub-v2 §3).
  Answer get_source(const std::string& id);
  /// PATCH /v1/admin/sources/{id}: name, config, pool_id (hub-v2 §3).
  Answer update_source(const std::string& id, const Json& body);
  /// DELETE /v1/admin/sources/{id}: 204; its unfinished jobs end cancelled.
  Answer delete_source(const std::string& id);
  /// POST /v1/admin/sources/{id}/test (hub-v2 §4): answers through `send`
  /// (once, from any thread) with the finished job, 202 {"id"} when
  /// `wait_ms` passes first, or at once with a `no_agent` failure. Never
  /// blocks beyond its store calls: the wait is a timer.
  void test_source(const std::string& id, const Json& body, std::function<void(Answer)> send);
  Answer create_pool(const Json& body);
  /// Every pool with agents_online and queue_depth.
  Answer list_pools();
  Answer create_job(const Json& body);
  Answer get_job(const std::string& id);
  /// `query` is the raw query string (status, source_id, pool_id, limit, cursor).
  Answer list_jobs(std::string_view query);
  Answer cancel_job(const std::string& id);
  Answer list_agents();
  // Schedules (hub-v2.md §4; service_schedules.cpp).
  Answer create_schedule(const Json& body);
  Answer list_schedules();
  Answer delete_schedule(const std::string& id);
  /// Checks the job and the window; on success calls `sink` with each line
  /// (offset ≤ line < offset + limit) and returns nullopt.
  std::optional<Answer> stream_rows(const std::string& id, std::uint64_t offset,
                                    std::uint64_t limit, const LineSink& sink);

  /// One lease sweep now (the timer calls it; tests call it after moving a
  /// ManualClock). Returns the leases ended.
  std::size_t sweep_leases();
  /// One retention pass now: deletes finished jobs older than options().retain.
  std::size_t run_retention();
  /// One scheduler pass now (the timer calls it; tests call it after moving
  /// a ManualClock): fires every due schedule once, and wakes this hub's
  /// waiting claims of pools where a retry's delay ended. Returns the jobs
  /// this hub created.
  std::size_t run_scheduler();
  /// Serves this hub's waiting claims of `pool_id` (a wake-up).
  void serve_waiters(const std::string& pool_id);

  struct Stats {
    std::size_t waiters = 0;
    std::size_t scheduled = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
  };
  /// Waiting claims of this process, and jobs by status from the store.
  Stats stats();
  /// The metrics page (gauges read from the store now).
  std::string metrics_text();

 private:
  struct Waiter;
  struct Timers;

  void on_wakeup(const std::string& pool_id);
  void touch(const TokenRecord& token);
  Json leased_job_json(const JobRecord& job) const;
  void log_claimed(const std::vector<JobRecord>& jobs, const std::string& instance_id);
  void answer_waiter(const std::shared_ptr<Waiter>& w, Answer answer);  // mu_ held
  void finish_serve(const std::shared_ptr<Waiter>& w, std::vector<JobRecord> jobs);
  void add_waiter(const TokenRecord& token, const ClaimParams& params, ClaimReply reply,
                  std::chrono::milliseconds wait, std::uint64_t generation);
  void end_waiters_of(const std::string& token_id);
  void release_unsent(const std::vector<JobRecord>& jobs);
  void arm_sweep(std::optional<SystemTime> due);
  void arm_retention();
  void arm_scheduler(std::optional<SystemTime> due);
  /// The job POST /v1/admin/jobs would create from `body`, or the error answer.
  std::variant<NewJob, Answer> new_job(const Json& body);
  bool fire(const ScheduleRecord& schedule, SystemTime now);
  /// `pool_id` of a request body when given (400 naming it when no such
  /// pool), else kDefaultPool.
  std::string pool_of(const Json& body);
  /// Agents of `pool_id` whose heartbeats are due (3 missed = offline).
  std::uint64_t agents_online(const std::string& pool_id);
  // Test connection waits (service_probe.cpp).
  struct Probe;
  struct Probes;
  void check_probe(const std::shared_ptr<Probe>& p);
  void arm_probe(const std::shared_ptr<Probe>& p);
  void finish_probe(const std::shared_ptr<Probe>& p, Answer answer);
  /// A job this hub saw finish: a Test connection waiting on it answers now.
  void probe_job_finished(const std::string& job_id);
  void end_probes();  // shutdown: each waiting test answers 202

  boost::asio::any_io_executor io_;
  boost::asio::any_io_executor store_exec_;
  std::shared_ptr<JobStore> store_;
  StoreOptions options_;
  std::shared_ptr<const Clock> clock_;
  std::shared_ptr<HubMetrics> metrics_;
  obs::Logger log_{"hub"};

  std::mutex mu_;  // guards everything below
  bool shut_down_ = false;
  std::list<std::shared_ptr<Waiter>> waiters_;           // oldest first
  std::map<std::string, std::uint64_t> wake_gen_;        // pool → wake-ups seen
  std::unordered_map<std::string, SystemTime> touched_;  // token id → last touch_token
  std::unique_ptr<Timers> timers_;
  std::uint64_t next_waiter_ = 1;
  std::optional<SystemTime> retries_checked_;  // the last scheduler pass's `now`
  std::shared_ptr<Probes> probes_;  // made on first use (service_probe.cpp)
};

}  // namespace outpost::hub
