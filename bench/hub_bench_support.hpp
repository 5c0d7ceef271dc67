#pragma once

// Helpers of outpost-hub-bench (bench/hub_bench.cpp): the hub as a child
// process, a store database on a throwaway PostgreSQL, CPU and RSS readings
// from /proc, and the agent and admin calls the benchmark makes over HTTP
// (tests/support's HttpTestClient: keep-alive, Content-Length on every
// request body, each response read to its end before the next request).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/http_test_client.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::bench::hub {

using Json = nlohmann::json;

inline constexpr const char* kAdminToken = "hub-bench-admin-token";

/// A login role and database of its own on `server`, and the password file
/// the hub reads (the password never goes on a command line).
class StoreDb {
 public:
  StoreDb(const test::PostgresServer& server, const std::string& name, const std::string& dir);
  [[nodiscard]] std::string url() const;
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& password_file() const { return password_file_; }

 private:
  const test::PostgresServer& server_;
  std::string name_, password_file_;
};

/// outpost-hub on 127.0.0.1 and a free port; `store` empty = memory store.
class Hub {
 public:
  Hub(const std::string& binary, const std::string& dir, const StoreDb* store,
      const std::vector<std::string>& extra = {});
  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return process_->pid(); }
  [[nodiscard]] std::unique_ptr<test::HttpTestClient> client(const std::string& bearer) const;

 private:
  std::unique_ptr<test::Process> process_;
  std::uint16_t port_ = 0;
};

/// utime + stime of one process, in seconds (/proc/PID/stat).
double cpu_seconds(pid_t pid);
/// Resident set size of one process in KiB (/proc/PID/status VmRSS).
long rss_kib(pid_t pid);
/// CPU seconds of a PostgreSQL cluster: the postmaster (postmaster.pid in
/// `data_dir`) and every child process it has at the moment.
double postgres_cpu_seconds(const std::string& data_dir);

/// With pg_stat_statements loaded (--statements): forgets what was counted so far.
void reset_statements(const test::PostgresServer& pg);
/// Prints the statements of `database` by total time (execution + planning),
/// each with calls and milliseconds per job: where PostgreSQL's CPU goes.
void print_statements(const test::PostgresServer& pg, const std::string& database, double jobs);

/// POST /api/v1/admin/tokens → the agent secret.
std::string create_token(test::HttpTestClient& admin, const std::string& name);
/// POST /api/v1/admin/jobs (a query job on an agent-side source ref) → the job id.
std::string create_job(test::HttpTestClient& admin);

/// Claims with `capacity` and posts a succeeded result for every job it got,
/// until `remaining` reaches 0 (decremented per accepted result). Returns
/// the results this claimer had accepted.
std::uint64_t claim_and_finish(test::HttpTestClient& agent, const std::string& instance,
                               int capacity, std::atomic<std::int64_t>& remaining);

/// Creates `count` jobs with `threads` admin clients spread over `ports`.
void create_jobs(const std::vector<const Hub*>& hubs, std::uint64_t count, int threads);

/// Drains the queue with `claimers` agent threads spread over `hubs` until
/// `count` results were accepted; returns the wall time in seconds.
double drain(const std::vector<const Hub*>& hubs, const std::string& token, std::uint64_t count,
             int claimers, int capacity);

}  // namespace outpost::bench::hub
