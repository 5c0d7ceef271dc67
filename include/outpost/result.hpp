#pragma once

#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "outpost/errors.hpp"

namespace outpost {

/// What a connector returns. Expected failures (bad password, syntax error,
/// timeout) are values here, never exceptions.
///
/// `result` holds the job-type specific fields the connector knows:
///  - test_connection: the whole result (`ok`, `server_version`, `latency_ms`, …);
///  - metadata: `database` (tables go through ResultSink::add_table);
///  - query: nothing required (columns and rows go through the ResultSink).
/// The runtime adds what the sink collected (`columns`, `rows`, `row_count`,
/// `truncated`, `schemas` or `table_count`).
struct JobResult {
  std::optional<JobError> error;  ///< set: the job failed
  nlohmann::json result = nlohmann::json::object();

  [[nodiscard]] bool ok() const noexcept { return !error.has_value(); }

  static JobResult success(nlohmann::json fields = nlohmann::json::object()) {
    JobResult r;
    r.result = std::move(fields);
    return r;
  }
  static JobResult failure(ErrorCode code, std::string message, bool retryable = false) {
    JobResult r;
    r.error = JobError{code, std::move(message), retryable};
    return r;
  }
};

}  // namespace outpost
