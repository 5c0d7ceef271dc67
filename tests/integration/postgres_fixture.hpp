#pragma once

// Shared by the postgres_*_test.cpp files: one throwaway cluster per test
// process (ctest runs each TEST in its own process) with the fixture schema.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "outpost/connector.hpp"
#include "postgres/pg_connector.hpp"
#include "support/collecting_sink.hpp"
#include "support/postgres_server.hpp"
#include "support/process.hpp"

namespace outpost::test::pg {

inline const char* const kDatabase = "outpost_test";
inline const char* const kReaderPassword = "reader-pw";
inline const char* const kWriterPassword = "writer-pw";

/// The cluster with roles `reader` (read-only), `writer` (can write app.*)
/// and `noconnect` (no CONNECT on outpost_test), and the fixture schema.
PostgresServer& server();

/// Config for a role of the fixture.
nlohmann::json config_for(const std::string& user, const std::string& password,
                          const std::string& database = kDatabase);
inline nlohmann::json reader_config() {
  return config_for("reader", kReaderPassword);
}

inline Job make_job(JobType type, nlohmann::json config,
                    nlohmann::json params = nlohmann::json::object(), std::string id = "job_1",
                    int attempt = 1, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  Job job;
  job.id = std::move(id);
  job.type = type;
  job.attempt = attempt;
  job.timeout = timeout;
  job.source.id = "src_1";
  job.source.name = "test";
  job.source.type = "postgres";
  job.source.config = std::move(config);
  outpost::test::set_params(job, params);
  return job;
}

/// The operator policy of --allow-privileged-logins.
inline const OperatorPolicy& privileged_policy() {
  static const OperatorPolicy policy{true, {}};
  return policy;
}

/// Runs `job` on `connector` with the deadline at job.timeout from now.
inline JobResult run(Connector& connector, const Job& job, ResultSink& sink,
                     const NetworkGuard& guard, CancelToken& cancel,
                     const OperatorPolicy& policy = default_operator_policy()) {
  JobContext ctx{job, sink, cancel, guard, std::chrono::steady_clock::now() + job.timeout, policy};
  return connector.run(ctx);
}
inline JobResult run(Connector& connector, const Job& job, ResultSink& sink,
                     const OperatorPolicy& policy = default_operator_policy()) {
  AllowingNetworkGuard guard;
  CancelToken cancel;
  return run(connector, job, sink, guard, cancel, policy);
}

inline std::string error_text(const JobResult& r) {
  return r.error ? std::string(to_string(r.error->code)) + ": " + r.error->message : "no error";
}

}  // namespace outpost::test::pg
