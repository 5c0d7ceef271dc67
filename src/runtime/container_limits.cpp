#include "runtime/container_limits.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <vector>

#include <fmt/format.h>

namespace outpost::runtime {
namespace {

namespace fs = std::filesystem;

// cgroup v1 reports "no limit" as LONG_MAX rounded down to a page; anything
// this large is not a real limit on any machine.
constexpr std::uint64_t kUnlimitedThreshold = 1ull << 62;

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  text = trim(text);
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

std::optional<std::string> read_small_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  // cgroup files are a line or a few; the cap keeps a bogus path harmless.
  std::string content(4096, '\0');
  in.read(content.data(), static_cast<std::streamsize>(content.size()));
  content.resize(static_cast<std::size_t>(in.gcount()));
  return content;
}

struct CgroupEntry {
  std::string controllers;  // "cpu,cpuacct", "memory", or "" for v2
  std::string path;         // "/kubepods/…" or "/"
};

std::vector<CgroupEntry> read_proc_self_cgroup(const fs::path& root) {
  std::vector<CgroupEntry> entries;
  const auto content = read_small_file(root / "proc/self/cgroup");
  if (!content) return entries;
  std::istringstream lines(*content);
  std::string line;
  while (std::getline(lines, line)) {
    const auto first = line.find(':');
    if (first == std::string::npos) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string::npos) continue;
    entries.push_back({line.substr(first + 1, second - first - 1), line.substr(second + 1)});
  }
  return entries;
}

std::optional<std::string> cgroup_path_for(const std::vector<CgroupEntry>& entries,
                                           std::string_view controller) {
  for (const auto& entry : entries) {
    if (controller.empty()) {  // the v2 line is "0::/path"
      if (entry.controllers.empty()) return entry.path;
      continue;
    }
    std::string_view list = entry.controllers;
    while (!list.empty()) {
      const auto comma = list.find(',');
      if (list.substr(0, comma) == controller) return entry.path;
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return std::nullopt;
}

// Directories from the process's own cgroup up to the mount point, innermost
// first. With a cgroup namespace (or a bind-mounted v1 hierarchy) the path in
// /proc/self/cgroup does not exist under the mount: the mount itself is then
// the process's cgroup.
std::vector<fs::path> cgroup_chain(const fs::path& mount, const std::string& cgroup_path) {
  std::error_code ec;
  fs::path relative = fs::path(cgroup_path).relative_path();
  fs::path dir = mount / relative;
  if (relative.empty() || !fs::is_directory(dir, ec)) dir = mount;
  std::vector<fs::path> chain;
  const auto mount_depth = std::distance(mount.begin(), mount.end());
  for (fs::path p = dir;; p = p.parent_path()) {
    chain.push_back(p);
    if (std::distance(p.begin(), p.end()) <= mount_depth || p == p.parent_path()) break;
  }
  return chain;
}

template <typename T>
void keep_min(std::optional<T>& current, std::optional<T> candidate) {
  if (candidate && (!current || *candidate < *current)) current = candidate;
}

ContainerLimits read_v2(const fs::path& mount, const std::string& cgroup_path) {
  ContainerLimits limits;
  limits.cgroup_version = 2;
  for (const auto& dir : cgroup_chain(mount, cgroup_path)) {
    if (auto cpu = read_small_file(dir / "cpu.max"))
      keep_min(limits.cpu_quota_cores, parse_cpu_max(*cpu));
    if (auto mem = read_small_file(dir / "memory.max")) {
      keep_min(limits.memory_limit_bytes, parse_memory_limit(*mem));
    }
  }
  return limits;
}

void read_v1_cpu(const fs::path& mount, const std::string& cgroup_path, ContainerLimits& limits) {
  for (const auto& dir : cgroup_chain(mount, cgroup_path)) {
    const auto quota = read_small_file(dir / "cpu.cfs_quota_us");
    const auto period = read_small_file(dir / "cpu.cfs_period_us");
    if (quota && period) keep_min(limits.cpu_quota_cores, parse_cfs_quota(*quota, *period));
  }
}

void read_v1_memory(const fs::path& mount, const std::string& cgroup_path,
                    ContainerLimits& limits) {
  for (const auto& dir : cgroup_chain(mount, cgroup_path)) {
    if (auto mem = read_small_file(dir / "memory.limit_in_bytes")) {
      keep_min(limits.memory_limit_bytes, parse_memory_limit(*mem));
    }
  }
}

std::string format_bytes(std::uint64_t bytes) {
  constexpr std::uint64_t kMiB = 1024 * 1024;
  if (bytes % kMiB == 0) return fmt::format("{} MiB", bytes / kMiB);
  return fmt::format("{} bytes", bytes);
}

}  // namespace

std::optional<double> parse_cpu_max(std::string_view content) {
  content = trim(content);
  const auto space = content.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota_text = trim(content.substr(0, space));
  if (quota_text == "max") return std::nullopt;
  return parse_cfs_quota(quota_text, content.substr(space + 1));
}

std::optional<double> parse_cfs_quota(std::string_view quota, std::string_view period) {
  const auto q = parse_int(quota);
  const auto p = parse_int(period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return static_cast<double>(*q) / static_cast<double>(*p);
}

std::optional<std::uint64_t> parse_memory_limit(std::string_view content) {
  content = trim(content);
  if (content == "max") return std::nullopt;
  const auto value = parse_int(content);
  if (!value || *value <= 0) return std::nullopt;
  const auto bytes = static_cast<std::uint64_t>(*value);
  if (bytes >= kUnlimitedThreshold) return std::nullopt;
  return bytes;
}

ContainerLimits read_container_limits(const fs::path& root) {
  const fs::path mount = root / "sys/fs/cgroup";
  const auto entries = read_proc_self_cgroup(root);
  std::error_code ec;

  // v1 (or hybrid): the cpu and memory controllers have their own hierarchies.
  const auto cpu_path = cgroup_path_for(entries, "cpu");
  const auto mem_path = cgroup_path_for(entries, "memory");
  if (cpu_path || mem_path) {
    ContainerLimits limits;
    limits.cgroup_version = 1;
    if (cpu_path) {
      for (const char* name : {"cpu,cpuacct", "cpuacct,cpu", "cpu"}) {
        if (fs::is_directory(mount / name, ec)) {
          read_v1_cpu(mount / name, *cpu_path, limits);
          break;
        }
      }
    }
    if (mem_path && fs::is_directory(mount / "memory", ec)) {
      read_v1_memory(mount / "memory", *mem_path, limits);
    }
    return limits;
  }

  if (fs::exists(mount / "cgroup.controllers", ec)) {
    return read_v2(mount, cgroup_path_for(entries, "").value_or("/"));
  }
  return {};
}

int default_max_concurrency(const ContainerLimits& limits, unsigned hardware_threads) {
  const double cpu = limits.cpu_quota_cores.value_or(std::max(1u, hardware_threads));
  // ceil() of a quota like 0.5 is 1: a fractional core still runs jobs.
  const double by_cpu = 4.0 * std::ceil(cpu);
  double result = by_cpu;
  if (limits.memory_limit_bytes) {
    const auto by_mem = std::floor(static_cast<double>(*limits.memory_limit_bytes) /
                                   static_cast<double>(kMemoryPerJobBytes));
    result = std::min(result, by_mem);
  }
  result = std::clamp(result, static_cast<double>(kMinDefaultConcurrency),
                      static_cast<double>(kMaxDefaultConcurrency));
  return static_cast<int>(result);
}

std::string describe(const ContainerLimits& limits) {
  if (limits.cgroup_version == 0) return "no cgroup found";
  std::string text = fmt::format("cgroup v{}", limits.cgroup_version);
  text += limits.cpu_quota_cores ? fmt::format(", cpu {:g} cores", *limits.cpu_quota_cores)
                                 : std::string(", cpu unlimited");
  text += limits.memory_limit_bytes
              ? fmt::format(", memory {}", format_bytes(*limits.memory_limit_bytes))
              : std::string(", memory unlimited");
  return text;
}

}  // namespace outpost::runtime
