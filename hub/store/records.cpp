#include "store/records.hpp"

namespace outpost::hub {

const char* to_string(JobStatus s) noexcept {
  switch (s) {
    case JobStatus::kScheduled: return "scheduled";
    case JobStatus::kRunning: return "running";
    case JobStatus::kSucceeded: return "succeeded";
    case JobStatus::kFailed: return "failed";
    case JobStatus::kCancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<JobStatus> parse_job_status(std::string_view text) noexcept {
  for (auto s : {JobStatus::kScheduled, JobStatus::kRunning, JobStatus::kSucceeded,
                 JobStatus::kFailed, JobStatus::kCancelled}) {
    if (text == to_string(s)) return s;
  }
  return std::nullopt;
}

}  // namespace outpost::hub
