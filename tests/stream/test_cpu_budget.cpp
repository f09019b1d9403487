// CpuBudget's pure half: cpu.max, cfs quota/period and /proc/self/cgroup parsing, cgroup ancestors, and
// combining an affinity count with a quota. Strings in, values out: nothing here reads the machine.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "stream/cpu_budget.h"

namespace posestream::stream {
namespace {

TEST(ParseCpuMax, MaxMeansNoLimit) {
  EXPECT_FALSE(parse_cpu_max("max 100000\n"));
  EXPECT_FALSE(parse_cpu_max("max 100000"));
  EXPECT_FALSE(parse_cpu_max("max"));
}

TEST(ParseCpuMax, QuotaIsRoundedUpToWholeCpus) {
  const auto one_and_a_half = parse_cpu_max("150000 100000\n");
  ASSERT_TRUE(one_and_a_half);
  EXPECT_EQ(one_and_a_half->quota_us, 150000u);
  EXPECT_EQ(one_and_a_half->period_us, 100000u);
  EXPECT_EQ(one_and_a_half->cpus(), 2u);

  const auto half = parse_cpu_max("50000 100000");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->cpus(), 1u);

  const auto exactly_three = parse_cpu_max("  300000\t100000 \n");
  ASSERT_TRUE(exactly_three);
  EXPECT_EQ(exactly_three->cpus(), 3u);

  const auto tiny = parse_cpu_max("1000 1000000");  // 0.001 CPU still lets one thread run.
  ASSERT_TRUE(tiny);
  EXPECT_EQ(tiny->cpus(), 1u);
}

TEST(ParseCpuMax, GarbageMeansNoLimitKnown) {
  for (const char* text : {"", "\n", "abc", "150000", "150000 100000 7", "-5 100000", "0 100000", "150000 0",
                           "150000 -100000", "1.5 100000", "150000 abc", "150000abc 100000", "0x100 100000",
                           "99999999999999999999 100000", "150000 2000000", "max max max"}) {
    SCOPED_TRACE(std::string("cpu.max: '") + text + "'");
    EXPECT_FALSE(parse_cpu_max(text));
  }
}

TEST(ParseCfsQuota, MinusOneMeansNoLimit) { EXPECT_FALSE(parse_cfs_quota("-1\n", "100000\n")); }

TEST(ParseCfsQuota, QuotaOverPeriodRoundedUp) {
  const auto two_and_a_half = parse_cfs_quota("250000\n", "100000\n");
  ASSERT_TRUE(two_and_a_half);
  EXPECT_EQ(two_and_a_half->cpus(), 3u);
  const auto half = parse_cfs_quota("50000", "100000");
  ASSERT_TRUE(half);
  EXPECT_EQ(half->cpus(), 1u);
}

TEST(ParseCfsQuota, GarbageMeansNoLimitKnown) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "100000"}, {"abc", "100000"}, {"50000", ""}, {"50000", "0"}, {"-2", "100000"}, {"50000 7", "100000"},
      {"50000", "100000 100000"}, {"99999999999999999999", "100000"}};
  for (const auto& [quota, period] : cases) {
    SCOPED_TRACE("quota '" + quota + "', period '" + period + "'");
    EXPECT_FALSE(parse_cfs_quota(quota, period));
  }
}

TEST(CpuQuota, TighterThanComparesCpuTimePerWallTimeExactly) {
  const CpuQuota one_and_a_half{150000, 100000};
  const CpuQuota two{200000, 100000};
  const CpuQuota also_one_and_a_half{75000, 50000};
  EXPECT_TRUE(one_and_a_half.tighter_than(two));
  EXPECT_FALSE(two.tighter_than(one_and_a_half));
  EXPECT_FALSE(one_and_a_half.tighter_than(also_one_and_a_half));
  EXPECT_FALSE(also_one_and_a_half.tighter_than(one_and_a_half));
}

TEST(ParseProcSelfCgroup, UnifiedHierarchyLine) {
  const CgroupMembership membership = parse_proc_self_cgroup("0::/user.slice/user-1000.slice/app.scope\n");
  ASSERT_TRUE(membership.v2_path);
  EXPECT_EQ(*membership.v2_path, "/user.slice/user-1000.slice/app.scope");
  EXPECT_FALSE(membership.v1_cpu_path);
}

TEST(ParseProcSelfCgroup, V1CpuControllerAloneAsOnAHybridHost) {
  // This machine's file: cgroup v1 with cpu and cpuacct mounted apart, plus an empty unified hierarchy.
  const CgroupMembership membership = parse_proc_self_cgroup(
      "9:name=systemd:/\n8:pids:/\n4:memory:/process_api/94df\n3:cpuset:/\n2:cpuacct:/x\n1:cpu:/\n0::/\n");
  ASSERT_TRUE(membership.v1_cpu_path);
  EXPECT_EQ(*membership.v1_cpu_path, "/");
  EXPECT_EQ(membership.v1_cpu_controllers, "cpu");
  ASSERT_TRUE(membership.v2_path);
  EXPECT_EQ(*membership.v2_path, "/");
}

TEST(ParseProcSelfCgroup, V1CpuCoMountedWithCpuacct) {
  const CgroupMembership membership =
      parse_proc_self_cgroup("5:cpuset:/other\n4:cpu,cpuacct:/docker/abc123\n3:cpuacct:/no\n");
  ASSERT_TRUE(membership.v1_cpu_path);
  EXPECT_EQ(*membership.v1_cpu_path, "/docker/abc123");
  EXPECT_EQ(membership.v1_cpu_controllers, "cpu,cpuacct");
  EXPECT_FALSE(membership.v2_path);
}

TEST(ParseProcSelfCgroup, CpusetAndCpuacctAreNotTheCpuController) {
  const CgroupMembership membership = parse_proc_self_cgroup("3:cpuset:/a\n2:cpuacct:/b\n7:cpu_x:/c\n");
  EXPECT_FALSE(membership.v1_cpu_path);
  EXPECT_FALSE(membership.v2_path);
}

TEST(ParseProcSelfCgroup, PathMayHoldColons) {
  const CgroupMembership membership = parse_proc_self_cgroup("0::/a:b/c\n");
  ASSERT_TRUE(membership.v2_path);
  EXPECT_EQ(*membership.v2_path, "/a:b/c");
}

TEST(ParseProcSelfCgroup, GarbageLinesAreSkipped) {
  const CgroupMembership membership =
      parse_proc_self_cgroup("garbage\n::\n1:cpu:relative\n0::\n\n2:cpu\n1:cpu:/good\n");
  ASSERT_TRUE(membership.v1_cpu_path);
  EXPECT_EQ(*membership.v1_cpu_path, "/good");
  EXPECT_FALSE(membership.v2_path);
  EXPECT_FALSE(parse_proc_self_cgroup("").v2_path);
}

TEST(CgroupAndAncestors, InnermostFirstUpToTheRoot) {
  EXPECT_EQ(cgroup_and_ancestors("/a/b/c"), (std::vector<std::string>{"/a/b/c", "/a/b", "/a", "/"}));
  EXPECT_EQ(cgroup_and_ancestors("/a//b/"), (std::vector<std::string>{"/a/b", "/a", "/"}));
  EXPECT_EQ(cgroup_and_ancestors("/"), (std::vector<std::string>{"/"}));
}

TEST(CgroupAndAncestors, OnlyTheRootForPathsThatCouldLeaveTheTree) {
  for (const char* path : {"", "relative/path", "/a/../../etc", "/a/./b", ".."}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(cgroup_and_ancestors(path), (std::vector<std::string>{"/"}));
  }
}

TEST(CombineCpuBudget, AffinityAloneWithoutACgroupLimit) {
  const CpuBudget budget = combine_cpu_budget(2, 2, std::nullopt);
  EXPECT_EQ(budget.cpus, 2u);
  EXPECT_EQ(budget.describe(), "2 (affinity 2 of 2, no cgroup limit)");
}

TEST(CombineCpuBudget, AQuotaBelowTheAffinityCountWins) {
  const CpuBudget budget =
      combine_cpu_budget(8, 16, CgroupCpuLimit{CpuQuota{150000, 100000}, "/sys/fs/cgroup/app/cpu.max"});
  EXPECT_EQ(budget.cpus, 2u);
  EXPECT_EQ(budget.affinity_cpus, 8u);
  EXPECT_EQ(budget.describe(), "2 (affinity 8 of 16, cgroup quota 1.50 CPUs in /sys/fs/cgroup/app/cpu.max)");
}

TEST(CombineCpuBudget, AnAffinityBelowTheQuotaWins) {
  // taskset -c 0 inside a 4-CPU container.
  const CpuBudget budget = combine_cpu_budget(1, 2, CgroupCpuLimit{CpuQuota{400000, 100000}, "cpu.max"});
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.describe(), "1 (affinity 1 of 2, cgroup quota 4.00 CPUs in cpu.max)");
}

TEST(CombineCpuBudget, UnknownCountsAreOne) {
  const CpuBudget budget = combine_cpu_budget(0, 0, std::nullopt);
  EXPECT_EQ(budget.cpus, 1u);
  EXPECT_EQ(budget.affinity_cpus, 1u);
  EXPECT_EQ(budget.online_cpus, 1u);
}

}  // namespace
}  // namespace posestream::stream
