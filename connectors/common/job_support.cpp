#include "common/job_support.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace outpost::connectors::common {

JobResult cancelled_result(CancelReason reason) {
  if (reason == CancelReason::kTimeout) {
    return JobResult::failure(ErrorCode::kTimeout, "the statement was stopped: job timeout", true);
  }
  return JobResult::failure(ErrorCode::kCancelled,
                            "the statement was stopped: " + std::string(to_string(reason)));
}

JobResult failed(JobError error) {
  JobResult r;
  r.error = std::move(error);
  return r;
}

std::optional<JobResult> client_library_missing(const std::string* load_error) {
  if (load_error == nullptr) return std::nullopt;
  return failed(JobError{ErrorCode::kUnsupported, *load_error, false});
}

std::chrono::milliseconds remaining_budget(const JobContext& ctx) {
  const auto until_deadline = std::chrono::duration_cast<std::chrono::milliseconds>(
      ctx.deadline - std::chrono::steady_clock::now());
  return std::min(ctx.job.timeout, until_deadline);
}

JobError budget_exhausted() {
  return JobError{ErrorCode::kTimeout, "the job's time budget was used up before the statement",
                  true};
}

std::chrono::milliseconds statement_budget(const JobContext& ctx) {
  return std::max(remaining_budget(ctx), std::chrono::milliseconds(1));
}

}  // namespace outpost::connectors::common
