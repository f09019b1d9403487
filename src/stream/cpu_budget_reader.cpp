// CpuBudget's reading half: /proc/self/cgroup and the cgroup CPU files under a root, and the affinity mask.
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "stream/cpu_budget.h"

namespace posestream::stream {
namespace {

// Largest cgroup or /proc file read: these are one line (cpu.max) or one line per hierarchy
// (/proc/self/cgroup, about a dozen); anything longer is not what we expect and is cut off there.
constexpr std::size_t kMaxCgroupFileBytes = 64 * 1024;
// Largest CPU mask asked of sched_getaffinity. The mask starts at 1024 CPUs (cpu_set_t) and doubles
// while the kernel says it is too small (EINVAL), up to this.
constexpr std::size_t kMaxAffinityCpus = 1 << 16;

// The file's text, or nullopt when it cannot be opened.
std::optional<std::string> read_small_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text(kMaxCgroupFileBytes, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// root / "/a/b" would be "/a/b": join a cgroup path as relative.
std::filesystem::path under(const std::filesystem::path& base, const std::string& cgroup_path) {
  return cgroup_path == "/" ? base : base / cgroup_path.substr(1);
}

void keep_tightest(std::optional<CgroupCpuLimit>& tightest, std::optional<CpuQuota> quota,
                   const std::filesystem::path& file) {
  if (!quota) return;
  if (!tightest || quota->tighter_than(tightest->quota)) tightest = CgroupCpuLimit{*quota, file};
}

// cgroup v2: cpu.max in the process's cgroup and each ancestor, under the unified mount.
void read_v2_limits(const std::filesystem::path& cgroup_mount, const std::string& cgroup_path,
                    std::optional<CgroupCpuLimit>& tightest) {
  for (const std::string& path : cgroup_and_ancestors(cgroup_path)) {
    const std::filesystem::path file = under(cgroup_mount, path) / "cpu.max";
    if (const auto text = read_small_file(file)) keep_tightest(tightest, parse_cpu_max(*text), file);
  }
}

// The v1 cpu controller's mount: named after its controller list ("cpu,cpuacct"), usually with a
// "cpu" symlink beside it.
std::optional<std::filesystem::path> v1_cpu_mount(const std::filesystem::path& cgroup_mount,
                                                  const std::string& controllers) {
  std::error_code error;
  for (const std::string& name : {controllers, std::string("cpu")}) {
    if (std::filesystem::is_directory(cgroup_mount / name, error)) return cgroup_mount / name;
  }
  return std::nullopt;
}

// cgroup v1: cpu.cfs_quota_us / cpu.cfs_period_us in the process's cgroup and each ancestor.
void read_v1_limits(const std::filesystem::path& cgroup_mount, const CgroupMembership& membership,
                    std::optional<CgroupCpuLimit>& tightest) {
  const auto mount = v1_cpu_mount(cgroup_mount, membership.v1_cpu_controllers);
  if (!mount) return;
  for (const std::string& path : cgroup_and_ancestors(*membership.v1_cpu_path)) {
    const std::filesystem::path dir = under(*mount, path);
    const auto quota = read_small_file(dir / "cpu.cfs_quota_us");
    const auto period = read_small_file(dir / "cpu.cfs_period_us");
    if (quota && period) keep_tightest(tightest, parse_cfs_quota(*quota, *period), dir / "cpu.cfs_quota_us");
  }
}

std::size_t online_cpu_count() { return std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace

// Walking up to the mount's root also covers a container without its own cgroup namespace: there
// /proc/self/cgroup names the host's path ("/docker/<id>"), which does not exist under the container's
// /sys/fs/cgroup, while the container's own limit sits at that mount's root.
std::optional<CgroupCpuLimit> read_cgroup_cpu_limit(const std::filesystem::path& root) {
  const auto self = read_small_file(root / "proc/self/cgroup");
  if (!self) return std::nullopt;
  const CgroupMembership membership = parse_proc_self_cgroup(*self);
  const std::filesystem::path cgroup_mount = root / "sys/fs/cgroup";
  std::optional<CgroupCpuLimit> tightest;
  if (membership.v2_path) read_v2_limits(cgroup_mount, *membership.v2_path, tightest);
  if (membership.v1_cpu_path) read_v1_limits(cgroup_mount, membership, tightest);
  return tightest;
}

std::size_t affinity_cpu_count() {
  for (std::size_t cpus = CPU_SETSIZE; cpus <= kMaxAffinityCpus; cpus *= 2) {
    const std::size_t bytes = CPU_ALLOC_SIZE(cpus);
    std::vector<cpu_set_t> mask((bytes + sizeof(cpu_set_t) - 1) / sizeof(cpu_set_t));
    if (sched_getaffinity(0, bytes, mask.data()) == 0) {
      const int count = CPU_COUNT_S(bytes, mask.data());
      return count > 0 ? static_cast<std::size_t>(count) : online_cpu_count();
    }
    if (errno != EINVAL) break;
  }
  return online_cpu_count();
}

CpuBudget read_cpu_budget(const std::filesystem::path& root) {
  return combine_cpu_budget(affinity_cpu_count(), online_cpu_count(), read_cgroup_cpu_limit(root));
}

}  // namespace posestream::stream
