#pragma once

#include <memory>

#include "runtime/state.hpp"

// Private to src/runtime.

namespace outpost::runtime {

/// Starts the job's lease keeper: it renews the lease every heartbeat
/// interval and enforces the job timeout until the job is finished. If the
/// keeper itself fails (throws), the failure is logged, the job's fault is
/// set and the job is cancelled, so it fails as `internal` instead of
/// running without a lease.
void spawn_lease_keeper(const std::shared_ptr<RuntimeState>& state,
                        const std::shared_ptr<JobState>& job);

}  // namespace outpost::runtime
