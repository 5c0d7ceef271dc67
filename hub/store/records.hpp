#pragma once

// The hub's domain records: what a JobStore keeps and returns. Plain values,
// no HTTP and no store internals, so the rules layer, every store and the
// tests share one vocabulary.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace outpost::hub {

using Json = nlohmann::json;
using SystemTime = std::chrono::system_clock::time_point;

/// The pool every token, source and job belongs to unless told otherwise
/// (hub-v2.md §3). Every store has it from the start, named kDefaultPoolName.
inline constexpr std::string_view kDefaultPool = "pool_default";
inline constexpr std::string_view kDefaultPoolName = "default";

enum class JobStatus { kScheduled, kRunning, kSucceeded, kFailed, kCancelled };

/// "scheduled", "running", "succeeded", "failed", "cancelled".
[[nodiscard]] const char* to_string(JobStatus s) noexcept;
/// The inverse of to_string; nullopt for any other text.
[[nodiscard]] std::optional<JobStatus> parse_job_status(std::string_view text) noexcept;
/// Succeeded, failed or cancelled: the job will not run again.
[[nodiscard]] constexpr bool is_finished(JobStatus s) noexcept {
  return s == JobStatus::kSucceeded || s == JobStatus::kFailed || s == JobStatus::kCancelled;
}

/// An agent access token. Only the SHA-256 of the secret is ever stored.
struct TokenRecord {
  std::string id;  ///< "tok_…", assigned by the store
  std::string name;
  std::string pool_id{kDefaultPool};
  std::string hash;  ///< raw SHA-256 of the secret (32 bytes)
  SystemTime created_at;
  std::optional<SystemTime> last_used_at;
  bool revoked = false;
};

struct NewToken {
  std::string name;
  std::string pool_id{kDefaultPool};
  std::string hash;  ///< raw SHA-256 of the secret; the secret never reaches the store
};

struct SourceRecord {
  std::string id;  ///< "src_…", assigned by the store
  std::string name;
  std::string type;
  std::string pool_id{kDefaultPool};
  Json config = Json::object();  ///< as given: secret references stay unresolved
  SystemTime created_at;
};

struct NewSource {
  std::string name;
  std::string type;
  std::string pool_id{kDefaultPool};
  Json config = Json::object();
};

/// A set of agents that reach the same sources (one private network). A
/// claim only ever returns jobs of the claiming token's pool.
struct PoolRecord {
  std::string id;    ///< "pool_…" assigned by the store; kDefaultPool for the default one
  std::string name;  ///< unique within the store
  SystemTime created_at;
};

/// PATCH of a source: fields left empty keep their stored value; `config`
/// replaces the stored config as a whole (the rules layer has already put
/// back the values the client left masked).
struct SourcePatch {
  std::optional<std::string> name;
  std::optional<Json> config;
  std::optional<std::string> pool_id;
};

/// One running agent process (agents sharing a token are replicas).
struct InstanceRecord {
  std::string instance_id;
  std::string token_id;
  std::string pool_id{kDefaultPool};
  std::string version;
  std::string hostname;
  std::int64_t capacity = 0;
  std::optional<std::int64_t> reported_running;  ///< from its last heartbeat
  std::optional<std::int64_t> uptime_ms;
  SystemTime first_seen;
  SystemTime last_seen;
  Json connectors = Json::array();
  std::int64_t leased = 0;  ///< running jobs whose live lease it holds (filled by list_instances)
};

/// Insert-or-update of an instance on connect, heartbeat and claim. Fields
/// left empty keep their stored value; last_seen becomes `now` (the PostgreSQL
/// store leaves a row it saw less than a second ago as it is: docs/hub.md).
struct InstanceUpdate {
  std::string instance_id;
  std::string token_id;
  std::string pool_id{kDefaultPool};
  std::optional<std::string> version;
  std::optional<std::string> hostname;
  std::optional<std::int64_t> capacity;
  std::optional<std::int64_t> reported_running;
  std::optional<std::int64_t> uptime_ms;
  std::optional<Json> connectors;
};

struct Lease {
  std::string token;  ///< "l_…", fresh on every claim
  SystemTime expires_at;
  std::string instance_id;
};

/// One hand-out of a job to an agent. `status` is "running", "succeeded",
/// "failed", "expired" (the lease ran out), "released" or "cancelled".
struct AttemptRecord {
  int attempt = 0;
  std::string agent_instance;
  SystemTime started_at;
  std::optional<SystemTime> finished_at;
  std::string status = "running";
  std::optional<Json> error;
};

struct JobRecord {
  std::string id;         ///< "job_…", assigned by the store
  std::uint64_t seq = 0;  ///< store-wide creation order (newest = largest); paging key
  std::string type;
  std::string pool_id{kDefaultPool};
  std::optional<std::string> source_id;  ///< empty for {"source": {"ref": NAME}} jobs
  Json source = Json::object();          ///< exactly what the agent receives
  Json params = Json::object();
  std::int64_t timeout_ms = 60'000;
  JobStatus status = JobStatus::kScheduled;
  int attempt = 0;   ///< hand-outs that counted (a release does not count)
  int expiries = 0;  ///< leases that ran out without a result
  std::string agent_instance;
  SystemTime created_at;
  std::optional<SystemTime> started_at;
  std::optional<SystemTime> finished_at;
  std::optional<Json> result;
  std::optional<Json> error;
  std::optional<Json> progress;
  /// The current lease. A cancelled job keeps it until it expires, so the
  /// agent's next heartbeat still learns cancel_requested.
  std::optional<Lease> lease;
  std::uint64_t part_count = 0;  ///< parts announced by the accepted result
  std::vector<AttemptRecord> attempts;
  /// Counted hand-outs allowed (0: the hub's --max-attempts, for jobs stored
  /// before retries existed). Retryable failures and lease expiries use them.
  int max_attempts = 0;
  std::int64_t retry_backoff_ms = 1000;  ///< B of the retry delay B × 2^(attempt-1)
  /// A scheduled job waiting out a retry delay is not claimable before this.
  std::optional<SystemTime> run_at;
};

struct NewJob {
  std::string type;
  std::string pool_id{kDefaultPool};
  std::optional<std::string> source_id;
  Json source = Json::object();
  Json params = Json::object();
  std::int64_t timeout_ms = 60'000;
  int max_attempts = 0;                  ///< see JobRecord::max_attempts (0: the hub's)
  std::int64_t retry_backoff_ms = 1000;  ///< see JobRecord::retry_backoff_ms
};

/// Filter of list_jobs; an empty field matches everything.
struct JobFilter {
  std::optional<JobStatus> status;
  std::optional<std::string> source_id;
  std::optional<std::string> pool_id;
};

struct JobPage {
  std::vector<JobRecord> jobs;  ///< newest first (descending seq)
  bool more = false;            ///< further jobs match below the last one
};

/// A recurring job (hub-v2.md §4): every `every_ms`, or at the times of a
/// 5-field cron expression read in `timezone`.
struct ScheduleRecord {
  std::string id;  ///< "sch_…", assigned by the store
  std::string source_id;
  std::string type;
  Json params = Json::object();
  std::int64_t timeout_ms = 60'000;
  std::optional<std::int64_t> every_ms;  ///< exactly one of every_ms and cron
  std::optional<std::string> cron;
  std::string timezone = "UTC";
  /// "active", or "cancelled" once its source was deleted (it fires no more).
  std::string status = "active";
  std::optional<SystemTime> next_run_at;  ///< empty once cancelled
  std::optional<std::string> last_job_id;
  SystemTime created_at;
};

struct NewSchedule {
  std::string source_id;
  std::string type;
  Json params = Json::object();
  std::int64_t timeout_ms = 60'000;
  std::optional<std::int64_t> every_ms;
  std::optional<std::string> cron;
  std::string timezone = "UTC";
  SystemTime next_run_at;  ///< the first due time, computed by the rules
};

/// Aggregates for /metrics, read at scrape time.
struct StoreCounts {
  std::map<std::string, std::uint64_t> jobs_by_status;  ///< every status, zeros included
  std::map<std::string, std::uint64_t> queue_depth;     ///< pool → scheduled jobs
  std::map<std::string, std::uint64_t> agents_online;   ///< pool → instances seen since the cut
};

}  // namespace outpost::hub
