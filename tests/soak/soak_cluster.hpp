#pragma once

// The processes a soak run drives: a throwaway PostgreSQL (reached by the
// agents through a fault proxy), a SQLite file, one outpost-hub (or, with
// --store postgres, two hubs on a store database of that PostgreSQL), and agent
// slots each connected to the hub through its own fault proxy. Each slot
// records one `Life` per agent process (a SIGKILL + restart starts a new one)
// with the RSS / fd / health samples taken during it.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fault_proxy.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::soak {

/// Seconds since the run started (steady clock).
double now_s();

/// One measurement of one process.
struct Sample {
  double t = 0;  ///< seconds since the run started
  std::uint64_t rss_kib = 0;
  int fds = 0;
  int healthz = 0;  ///< HTTP status of GET /healthz, 0 = no answer
  int readyz = 0;
  double cpu_s = 0;  ///< user + system CPU seconds so far
};

/// One agent process, from its start to its end (SIGKILL or the end of the run).
struct Life {
  pid_t pid = -1;
  double started_t = 0;
  double ended_t = -1;     ///< -1 while alive
  std::string end_reason;  ///< "killed", "stopped"
  int exit_status = -1;    ///< of a SIGTERM at the end of the run
  std::vector<Sample> samples;
};

/// Open file descriptors of a process (entries of /proc/<pid>/fd), -1 if gone.
int count_fds(pid_t pid);
/// VmRSS in KiB, 0 if gone.
std::uint64_t rss_kib(pid_t pid);
/// User + system CPU seconds of a process, 0 if gone.
double cpu_seconds(pid_t pid);

struct ClusterOptions {
  std::string agent_bin;
  std::string hub_bin;
  std::filesystem::path log_dir;  ///< agent and hub logs are copied here
  int agents = 2;
  int max_concurrency = 8;
  /// "memory": one hub on its in-memory store. "postgres": two hubs on one
  /// PostgreSQL store (a database of the soak's cluster); agent i talks to
  /// hub i % 2, the driver's admin calls go to hub A.
  std::string store = "memory";
  std::string retain;  ///< --retain of the hubs; empty = the hub's default
};

class Cluster {
 public:
  static constexpr const char* kAdminToken = "soak-admin-token-5d1e";

  /// Starts PostgreSQL, the SQLite file, the hub and the agents; throws with
  /// the relevant log when a piece does not come up.
  explicit Cluster(ClusterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  [[nodiscard]] std::uint16_t hub_port() const { return hubs_.at(0).port; }
  [[nodiscard]] std::size_t hub_count() const { return hubs_.size(); }
  [[nodiscard]] const std::string& pg_source() const { return pg_source_; }
  [[nodiscard]] const std::string& sqlite_source() const { return sqlite_source_; }
  test::PostgresServer& pg() { return *pg_; }
  test::FaultProxy& pg_proxy() { return *pg_proxy_; }
  [[nodiscard]] std::size_t agent_count() const { return slots_.size(); }
  test::FaultProxy& hub_proxy(std::size_t i) { return *slots_.at(i)->hub_proxy; }
  [[nodiscard]] std::string agent_name(std::size_t i) const { return slots_.at(i)->name; }

  /// SIGKILLs agent `i` and starts a replacement after `down_ms`; returns
  /// false (with a message) if the replacement did not report "agent started".
  bool kill_and_restart(std::size_t i, int down_ms, std::string& error);

  /// Samples every live agent (and the hub) once: RSS, fds, /healthz, /readyz.
  /// Returns one printable line per process.
  std::vector<std::string> sample();

  /// SIGTERMs every agent, waits for a clean exit, records it; then the hub.
  void stop_agents();

  /// A copy of every life of agent `i`.
  [[nodiscard]] std::vector<Life> lives(std::size_t i) const;
  /// Hub `i` (0 = A, 1 = B with the postgres store).
  [[nodiscard]] Life hub_life(std::size_t i = 0) const;

  /// Copies the current logs of every process into the log dir.
  void save_logs() const;

 private:
  struct Slot {
    std::string name;
    std::unique_ptr<test::FaultProxy> hub_proxy;
    std::uint16_t health_port = 0;
    std::unique_ptr<test::Process> proc;
    bool down = false;
    int generation = 0;
    std::vector<Life> lives;
  };

  struct HubProc {
    std::uint16_t port = 0;
    std::unique_ptr<test::Process> proc;
    Life life;
  };

  /// Starts hub `index` (A, B) on the store chosen in the options.
  void start_hub(const std::string& name);
  /// Starts an agent for `slot` and waits for "agent started"; `life` gets its pid and start.
  std::unique_ptr<test::Process> spawn_agent(const Slot& slot, Life& life) const;
  void make_sqlite_file();
  void save_slot_logs(const Slot& slot) const;

  ClusterOptions o_;
  std::string token_;
  std::unique_ptr<test::PostgresServer> pg_;
  std::unique_ptr<test::FaultProxy> pg_proxy_;
  test::TempDir dir_;
  std::vector<HubProc> hubs_;
  std::string store_url_;  ///< postgres://… of the hubs' store, empty for memory
  std::string pg_source_, sqlite_source_;
  mutable std::mutex mu_;  // guards slots' proc / down / lives and the hubs' lives
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace outpost::soak
