#pragma once

// The soak's job load and its ledger: every job the driver submits, what it
// expects of it, and what the hub's job views said about it over time.

#include <cstdint>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"

namespace outpost::soak {

/// What a job does, and so what outcome it should have.
enum class JobKind {
  kPgQuery,           ///< small generate_series query: succeeded, n rows
  kPgStream,          ///< 50k-200k rows in many parts: succeeded, every row
  kPgTestConnection,  ///< succeeded, ok: true
  kPgMetadata,        ///< succeeded, lists public.orders
  kPgTimeout,         ///< pg_sleep past timeout_ms: failed / timeout
  kPgCancel,          ///< long pg_sleep cancelled by the driver: cancelled
  kLiteQuery,         ///< SELECT * FROM items: succeeded, 300 rows
  kLiteTestConnection,
  kLiteMetadata,  ///< lists items and the view cheap
  kLiteTimeout,   ///< endless recursive CTE past timeout_ms: failed / timeout
  kLiteCancel,    ///< endless recursive CTE cancelled by the driver
};
const char* to_string(JobKind kind);

struct JobRecord {
  std::string id;
  JobKind kind = JobKind::kPgQuery;
  double submitted_t = 0;
  long long expected_rows = -1;  ///< for query kinds
  double cancel_at_t = -1;       ///< for cancel kinds
  int cancel_http = 0;           ///< answer to the cancel call (202, 409 job_finished)
  std::string status;            ///< "" until seen terminal
  std::string error_code;
  double finished_t = -1;  ///< when the driver first saw it terminal
  int attempt = 0;
  std::string agent_instance;
  std::string result_problem;  ///< non-empty when a succeeded result is incomplete
  std::string violation;       ///< a terminal status that changed later, etc.
  bool purged = false;         ///< gone from the job list after --retain (seen terminal before)
};

/// Submits the mixed load through the admin API and follows each job to its
/// terminal status. Not thread safe: driven from the driver's main loop.
class Ledger {
 public:
  Ledger(std::uint16_t hub_port, const std::string& admin_token, std::string pg_source,
         std::string lite_source, std::uint64_t seed);

  /// One job of a random small kind (everything but kPgStream).
  void submit_random(double t);
  /// One 50k-200k-row streamed query.
  void submit_stream(double t);
  /// Sends the cancel calls that are due.
  void send_due_cancels(double t);
  /// Learns which jobs finished since the last poll (hub job views).
  void poll(double t);
  /// Every submitted job's final status checked against the full job list:
  /// present exactly once, and the status first seen terminal unchanged. With
  /// the hubs' --retain (`retain_s` > 0), a job seen terminal more than
  /// retain_s - 30 s before `t` may be gone: retention, not a loss.
  void final_verify(double t = 0, double retain_s = 0);

  [[nodiscard]] std::size_t pending() const;
  [[nodiscard]] const std::vector<JobRecord>& records() const { return records_; }
  [[nodiscard]] std::uint64_t admin_errors() const { return admin_errors_; }
  [[nodiscard]] const std::vector<std::string>& problems() const { return problems_; }

 private:
  void submit(JobKind kind, double t);
  void learn_final(JobRecord& r, const nlohmann::json& view, double t);
  std::vector<std::string> ids_with_status(const std::string& status);

  test::HttpTestClient admin_;
  std::string pg_source_, lite_source_;
  std::mt19937_64 rng_;
  std::vector<JobRecord> records_;
  std::map<std::string, std::size_t> by_id_;
  std::size_t first_pending_ = 0;  // records before it are all terminal
  std::uint64_t admin_errors_ = 0;
  std::vector<std::string> problems_;  // admin API failures worth reporting
};

}  // namespace outpost::soak
