#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace outpost::runtime {

/// What the container (cgroup) lets this process use. An empty field means
/// "no limit found" (not in a cgroup, the controller is absent, or "max").
struct ContainerLimits {
  std::optional<double> cpu_quota_cores;            ///< quota / period, e.g. 1.5
  std::optional<std::uint64_t> memory_limit_bytes;  ///< the hard limit
  /// 2 or 1 when the limits came from a cgroup v2 or v1 hierarchy, 0 when no
  /// cgroup file system was found under the root (tells the log line apart).
  int cgroup_version = 0;
};

/// Reads the limits of the calling process's own cgroup, the way the kernel
/// applies them: `/proc/self/cgroup` names the cgroup, and the smallest limit
/// on the path from it up to the hierarchy root wins (a pod's limit is set on
/// a parent of the container's cgroup on some runtimes).
///
/// cgroup v2: `cpu.max` ("QUOTA PERIOD" or "max PERIOD") and `memory.max`
/// ("BYTES" or "max") under `<root>/sys/fs/cgroup`.
/// cgroup v1: `cpu.cfs_quota_us` / `cpu.cfs_period_us` under
/// `<root>/sys/fs/cgroup/cpu,cpuacct` (or `cpu`) and `memory.limit_in_bytes`
/// under `<root>/sys/fs/cgroup/memory`; a v1 "unlimited" (a value near
/// 2^63) counts as no limit. A hybrid host (v1 controllers plus a v2 tree)
/// uses the v1 controllers, as the kernel does.
///
/// `root` is "/" in production; tests pass a directory holding a fake tree.
/// Never throws: an unreadable or malformed file counts as no limit.
ContainerLimits read_container_limits(const std::filesystem::path& root = "/");

/// Default `--max-concurrency` when the operator gave none:
///
///     cpu     = cpu_quota_cores, else hardware_threads (at least 1)
///     by_cpu  = 4 × ceil(cpu)        jobs mostly wait on the database, so
///                                    several per core keep a core busy
///     by_mem  = memory_limit / 32 MiB (unbounded without a limit): a job's
///                                    working set (driver buffers, one result
///                                    part being encoded) stays well under it
///     result  = clamp(min(by_cpu, by_mem), 2, 64)
///
/// At least 2 so one slow job never blocks everything; at most 64 so a large
/// host does not open more database connections than a pool would want.
int default_max_concurrency(const ContainerLimits& limits, unsigned hardware_threads);

/// Smallest and largest value default_max_concurrency() returns.
inline constexpr int kMinDefaultConcurrency = 2;
inline constexpr int kMaxDefaultConcurrency = 64;
/// Memory budgeted per concurrent job by default_max_concurrency().
inline constexpr std::uint64_t kMemoryPerJobBytes = 32ull * 1024 * 1024;

/// "cgroup v2, cpu 1.5 cores, memory 256 MiB" / "no cgroup limits": for the
/// start-up log line.
std::string describe(const ContainerLimits& limits);

// Parsers for one cgroup file's content, exposed for the unit tests.

/// cgroup v2 `cpu.max`: "150000 100000" → 1.5; "max 100000" → nullopt.
std::optional<double> parse_cpu_max(std::string_view content);
/// cgroup v1 quota and period files: "-1" quota → nullopt.
std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period);
/// `memory.max` / `memory.limit_in_bytes`: "max", or a value at or above
/// 2^62 (v1's page-rounded LONG_MAX), → nullopt.
std::optional<std::uint64_t> parse_memory_limit(std::string_view content);

}  // namespace outpost::runtime
