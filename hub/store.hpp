#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/server.hpp"
#include "observability/log.hpp"
#include "store/records.hpp"
#include "util.hpp"

namespace outpost::hub {

struct StoreOptions {
  std::chrono::milliseconds lease_ttl{30'000};
  int max_attempts = 3;  ///< lease expiries before a job fails as agent_lost
  std::chrono::milliseconds poll_wait{20'000};
  std::chrono::milliseconds heartbeat_interval{10'000};
  std::size_t max_part_bytes = 4 * 1024 * 1024;
  std::chrono::milliseconds max_wait{120'000};  ///< cap on a claim's wait_ms
};


/// The hub's in-memory state and every rule of the protocol: tokens,
/// sources, jobs, leases, long-poll waiters and agent instances.
///
/// Thread safety: every public member locks one mutex, so the store may be
/// called from any connection. Responders are only ever called (they merely
/// post to their connection) and timers only touched under that mutex.
/// Create with std::make_shared: timers hold weak references to it.
class Store : public std::enable_shared_from_this<Store> {
 public:
  using Reply = http::Response;

  Store(boost::asio::any_io_executor executor, StoreOptions options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] const StoreOptions& options() const noexcept { return options_; }

  /// Token id of a live agent token (constant-time hash comparison), else nullopt.
  std::optional<std::string> authenticate_agent(std::string_view token) const;

  // Agent protocol (agent-protocol-v1.md). Bodies are parsed JSON objects;
  // they throw BadRequest for malformed fields.
  Reply connect(const std::string& token_id, const Json& body, std::string_view header_instance);
  /// Answers through `respond`, at once or when a job arrives / the wait ends.
  void claim(const std::string& token_id, const Json& body, std::string_view header_instance,
             http::Responder respond);
  Reply job_heartbeat(const std::string& job_id, const Json& body);
  Reply result(const std::string& job_id, const Json& body);
  Reply put_part(const std::string& job_id, std::string_view lease_token, std::uint64_t seq,
                 std::string_view ndjson);
  Reply release(const std::string& job_id, const Json& body);
  Reply agent_heartbeat(const std::string& token_id, const Json& body,
                        std::string_view header_instance);

  // Admin API (hub-admin-api.md).
  Reply create_token(const Json& body);
  Reply revoke_token(const std::string& id);
  Reply list_tokens() const;
  Reply create_source(const Json& body);
  Reply list_sources() const;
  Reply create_job(const Json& body);
  Reply get_job(const std::string& id) const;
  Reply list_jobs(std::string_view status_filter) const;
  Reply cancel_job(const std::string& id);
  Reply list_agents() const;

  /// Answers every waiting claim with an empty list and stops the timers.
  void shutdown();

  /// Counters for logs and the bench.
  struct Stats {
    std::size_t scheduled = 0, running = 0, succeeded = 0, failed = 0, cancelled = 0;
    std::size_t waiters = 0;
  };
  Stats stats() const;

 private:
  struct Lease {
    std::string token;
    std::chrono::steady_clock::time_point expires;
    SystemTime expires_wall;
    std::string instance_id;
  };
  struct Job {
    std::string id;
    std::uint64_t seq = 0;  // FIFO position, kept across re-claims
    std::string type;
    Json source;
    Json params;
    std::int64_t timeout_ms = 60'000;
    JobStatus status = JobStatus::kScheduled;
    int attempt = 0;
    int expiries = 0;
    std::string agent_instance;
    SystemTime created_at;
    std::optional<std::string> started_at, finished_at;
    std::optional<Json> result, error, progress;
    std::optional<Lease> lease;
    std::string final_token;  // lease token the result was accepted with
    /// Each part's lines, validated but kept as NDJSON text (every line
    /// ends in '\n', blank ones dropped): a DOM per row would cost the hub
    /// more CPU and memory than the agent spends producing it.
    std::map<std::uint64_t, std::string> parts;
    std::uint64_t part_count = 0;
  };
  struct Waiter {
    std::uint64_t id = 0;
    std::string token_id;
    std::string instance_id;
    int capacity = 1;
    http::Responder respond;
    std::unique_ptr<boost::asio::steady_timer> timer;
  };
  struct Instance {
    std::string instance_id;
    std::string token_id;
    std::string version, hostname;
    std::int64_t capacity = 0;
    std::optional<std::int64_t> reported_running;
    std::optional<std::int64_t> uptime_ms;
    SystemTime first_seen, last_seen;
    Json connectors = Json::array();
  };
  struct Token {
    std::string id, name, hash;
    SystemTime created_at;
    bool revoked = false;
  };
  struct Source {
    std::string id, name, type;
    Json config;
  };

  // All private helpers expect mu_ held.
  Instance& touch_instance(const std::string& token_id, const std::string& instance_id);
  Json lease_job(Job& job, const std::string& instance_id);
  std::vector<Json> take_jobs(const std::string& instance_id, int capacity);
  void dispatch();
  void enqueue(Job& job);
  void track_lease(Job& job);
  void untrack_lease(Job& job);
  void arm_lease_timer();
  void on_lease_timer();
  void expire(Job& job);
  void finish_waiter(std::uint64_t waiter_id, http::Response response);
  Job* find_job(const std::string& id);
  const Job* find_job(const std::string& id) const;
  Json job_view(const Job& job) const;
  std::string agent_id_for(const std::string& token_id) const;
  std::int64_t leased_count(const std::string& instance_id) const;

  mutable std::mutex mu_;
  boost::asio::any_io_executor executor_;
  StoreOptions options_;
  obs::Logger log_{"hub"};
  bool shut_down_ = false;

  std::map<std::string, Token> tokens_;
  std::unordered_map<std::string, std::string> token_by_hash_;
  std::map<std::string, Source> sources_;
  std::unordered_map<std::string, Job> jobs_;
  std::map<std::uint64_t, std::string> ready_;  // seq → job id: the claimable queue, FIFO
  std::list<Waiter> waiters_;                   // long polls, oldest first
  std::map<std::string, Instance> instances_;
  std::set<std::pair<std::chrono::steady_clock::time_point, std::string>> expiries_;
  boost::asio::steady_timer lease_timer_;
  std::optional<std::chrono::steady_clock::time_point> lease_timer_at_;
  std::uint64_t next_job_ = 1, next_source_ = 1, next_token_ = 1, next_waiter_ = 1;
};

}  // namespace outpost::hub
