#pragma once

#include <string_view>
#include <vector>

#include "outpost/connector.hpp"

namespace outpost::connectors::sqlite {

/// The SQLite connector: test_connection, metadata and query against a
/// database file opened read-only (SQLITE_OPEN_READONLY, URI names refused,
/// PRAGMA query_only on, ATTACH and extension loading disabled).
///
/// Each job opens its own connection (a local open costs microseconds, so no
/// pool). Cancellation interrupts the running statement with sqlite3_interrupt
/// from the cancel hook, and a progress handler stops it at the job deadline.
///
/// Thread safety: run() may be called concurrently from worker threads.
class SqliteConnector final : public Connector {
 public:
  [[nodiscard]] std::string_view type() const noexcept override { return "sqlite"; }
  [[nodiscard]] std::vector<JobType> job_types() const override;
  JobResult run(JobContext& ctx) override;
};

/// Registers SqliteConnector under "sqlite" and "sqlite3".
void register_connector(ConnectorRegistry& registry);

}  // namespace outpost::connectors::sqlite
