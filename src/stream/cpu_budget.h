// CpuBudget: how many CPUs this process may use (affinity mask, capped by a cgroup CPU quota), and why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posestream::stream {

// A cgroup's CPU bandwidth limit: `quota_us` of CPU time per `period_us` of wall time, across all CPUs.
struct CpuQuota {
  std::uint64_t quota_us = 0;   // > 0.
  std::uint64_t period_us = 0;  // > 0.

  // quota / period rounded up, at least 1: 150000/100000 -> 2, 50000/100000 -> 1. A 1.5-CPU quota lets
  // two threads run 75% of the time each, so two workers still use it all.
  std::size_t cpus() const noexcept;
  // True when this quota allows less CPU time than `other` (exact: compares quota * other's period).
  bool tighter_than(const CpuQuota& other) const noexcept;
};

// ---- Pure parsing: strings in, values out; malformed text is nullopt (no limit known), never a throw.

// cgroup v2 cpu.max: "QUOTA PERIOD" -> the quota; "max PERIOD" (or "max") -> nullopt.
std::optional<CpuQuota> parse_cpu_max(std::string_view text);
// cgroup v1 cpu.cfs_quota_us and cpu.cfs_period_us: quota -1 (no limit) -> nullopt.
std::optional<CpuQuota> parse_cfs_quota(std::string_view quota_text, std::string_view period_text);

// Where /proc/self/cgroup puts this process, for the CPU controller.
struct CgroupMembership {
  std::optional<std::string> v2_path;       // The "0::/path" line's path (unified hierarchy).
  std::optional<std::string> v1_cpu_path;   // The path on the v1 line whose controllers include "cpu".
  std::string v1_cpu_controllers;           // That line's controller list: "cpu" or "cpu,cpuacct".
};
CgroupMembership parse_proc_self_cgroup(std::string_view text);

// "/a/b" -> {"/a/b", "/a", "/"}: a cgroup and its ancestors, innermost first. Only absolute paths
// without "." or ".." components are accepted (the path comes from a file); anything else -> {"/"}.
std::vector<std::string> cgroup_and_ancestors(std::string_view cgroup_path);

// ---- The result, and combining its parts (pure).

// The tightest cgroup quota found and the file it came from (for the start-up log).
struct CgroupCpuLimit {
  CpuQuota quota;
  std::filesystem::path file;
};

struct CpuBudget {
  std::size_t cpus = 1;           // What thread counts of 0 resolve to: min(affinity, quota rounded up), >= 1.
  std::size_t affinity_cpus = 1;  // CPUs in this process's sched_getaffinity mask.
  std::size_t online_cpus = 1;    // CPUs online on the machine (std::thread::hardware_concurrency).
  std::optional<CgroupCpuLimit> cgroup_limit;  // nullopt: no limit, or none could be read.

  // For the start-up log: "2 (affinity 2 of 2, no cgroup limit)" or
  // "1 (affinity 2 of 2, cgroup quota 1.50 CPUs in /sys/fs/cgroup/app/cpu.max)".
  std::string describe() const;
};

// Zero counts (unknown) are taken as 1.
CpuBudget combine_cpu_budget(std::size_t affinity_cpus, std::size_t online_cpus,
                             std::optional<CgroupCpuLimit> cgroup_limit);

// ---- Reading the machine: thin layers over the functions above.

// The tightest CPU quota on this process's cgroup or its ancestors, v2 (cpu.max) and v1
// (cpu.cfs_quota_us / cpu.cfs_period_us) alike. `root` is "/" on a real machine; a test points it at a
// fake tree holding proc/self/cgroup and sys/fs/cgroup/... Missing or malformed files: no limit there.
std::optional<CgroupCpuLimit> read_cgroup_cpu_limit(const std::filesystem::path& root = "/");
// CPUs in sched_getaffinity's mask for this process; std::thread::hardware_concurrency() (at least 1)
// if the call fails.
std::size_t affinity_cpu_count();
// affinity_cpu_count() capped by read_cgroup_cpu_limit(root).
CpuBudget read_cpu_budget(const std::filesystem::path& root = "/");

}  // namespace posestream::stream
