#pragma once

#include <string_view>
#include <vector>

#include "mysql/mysql_session.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::mysql {

/// MySQL and MariaDB through MariaDB Connector/C (source type "mysql", alias
/// "mariadb"). Thread safe: each run() uses its own session; the idle pool is
/// shared.
class MysqlConnector final : public Connector {
 public:
  MysqlConnector() = default;
  [[nodiscard]] std::string_view type() const noexcept override { return "mysql"; }
  [[nodiscard]] std::vector<JobType> job_types() const override;
  JobResult run(JobContext& ctx) override;

  /// Idle pooled sessions (for tests and metrics).
  [[nodiscard]] std::size_t idle_sessions() const { return pool_.idle_count(); }

 private:
  Pool pool_;
};

/// Adds MysqlConnector as "mysql" and "mariadb" (called by the generated
/// register_builtin_connectors()).
void register_connector(ConnectorRegistry& registry);

}  // namespace outpost::connectors::mysql
