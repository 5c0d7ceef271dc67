#pragma once

#include <string_view>
#include <vector>

#include "common/connection_pool.hpp"
#include "odbc/odbc_catalog.hpp"
#include "odbc/odbc_handles.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::odbc {

/// Any database with an ODBC driver installed beside the agent (unixODBC):
/// source type "odbc". Thread safe: each run() uses its own connection; the
/// idle pool is shared.
class OdbcConnector final : public Connector {
 public:
  /// `catalog` (the installed drivers and DSNs) must outlive the connector.
  explicit OdbcConnector(const DriverCatalog& catalog = system_catalog()) : catalog_(catalog) {}

  [[nodiscard]] std::string_view type() const noexcept override { return "odbc"; }
  [[nodiscard]] std::vector<JobType> job_types() const override;
  JobResult run(JobContext& ctx) override;

  [[nodiscard]] std::size_t idle_connections() const { return pool_.idle_count(); }

 private:
  const DriverCatalog& catalog_;
  common::ConnectionPool<OdbcConnection> pool_;
};

/// Adds OdbcConnector (called by the generated register_builtin_connectors()).
void register_connector(ConnectorRegistry& registry);

}  // namespace outpost::connectors::odbc
