#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "outpost/params.hpp"

namespace outpost {

/// The job types of protocol v1 §7, and the monitors of jobs-v1.1
/// (`freshness`, `volume`), `profile` and `query_log`.
enum class JobType { kTestConnection, kMetadata, kQuery, kFreshness, kVolume, kProfile, kQueryLog };

std::string_view to_string(JobType type) noexcept;
std::optional<JobType> parse_job_type(std::string_view name) noexcept;

/// Where a job runs. By the time a connector sees it, secret references in
/// `config` are resolved and a `{"ref": NAME}` source is replaced by the
/// operator's local definition (`ref` then keeps the name, for logs).
struct Source {
  std::string id;
  std::string name;
  std::string type;       ///< connector type, e.g. "postgres"
  nlohmann::json config;  ///< connector-specific object
  std::string ref;        ///< local sources-file name, empty if inline
};

/// One job as a connector sees it: no lease, no HTTP, no protocol plumbing.
struct Job {
  std::string id;
  JobType type = JobType::kQuery;
  int attempt = 1;
  /// Effective time budget: the smaller of the job's timeout and the agent's
  /// --job-timeout. Connectors use it for server-side statement timeouts.
  std::chrono::milliseconds timeout{60'000};
  Source source;
  /// The job's parameters, parsed once by the runtime (parse_job_params):
  /// `query` for a query job, `metadata` for a metadata job.
  QueryParams query;
  MetadataParams metadata;
  FreshnessParams freshness;  ///< a freshness job's parameters
  VolumeParams volume;        ///< a volume job's parameters
  ProfileParams profile;      ///< a profile job's parameters
  QueryLogParams query_log;   ///< a query_log job's parameters
};

}  // namespace outpost
