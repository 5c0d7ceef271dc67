#pragma once

#include <string_view>
#include <vector>

#include "common/connection_pool.hpp"
#include "outpost/connector.hpp"
#include "postgres/pg_privileges.hpp"
#include "postgres/pg_session.hpp"

namespace outpost::connectors::postgres {

/// The PostgreSQL connector (libpq): test_connection, metadata and query.
///
/// Sessions come from an idle pool keyed by the source config's fingerprint;
/// a pooled session is health-checked on checkout by the statement that tags
/// it with the job (`application_name` = "outpost job_42#2"), and reset with
/// DISCARD ALL before it goes back. A new session learns what its login may
/// do (pg_privileges.hpp) before any job runs on it; query and metadata jobs
/// on a login that can do more than read are refused unless the operator
/// opted in. A session that was cancelled, truncated
/// mid-stream, or left in a failed or unknown transaction state is closed.
///
/// Thread safety: run() may be called concurrently from worker threads.
class PostgresConnector final : public Connector {
 public:
  explicit PostgresConnector(common::PoolOptions pool_options = {});

  [[nodiscard]] std::string_view type() const noexcept override { return "postgres"; }
  [[nodiscard]] std::vector<JobType> job_types() const override;
  JobResult run(JobContext& ctx) override;

  /// The idle pool (tests check reuse and eviction through it).
  [[nodiscard]] common::ConnectionPool<Session>& pool() noexcept { return pool_; }

 private:
  /// A new session's privileges: the probe, or a fresh verdict for the same
  /// pool key (see VerdictCache). Tags the session either way.
  std::optional<JobError> learn_privileges(Session& session, const std::string& key,
                                           const std::string& tag, JobContext& ctx);

  /// Runs the job's body on a session that is tagged and guarded.
  static JobResult dispatch(Session& session, JobContext& ctx, const std::string& tag,
                            std::int64_t connect_ms);

  common::ConnectionPool<Session> pool_;
  VerdictCache verdicts_;
};

/// Registers PostgresConnector under "postgres" and "postgresql".
void register_connector(ConnectorRegistry& registry);

}  // namespace outpost::connectors::postgres
