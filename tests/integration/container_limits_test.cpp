// read_container_limits() against fake cgroup trees written to a temp dir
// (files, hence an integration test).
#include "runtime/container_limits.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace outpost::runtime {
namespace {

namespace fs = std::filesystem;
constexpr std::uint64_t kMiB = 1024 * 1024;

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << content;
}

TEST(ReadContainerLimits, NoCgroupFileSystem) {
  test::TempDir root;
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 0);
  EXPECT_FALSE(limits.cpu_quota_cores);
  EXPECT_FALSE(limits.memory_limit_bytes);
}

TEST(ReadContainerLimits, V2NamespacedContainer) {
  test::TempDir root;
  write(root.path() / "proc/self/cgroup", "0::/\n");
  write(root.path() / "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
  write(root.path() / "sys/fs/cgroup/cpu.max", "100000 100000\n");
  write(root.path() / "sys/fs/cgroup/memory.max", "268435456\n");
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 2);
  EXPECT_DOUBLE_EQ(limits.cpu_quota_cores.value(), 1.0);
  EXPECT_EQ(limits.memory_limit_bytes.value(), 256 * kMiB);
}

TEST(ReadContainerLimits, V2UnlimitedIsEmpty) {
  test::TempDir root;
  write(root.path() / "proc/self/cgroup", "0::/\n");
  write(root.path() / "sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  write(root.path() / "sys/fs/cgroup/cpu.max", "max 100000\n");
  write(root.path() / "sys/fs/cgroup/memory.max", "max\n");
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 2);
  EXPECT_FALSE(limits.cpu_quota_cores);
  EXPECT_FALSE(limits.memory_limit_bytes);
}

TEST(ReadContainerLimits, V2SmallestLimitOnThePathWins) {
  // A pod-level limit on the parent, a looser one on the container.
  test::TempDir root;
  const fs::path cg = root.path() / "sys/fs/cgroup";
  write(root.path() / "proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
  write(cg / "cgroup.controllers", "cpu memory\n");
  write(cg / "kubepods/pod1/cpu.max", "50000 100000\n");
  write(cg / "kubepods/pod1/memory.max", "134217728\n");
  write(cg / "kubepods/pod1/ctr/cpu.max", "200000 100000\n");
  write(cg / "kubepods/pod1/ctr/memory.max", "max\n");
  const auto limits = read_container_limits(root.path());
  EXPECT_DOUBLE_EQ(limits.cpu_quota_cores.value(), 0.5);
  EXPECT_EQ(limits.memory_limit_bytes.value(), 128 * kMiB);
}

TEST(ReadContainerLimits, V1BindMountedHierarchies) {
  // Docker on cgroup v1 without a cgroup namespace: /proc/self/cgroup names
  // a host path that is not under the container's mounts.
  test::TempDir root;
  const fs::path cg = root.path() / "sys/fs/cgroup";
  write(root.path() / "proc/self/cgroup",
        "12:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n");
  write(cg / "cpu,cpuacct/cpu.cfs_quota_us", "150000\n");
  write(cg / "cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  write(cg / "memory/memory.limit_in_bytes", "536870912\n");
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 1);
  EXPECT_DOUBLE_EQ(limits.cpu_quota_cores.value(), 1.5);
  EXPECT_EQ(limits.memory_limit_bytes.value(), 512 * kMiB);
  EXPECT_EQ(default_max_concurrency(limits, 8), 8);
}

TEST(ReadContainerLimits, V1UnlimitedValues) {
  test::TempDir root;
  const fs::path cg = root.path() / "sys/fs/cgroup";
  write(root.path() / "proc/self/cgroup", "5:cpu:/\n3:memory:/\n");
  write(cg / "cpu/cpu.cfs_quota_us", "-1\n");
  write(cg / "cpu/cpu.cfs_period_us", "100000\n");
  write(cg / "memory/memory.limit_in_bytes", "9223372036854771712\n");
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 1);
  EXPECT_FALSE(limits.cpu_quota_cores);
  EXPECT_FALSE(limits.memory_limit_bytes);
}

TEST(ReadContainerLimits, GarbageFilesCountAsNoLimit) {
  test::TempDir root;
  write(root.path() / "proc/self/cgroup", "garbage without colons\n0::/\n");
  write(root.path() / "sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
  write(root.path() / "sys/fs/cgroup/cpu.max", "lots of cpu\n");
  write(root.path() / "sys/fs/cgroup/memory.max", std::string(10000, 'x'));
  const auto limits = read_container_limits(root.path());
  EXPECT_EQ(limits.cgroup_version, 2);
  EXPECT_FALSE(limits.cpu_quota_cores);
  EXPECT_FALSE(limits.memory_limit_bytes);
}

TEST(ReadContainerLimits, ThisProcessDoesNotThrow) {
  // The real machine: whatever it has, reading must succeed and be sane.
  const auto limits = read_container_limits();
  if (limits.cpu_quota_cores) {
    EXPECT_GT(*limits.cpu_quota_cores, 0.0);
  }
  if (limits.memory_limit_bytes) {
    EXPECT_GT(*limits.memory_limit_bytes, 0u);
  }
  EXPECT_GE(default_max_concurrency(limits, 2), kMinDefaultConcurrency);
}

}  // namespace
}  // namespace outpost::runtime
