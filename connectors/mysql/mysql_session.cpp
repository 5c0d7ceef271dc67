#include "mysql/mysql_session.hpp"

#include <mysql.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace outpost::connectors::mysql {

SessionLease lease_session(Pool& pool, std::string key) {
  return SessionLease(pool, std::move(key), [](Connection& connection) {
    if (connection.broken()) return false;
    // COM_RESET_CONNECTION before the session goes idle: it ends the read-only
    // transaction (no snapshot kept) and drops what the job left behind on the
    // server — GET_LOCK() user locks, LOCK TABLES, user variables, temporary
    // tables, prepared statements, session variables, the active role — so an
    // idle pooled session holds nothing. A session that cannot be reset is closed.
    return mysql_reset_connection(connection.handle()) == 0;
  });
}

std::optional<JobError> open_session(SessionLease& session, const MysqlConfig& config,
                                     const NetworkGuard& network, bool fresh) {
  const ResolvedHost resolved = network.resolve(config.host, config.port);
  if (resolved.error) return resolved.error;
  if (!fresh) {
    const bool pooled = session.checkout([&](Connection& candidate) {
      // The egress policy is checked again for every job; the session was
      // reset when it was checked in, and a ping proves the link alive.
      return address_permitted(candidate.address(), resolved) &&
             mysql_ping(candidate.handle()) == 0;
    });
    if (pooled) return std::nullopt;
  }
  auto outcome = connect(config, resolved);
  if (!outcome.connection) return outcome.error;
  session.adopt(std::move(outcome.connection));
  return std::nullopt;
}

std::optional<JobError> begin_read_only(Connection& connection, std::chrono::milliseconds budget) {
  if (budget <= std::chrono::milliseconds::zero()) {
    return common::budget_exhausted();
  }
  char set[160];
  if (connection.is_mariadb()) {
    // MariaDB: max_statement_time in seconds, fractional allowed.
    std::snprintf(set, sizeof set, "SET SESSION time_zone='+00:00', max_statement_time=%.3f",
                  static_cast<double>(budget.count()) / 1000.0);
  } else {
    // MySQL 5.7.8+: max_execution_time in milliseconds (SELECT only).
    std::snprintf(set, sizeof set, "SET SESSION time_zone='+00:00', max_execution_time=%lld",
                  static_cast<long long>(budget.count()));
  }
  if (auto error = connection.execute(set)) return error;
  // The session default makes DDL fail too (a DDL statement would otherwise
  // commit the READ ONLY transaction implicitly and run in a new one).
  if (auto error = connection.execute("SET SESSION TRANSACTION READ ONLY")) return error;
  return connection.execute("START TRANSACTION READ ONLY");
}

}  // namespace outpost::connectors::mysql
