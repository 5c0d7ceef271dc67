#pragma once

#include <memory>

#include "runtime/state.hpp"

// Private to src/runtime.

namespace outpost::runtime {

/// Starts the whole life of one claimed job in the agent's job group, on the
/// network thread: prepare, wait for a per-source slot, run the connector on
/// a worker while a lease keeper renews the lease and enforces the timeout,
/// then post the result (or nothing, or a release). The job leaves
/// `state->jobs` when done. If its task throws, the failure is logged and the
/// job is finished as `internal`; if that fails too, the agent ends (fatal).
/// The group's cancellation (shutdown grace over) cancels it for shutdown.
void spawn_job(const std::shared_ptr<RuntimeState>& state, const std::shared_ptr<JobState>& job);

}  // namespace outpost::runtime
