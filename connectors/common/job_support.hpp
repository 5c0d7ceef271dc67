#pragma once

// What every connector's job bodies share: the result of a job its token
// stopped, and what is left of its time budget.

#include <chrono>
#include <optional>
#include <string>

#include "outpost/connector.hpp"

namespace outpost::connectors::common {

/// The failure of a job stopped by its cancel token: `timeout` (retryable)
/// for CancelReason::kTimeout, `cancelled` naming the reason otherwise.
JobResult cancelled_result(CancelReason reason);
inline JobResult cancelled_result(const CancelToken& cancel) {
  return cancelled_result(cancel.reason());
}

/// A failed JobResult carrying `error`.
JobResult failed(JobError error);

/// The first check of every run(): each connector's client library is opened
/// with dlopen on its first job (src/client_libs). `load_error` is what
/// DynamicLibrary::load() returned: nullptr (loaded) gives nullopt, a reason
/// gives a non-retryable `unsupported` failure naming the package to install.
std::optional<JobResult> client_library_missing(const std::string* load_error);

/// What is left of the job's time: the smaller of job.timeout and the time
/// until ctx.deadline. Zero or negative once it is used up.
std::chrono::milliseconds remaining_budget(const JobContext& ctx);

/// The error of a job whose budget ran out before a step could start.
JobError budget_exhausted();

/// remaining_budget() as a server-side statement timeout: at least 1 ms, so
/// a budget that ran out mid-way still bounds the statement.
std::chrono::milliseconds statement_budget(const JobContext& ctx);

}  // namespace outpost::connectors::common
