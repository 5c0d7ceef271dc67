#include "odbc/odbc_session.hpp"

#include <utility>

namespace outpost::connectors::odbc {

SessionLease lease_session(Pool& pool, std::string key) {
  return SessionLease(pool, std::move(key), [](OdbcConnection& c) {
    // A job must not leave the session writable (or holding locks) for the
    // next one: a connection that fails the check is closed, not pooled.
    return !c.broken() && c.rollback() && c.still_read_only();
  });
}

std::optional<JobError> open_session(SessionLease& session, const OdbcConfig& config,
                                     const NetworkGuard& network, bool fresh) {
  if (!fresh && session.checkout([](OdbcConnection& c) { return !c.dead(); })) {
    std::string address;
    return check_endpoint(config, network, address);
  }
  auto outcome = connect(config, network);
  if (!outcome.connection) return outcome.error;
  session.adopt(std::move(outcome.connection));
  return std::nullopt;
}

}  // namespace outpost::connectors::odbc
