#include "outpost/job.hpp"

namespace outpost {

std::string_view to_string(JobType type) noexcept {
  switch (type) {
    case JobType::kTestConnection: return "test_connection";
    case JobType::kMetadata: return "metadata";
    case JobType::kQuery: return "query";
    case JobType::kFreshness: return "freshness";
    case JobType::kVolume: return "volume";
    case JobType::kProfile: return "profile";
    case JobType::kQueryLog: return "query_log";
  }
  return "query";
}

std::optional<JobType> parse_job_type(std::string_view name) noexcept {
  if (name == "test_connection") return JobType::kTestConnection;
  if (name == "metadata") return JobType::kMetadata;
  if (name == "query") return JobType::kQuery;
  if (name == "freshness") return JobType::kFreshness;
  if (name == "volume") return JobType::kVolume;
  if (name == "profile") return JobType::kProfile;
  if (name == "query_log") return JobType::kQueryLog;
  return std::nullopt;
}

}  // namespace outpost
