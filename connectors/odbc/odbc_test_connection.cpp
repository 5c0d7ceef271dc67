// test_connection over ODBC: everything comes from the new connection's
// driver and DBMS info and its privilege probe (odbc_handles.cpp).
#include <nlohmann/json.hpp>

#include "odbc/odbc_jobs.hpp"

namespace outpost::connectors::odbc {

JobResult run_test_connection(JobContext& ctx, OdbcConnection& c,
                              std::chrono::steady_clock::time_point started) {
  (void)ctx;
  const auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return JobResult::success({{"ok", true},
                             {"server_version", c.dbms_name() + " " + c.dbms_version()},
                             {"latency_ms", latency.count()},
                             {"driver", c.driver()},
                             {"read_only", c.read_only_mode()},
                             {"privileges", c.privileges()}});
}

}  // namespace outpost::connectors::odbc
