// CpuBudget's pure half: parsing cgroup files and /proc/self/cgroup, and combining affinity with a quota.
#include "stream/cpu_budget.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace posestream::stream {
namespace {

// Largest values taken from a cgroup file; beyond them the file is treated as malformed. The kernel
// allows periods of 1 ms to 1 s; 2^40 us per period is over a million CPUs. Together they keep
// quota * period (tighter_than) far below 2^64.
constexpr std::uint64_t kMaxPeriodUs = 1'000'000;
constexpr std::uint64_t kMaxQuotaUs = std::uint64_t{1} << 40;

constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view trimmed(std::string_view text) {
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kWhitespace);
  return text.substr(first, last - first + 1);
}

// Whitespace-separated tokens; at most `max_tokens` + 1 are returned, so callers can see there were
// too many without the loop depending on the input's length.
std::vector<std::string_view> tokens(std::string_view text, std::size_t max_tokens) {
  std::vector<std::string_view> found;
  std::size_t at = text.find_first_not_of(kWhitespace);
  while (at != std::string_view::npos && found.size() <= max_tokens) {
    const std::size_t end = std::min(text.find_first_of(kWhitespace, at), text.size());
    found.push_back(text.substr(at, end - at));
    at = text.find_first_not_of(kWhitespace, end);
  }
  return found;
}

// A whole token as a signed decimal integer; nullopt for anything else ("12abc", "", "1e5").
std::optional<std::int64_t> parse_integer(std::string_view token) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), value);
  if (error != std::errc{} || end != token.data() + token.size()) return std::nullopt;
  return value;
}

std::optional<CpuQuota> quota_within_limits(std::int64_t quota_us, std::int64_t period_us) {
  if (quota_us <= 0 || period_us <= 0) return std::nullopt;
  const auto quota = static_cast<std::uint64_t>(quota_us);
  const auto period = static_cast<std::uint64_t>(period_us);
  if (quota > kMaxQuotaUs || period > kMaxPeriodUs) return std::nullopt;
  return CpuQuota{quota, period};
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (;;) {
    const std::size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// One "hierarchy-ID:controller-list:cgroup-path" line into `membership` (the path may itself hold ':').
void read_cgroup_line(std::string_view line, CgroupMembership& membership) {
  const std::size_t first_colon = line.find(':');
  if (first_colon == std::string_view::npos) return;
  const std::size_t second_colon = line.find(':', first_colon + 1);
  if (second_colon == std::string_view::npos) return;
  const std::string_view hierarchy = line.substr(0, first_colon);
  const std::string_view controllers = line.substr(first_colon + 1, second_colon - first_colon - 1);
  const std::string path(line.substr(second_colon + 1));
  if (path.empty() || path.front() != '/') return;
  if (hierarchy == "0" && controllers.empty()) {
    membership.v2_path = path;
    return;
  }
  for (std::string_view controller : split(controllers, ',')) {
    if (controller == "cpu") {
      membership.v1_cpu_path = path;
      membership.v1_cpu_controllers = std::string(controllers);
      return;
    }
  }
}

}  // namespace

std::size_t CpuQuota::cpus() const noexcept {
  if (period_us == 0) return 1;
  return std::max<std::size_t>(1, static_cast<std::size_t>((quota_us + period_us - 1) / period_us));
}

bool CpuQuota::tighter_than(const CpuQuota& other) const noexcept {
  return quota_us * other.period_us < other.quota_us * period_us;
}

std::optional<CpuQuota> parse_cpu_max(std::string_view text) {
  const std::vector<std::string_view> parts = tokens(text, 2);
  if (parts.size() != 2 || parts[0] == "max") return std::nullopt;  // "max" alone too: no limit.
  const auto quota = parse_integer(parts[0]);
  const auto period = parse_integer(parts[1]);
  if (!quota || !period) return std::nullopt;
  return quota_within_limits(*quota, *period);
}

std::optional<CpuQuota> parse_cfs_quota(std::string_view quota_text, std::string_view period_text) {
  const auto quota = parse_integer(trimmed(quota_text));
  const auto period = parse_integer(trimmed(period_text));
  if (!quota || !period) return std::nullopt;  // -1 (no limit) falls out below, as does any negative.
  return quota_within_limits(*quota, *period);
}

CgroupMembership parse_proc_self_cgroup(std::string_view text) {
  CgroupMembership membership;
  for (std::string_view line : split(text, '\n')) read_cgroup_line(trimmed(line), membership);
  return membership;
}

std::vector<std::string> cgroup_and_ancestors(std::string_view cgroup_path) {
  if (cgroup_path.empty() || cgroup_path.front() != '/') return {"/"};
  std::vector<std::string_view> components;
  for (std::string_view component : split(cgroup_path.substr(1), '/')) {
    if (component == "." || component == "..") return {"/"};
    if (!component.empty()) components.push_back(component);
  }
  std::vector<std::string> paths;
  for (std::size_t depth = components.size(); depth > 0; --depth) {
    std::string path;
    for (std::size_t i = 0; i < depth; ++i) path.append("/").append(components[i]);
    paths.push_back(std::move(path));
  }
  paths.emplace_back("/");
  return paths;
}

CpuBudget combine_cpu_budget(std::size_t affinity_cpus, std::size_t online_cpus,
                             std::optional<CgroupCpuLimit> cgroup_limit) {
  CpuBudget budget;
  budget.affinity_cpus = std::max<std::size_t>(1, affinity_cpus);
  budget.online_cpus = std::max<std::size_t>(1, online_cpus);
  budget.cpus = budget.affinity_cpus;
  if (cgroup_limit) budget.cpus = std::min(budget.cpus, cgroup_limit->quota.cpus());
  budget.cgroup_limit = std::move(cgroup_limit);
  return budget;
}

std::string CpuBudget::describe() const {
  std::string text = std::to_string(cpus) + " (affinity " + std::to_string(affinity_cpus) + " of " +
                     std::to_string(online_cpus) + ", ";
  if (!cgroup_limit) return text + "no cgroup limit)";
  char quota[32];
  std::snprintf(quota, sizeof quota, "%.2f",
                static_cast<double>(cgroup_limit->quota.quota_us) / static_cast<double>(cgroup_limit->quota.period_us));
  return text + "cgroup quota " + quota + " CPUs in " + cgroup_limit->file.string() + ")";
}

}  // namespace posestream::stream
