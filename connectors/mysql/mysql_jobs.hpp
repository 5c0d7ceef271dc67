#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "mysql/mysql_config.hpp"
#include "mysql/mysql_session.hpp"
#include "outpost/connector.hpp"

namespace outpost::connectors::mysql {

/// The three job types on an open, read-only session. Each returns expected
/// failures as JobResult errors and leaves the session broken (so it is not
/// pooled) whenever its state is uncertain.
JobResult run_test_connection(JobContext& ctx, SessionLease& session,
                              std::chrono::steady_clock::time_point started);
JobResult run_metadata(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
JobResult run_query(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
/// The monitors of jobs-v1.1 (mysql_monitors.cpp).
JobResult run_volume(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
JobResult run_freshness(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
/// jobs-v1.1 profile (mysql_profile.cpp) and query_log (mysql_query_log.cpp).
JobResult run_profile(JobContext& ctx, const MysqlConfig& config, SessionLease& session);
JobResult run_query_log(JobContext& ctx, const MysqlConfig& config, SessionLease& session);

/// A table or view a job of jobs-v1.1 reads, as information_schema names it.
struct Found {
  std::string schema;
  std::string name;
  bool view = false;
  std::optional<std::string> table_rows;
  std::optional<std::string> update_time;  ///< ISO 8601 UTC, when the engine keeps it
  [[nodiscard]] std::string quoted() const;
};

/// Opens the read-only transaction and finds the table (in the session's
/// current database when no schema is given).
std::variant<Found, JobResult> find_table(JobContext& ctx, const MysqlConfig& config,
                                          SessionLease& session, const TableRef& target);

/// The rows of one statement (values as text), run under the job's cancel
/// hook (the query killer); the failure otherwise, with the session marked
/// broken when its state is uncertain. `fields`, when given, receives the
/// result's field descriptions.
using TextRows = std::vector<std::vector<std::optional<std::string>>>;
struct ResultField {
  std::string name;
  int type = 0;  ///< enum_field_types
  unsigned flags = 0;
  unsigned charset = 0;  ///< 63: binary
};
std::variant<TextRows, JobResult> all_rows(JobContext& ctx, const MysqlConfig& config,
                                           Connection& connection, const std::string& sql,
                                           std::vector<ResultField>* fields = nullptr);

}  // namespace outpost::connectors::mysql
