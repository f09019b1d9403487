// CpuBudget's reading half on fake /proc + /sys trees (cgroup v2, v1, nested limits, missing and
// malformed files), and the Scheduler resolving thread counts of 0 from a budget.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "stream/cpu_budget.h"
#include "stream/model_library.h"
#include "stream/scheduler.h"

namespace posestream::stream {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test standing in for "/": tests write proc/self/cgroup and sys/fs/cgroup/... in it.
class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = fs::temp_directory_path() /
            ("posestream_cpu_budget_" + std::to_string(::getpid()) + "_" + test->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, const std::string& text) const {
    const fs::path file = root_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
  }

  fs::path root_;
};

TEST_F(FakeRoot, V2LimitOfTheProcessesCgroup) {
  write("proc/self/cgroup", "0::/app.slice/server.service\n");
  write("sys/fs/cgroup/app.slice/server.service/cpu.max", "150000 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 2u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/app.slice/server.service/cpu.max");
}

TEST_F(FakeRoot, V2TightestOfTheCgroupAndItsParents) {
  write("proc/self/cgroup", "0::/outer/middle/inner\n");
  write("sys/fs/cgroup/outer/cpu.max", "300000 100000\n");
  write("sys/fs/cgroup/outer/middle/cpu.max", "50000 100000\n");  // The tightest, in the middle.
  write("sys/fs/cgroup/outer/middle/inner/cpu.max", "max 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 1u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/outer/middle/cpu.max");
}

TEST_F(FakeRoot, V2ParentLimitWhenTheCgroupHasNone) {
  write("proc/self/cgroup", "0::/outer/inner\n");
  write("sys/fs/cgroup/outer/cpu.max", "250000 100000\n");
  write("sys/fs/cgroup/outer/inner/cpu.max", "400000 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 3u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/outer/cpu.max");
}

TEST_F(FakeRoot, V2MaxEverywhereIsNoLimit) {
  write("proc/self/cgroup", "0::/a\n");
  write("sys/fs/cgroup/a/cpu.max", "max 100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
}

TEST_F(FakeRoot, V1CoMountedCpuCpuacct) {
  write("proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n3:memory:/docker/abc\n");
  write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "50000\n");
  write("sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 1u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us");
}

TEST_F(FakeRoot, V1ThroughTheCpuNameWhenTheListIsNotADirectory) {
  write("proc/self/cgroup", "4:cpu,cpuacct:/job\n");
  write("sys/fs/cgroup/cpu/job/cpu.cfs_quota_us", "200000\n");
  write("sys/fs/cgroup/cpu/job/cpu.cfs_period_us", "100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 2u);
}

TEST_F(FakeRoot, V1HostPathMissingInAContainerFallsBackToTheMountsRoot) {
  // Without a cgroup namespace the container sees the host's path, but its mount's root is its cgroup.
  write("proc/self/cgroup", "1:cpu:/docker/abc\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "150000\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 2u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/cpu/cpu.cfs_quota_us");
}

TEST_F(FakeRoot, ThisMachinesLayoutHasNoLimit) {
  // Hybrid cgroup v1: cpu at "/", quota -1, an empty unified hierarchy without cpu.max.
  write("proc/self/cgroup", "9:name=systemd:/\n2:cpuacct:/\n1:cpu:/\n0::/\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "-1\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  fs::create_directories(root_ / "sys/fs/cgroup/unified");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
}

TEST_F(FakeRoot, TightestOfV1AndV2) {
  write("proc/self/cgroup", "1:cpu:/\n0::/svc\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_quota_us", "300000\n");
  write("sys/fs/cgroup/cpu/cpu.cfs_period_us", "100000\n");
  write("sys/fs/cgroup/svc/cpu.max", "100000 100000\n");
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 1u);
  EXPECT_EQ(limit->file, root_ / "sys/fs/cgroup/svc/cpu.max");
}

TEST_F(FakeRoot, MissingFilesMeanNoLimit) {
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));  // No proc/self/cgroup at all.
  write("proc/self/cgroup", "0::/a\n1:cpu:/b\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));  // No sys/fs/cgroup.
  write("sys/fs/cgroup/cpu/b/cpu.cfs_quota_us", "50000\n");  // Quota without a period.
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
  EXPECT_FALSE(read_cgroup_cpu_limit(root_ / "does/not/exist"));
}

TEST_F(FakeRoot, MalformedFilesMeanNoLimitThere) {
  write("proc/self/cgroup", "0::/outer/inner\n");
  write("sys/fs/cgroup/outer/inner/cpu.max", "lots\n");
  write("sys/fs/cgroup/outer/cpu.max", "");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
  write("sys/fs/cgroup/cpu.max", "200000 100000\n");  // A readable ancestor still counts.
  const auto limit = read_cgroup_cpu_limit(root_);
  ASSERT_TRUE(limit);
  EXPECT_EQ(limit->quota.cpus(), 2u);
}

TEST_F(FakeRoot, GarbageProcSelfCgroupMeansNoLimit) {
  write("proc/self/cgroup", std::string(100000, 'x'));
  write("sys/fs/cgroup/cpu.max", "100000 100000\n");
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
}

TEST_F(FakeRoot, ACgroupPathCannotLeaveTheTree) {
  write("proc/self/cgroup", "0::/../../outside\n");
  write("sys/outside/cpu.max", "100000 100000\n");  // Where sys/fs/cgroup/../../outside would lead.
  EXPECT_FALSE(read_cgroup_cpu_limit(root_));
}

// The real machine: whatever it is, the budget is at least 1 and never above the affinity count.
TEST(ReadCpuBudget, OnThisMachineIsBetweenOneAndTheAffinityCount) {
  const CpuBudget budget = read_cpu_budget();
  EXPECT_GE(budget.cpus, 1u);
  EXPECT_LE(budget.cpus, budget.affinity_cpus);
  EXPECT_EQ(budget.affinity_cpus, affinity_cpu_count());
  EXPECT_LE(budget.affinity_cpus, budget.online_cpus);
}

// No models are loaded: nothing is prewarmed and no frame runs.
SchedulerOptions options_with_budget(std::size_t cpus) {
  SchedulerOptions options;
  options.prewarm = std::nullopt;
  options.cpu_budget = combine_cpu_budget(cpus, 64, std::nullopt);
  return options;
}

TEST(SchedulerCounts, ZeroResolvesToTheCpuBudgetNotTheCoreCount) {
  SchedulerOptions options = options_with_budget(3);
  options.worker_count = 0;
  options.inference_threads = 0;
  Scheduler scheduler(std::make_shared<ModelLibrary>("no-models-needed"), options);
  EXPECT_EQ(scheduler.worker_count(), 3u);
  EXPECT_EQ(scheduler.inference_threads(), 3u);
  EXPECT_EQ(scheduler.cpu_budget().cpus, 3u);
}

TEST(SchedulerCounts, OneCpuMeansOneWorkerAndNoPool) {
  SchedulerOptions options = options_with_budget(1);
  options.worker_count = 0;
  options.inference_threads = 0;
  Scheduler scheduler(std::make_shared<ModelLibrary>("no-models-needed"), options);
  EXPECT_EQ(scheduler.worker_count(), 1u);
  EXPECT_EQ(scheduler.inference_threads(), 1u);
}

TEST(SchedulerCounts, GivenCountsIgnoreTheBudget) {
  SchedulerOptions options = options_with_budget(1);
  options.worker_count = 2;
  options.inference_threads = 2;
  Scheduler scheduler(std::make_shared<ModelLibrary>("no-models-needed"), options);
  EXPECT_EQ(scheduler.worker_count(), 2u);
  EXPECT_EQ(scheduler.inference_threads(), 2u);
}

TEST(SchedulerCounts, ABudgetAboveTheWorkerLimitIsCappedNotRefused) {
  SchedulerOptions options = options_with_budget(1000);
  options.worker_count = 0;
  options.inference_threads = 1;
  Scheduler scheduler(std::make_shared<ModelLibrary>("no-models-needed"), options);
  EXPECT_EQ(scheduler.worker_count(), 256u);
}

}  // namespace
}  // namespace posestream::stream
