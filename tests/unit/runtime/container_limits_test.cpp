#include "runtime/container_limits.hpp"

#include <gtest/gtest.h>

namespace outpost::runtime {
namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

TEST(ParseCpuMax, QuotaOverPeriod) {
  EXPECT_DOUBLE_EQ(parse_cpu_max("150000 100000\n").value(), 1.5);
  EXPECT_DOUBLE_EQ(parse_cpu_max("50000 100000").value(), 0.5);
}

TEST(ParseCpuMax, MaxMeansNoLimit) {
  EXPECT_FALSE(parse_cpu_max("max 100000\n").has_value());
}

TEST(ParseCpuMax, MalformedMeansNoLimit) {
  EXPECT_FALSE(parse_cpu_max("").has_value());
  EXPECT_FALSE(parse_cpu_max("100000").has_value());
  EXPECT_FALSE(parse_cpu_max("abc 100000").has_value());
  EXPECT_FALSE(parse_cpu_max("100000 0").has_value());
  EXPECT_FALSE(parse_cpu_max("-5 100000").has_value());
}

TEST(ParseCfsQuota, V1Values) {
  EXPECT_DOUBLE_EQ(parse_cfs_quota("200000\n", "100000\n").value(), 2.0);
  EXPECT_FALSE(parse_cfs_quota("-1\n", "100000\n").has_value());
  EXPECT_FALSE(parse_cfs_quota("100000", "").has_value());
}

TEST(ParseMemoryLimit, BytesMaxAndV1Unlimited) {
  EXPECT_EQ(parse_memory_limit("268435456\n").value(), 256 * kMiB);
  EXPECT_FALSE(parse_memory_limit("max\n").has_value());
  EXPECT_FALSE(parse_memory_limit("9223372036854771712\n").has_value());
  EXPECT_FALSE(parse_memory_limit("12x").has_value());
  EXPECT_FALSE(parse_memory_limit("0").has_value());
}

TEST(DefaultMaxConcurrency, UsesHardwareThreadsWithoutLimits) {
  EXPECT_EQ(default_max_concurrency({}, 2), 8);
  EXPECT_EQ(default_max_concurrency({}, 1), 4);
  EXPECT_EQ(default_max_concurrency({}, 0), 4);  // unknown count counts as one
}

TEST(DefaultMaxConcurrency, CpuQuotaRoundsUp) {
  ContainerLimits limits;
  limits.cpu_quota_cores = 0.5;
  EXPECT_EQ(default_max_concurrency(limits, 16), 4);
  limits.cpu_quota_cores = 1.5;
  EXPECT_EQ(default_max_concurrency(limits, 16), 8);
}

TEST(DefaultMaxConcurrency, MemoryLimitCaps) {
  ContainerLimits limits;
  limits.cpu_quota_cores = 4;
  limits.memory_limit_bytes = 256 * kMiB;  // 8 jobs of 32 MiB
  EXPECT_EQ(default_max_concurrency(limits, 16), 8);
  limits.memory_limit_bytes = 64 * kMiB;
  EXPECT_EQ(default_max_concurrency(limits, 16), 2);
}

TEST(DefaultMaxConcurrency, ClampedToTwoAndSixtyFour) {
  ContainerLimits tiny;
  tiny.memory_limit_bytes = 16 * kMiB;
  EXPECT_EQ(default_max_concurrency(tiny, 1), kMinDefaultConcurrency);
  EXPECT_EQ(default_max_concurrency({}, 256), kMaxDefaultConcurrency);
}

TEST(Describe, NamesVersionAndLimits) {
  EXPECT_EQ(describe({}), "no cgroup found");
  ContainerLimits limits;
  limits.cgroup_version = 2;
  limits.cpu_quota_cores = 1.5;
  limits.memory_limit_bytes = 256 * kMiB;
  EXPECT_EQ(describe(limits), "cgroup v2, cpu 1.5 cores, memory 256 MiB");
  limits.cpu_quota_cores.reset();
  limits.memory_limit_bytes.reset();
  EXPECT_EQ(describe(limits), "cgroup v2, cpu unlimited, memory unlimited");
}

}  // namespace
}  // namespace outpost::runtime
