// ParallelismGovernor's decisions (fed samples and frames with their times), the /proc parsers behind
// them, and the Scheduler switching paths mid-stream with the same results either way.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "pipeline_compare.h"
#include "scheduler_fixtures.h"
#include "stream/cpu_usage.h"
#include "stream/parallelism.h"
#include "stream/stream.h"

namespace posestream::stream {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Two CPUs, a parallel path that needs both, the default settings.
ParallelismGovernor two_cpu_governor(ParallelismOptions options = {}) {
  return ParallelismGovernor(options, ParallelismCpus{.budget = 2, .affinity = 2, .needed = 2});
}

// Feeds samples every `step` in which other processes used `other_cpus`; returns the last sample's time.
Clock::time_point feed(ParallelismGovernor& governor, Clock::time_point from, int samples, double other_cpus,
                       milliseconds step = milliseconds{200}) {
  static double busy = 0;  // Cumulative, as /proc/stat's counters are.
  Clock::time_point at = from;
  for (int i = 0; i < samples; ++i) {
    at += step;
    busy += other_cpus * std::chrono::duration<double>(step).count();
    governor.observe_sample(CpuSample{at, busy, 0});
  }
  return at;
}

TEST(ParallelismGovernor, AnIdleMachineKeepsTheParallelPath) {
  ParallelismGovernor governor = two_cpu_governor();
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(governor.parallel_allowed(start)) << "nothing measured yet: on, as before this rule";
  const Clock::time_point last = feed(governor, start, 10, 0.2);
  EXPECT_TRUE(governor.parallel_allowed(last));
  const ParallelismStatus status = governor.status(last);
  EXPECT_NEAR(status.other_cpus, 0.2, 1e-9);
  EXPECT_EQ(status.machine_fallbacks, 0u);
}

TEST(ParallelismGovernor, ABusyLoopTurnsItOffOnceUntilTheHoldAfterTheLastBusySample) {
  ParallelismOptions options;
  options.hold = milliseconds{1000};
  ParallelismGovernor governor = two_cpu_governor(options);
  const Clock::time_point start = Clock::now();
  feed(governor, start, 1, 0);
  const Clock::time_point busy_until = feed(governor, start + milliseconds{200}, 5, 1.0);
  EXPECT_FALSE(governor.parallel_allowed(busy_until));
  EXPECT_EQ(governor.status(busy_until).machine_fallbacks, 1u) << "one busy period, one fallback";
  const Clock::time_point idle = feed(governor, busy_until, 3, 0.05);
  EXPECT_FALSE(governor.parallel_allowed(idle)) << "within the hold after the last busy sample";
  EXPECT_FALSE(governor.parallel_allowed(busy_until + milliseconds{999}));
  EXPECT_TRUE(governor.parallel_allowed(busy_until + milliseconds{1000}));
}

TEST(ParallelismGovernor, TheSlackDecidesHowMuchOtherUseIsTolerated) {
  for (const double others : {0.2, 0.3}) {
    ParallelismGovernor governor = two_cpu_governor();  // cpu_slack 0.25
    const Clock::time_point last = feed(governor, Clock::now(), 3, others);
    EXPECT_EQ(governor.parallel_allowed(last), others <= 0.25) << "others " << others;
  }
}

// A sample's verdict lasts until the next one even with no hold.
TEST(ParallelismGovernor, WithoutHoldABusySampleLastsOneInterval) {
  ParallelismOptions options;
  options.hold = milliseconds{0};
  options.busy_samples = 1;
  ParallelismGovernor governor = two_cpu_governor(options);
  const Clock::time_point last = feed(governor, Clock::now(), 2, 1.5);
  EXPECT_FALSE(governor.parallel_allowed(last + milliseconds{199}));
  EXPECT_TRUE(governor.parallel_allowed(last + milliseconds{200}));
}

// A neighbour that comes and goes within one sample (a process starting) does not turn the path off;
// one that stays for busy_samples samples does.
TEST(ParallelismGovernor, OneBusySampleAloneIsNotContention) {
  ParallelismGovernor governor = two_cpu_governor();  // busy_samples 2
  const Clock::time_point start = Clock::now();
  Clock::time_point at = feed(governor, start, 2, 0);
  for (int blip = 0; blip < 3; ++blip) {
    at = feed(governor, at, 1, 1.0);
    EXPECT_TRUE(governor.parallel_allowed(at)) << "blip " << blip;
    at = feed(governor, at, 1, 0);
  }
  EXPECT_EQ(governor.status(at).machine_fallbacks, 0u);
  at = feed(governor, at, 2, 1.0);
  EXPECT_FALSE(governor.parallel_allowed(at));
  EXPECT_EQ(governor.status(at).machine_fallbacks, 1u);
}

TEST(ParallelismGovernor, AParallelFrameThatWaitedForCpuTurnsItOff) {
  ParallelismOptions options;
  options.max_cpu_wait_share = 0.2;
  options.hold = milliseconds{500};
  ParallelismGovernor governor = two_cpu_governor(options);
  const Clock::time_point now = Clock::now();
  governor.observe_parallel_frame(20, 4, now);  // Exactly the share: not more.
  EXPECT_TRUE(governor.parallel_allowed(now));
  governor.observe_parallel_frame(4, 0.9, now);  // 22%, but under a millisecond: noise.
  EXPECT_TRUE(governor.parallel_allowed(now));
  governor.observe_parallel_frame(20, 4.5, now);
  EXPECT_FALSE(governor.parallel_allowed(now));
  EXPECT_TRUE(governor.parallel_allowed(now + milliseconds{500}));
  const ParallelismStatus status = governor.status(now);
  EXPECT_EQ(status.frame_fallbacks, 1u);
  EXPECT_EQ(status.machine_fallbacks, 0u);
}

// In a container with a quota of 2 CPUs on a big, busy machine, others' use of the machine's other CPUs
// does not take the quota's.
TEST(ParallelismGovernor, AQuotaOnABigMachineIsJudgedByItsOwnCpus) {
  ParallelismGovernor governor({}, ParallelismCpus{.budget = 2, .affinity = 64, .needed = 2});
  const Clock::time_point last = feed(governor, Clock::now(), 3, 30);
  EXPECT_TRUE(governor.parallel_allowed(last));
  const Clock::time_point full = feed(governor, last, 3, 63);
  EXPECT_FALSE(governor.parallel_allowed(full));
}

TEST(ParallelismGovernor, ModeAlwaysIgnoresContention) {
  ParallelismOptions options;
  options.mode = ParallelismOptions::Mode::always;
  ParallelismGovernor governor = two_cpu_governor(options);
  const Clock::time_point last = feed(governor, Clock::now(), 3, 2);
  governor.observe_parallel_frame(10, 9, last);
  EXPECT_TRUE(governor.parallel_allowed(last));
  EXPECT_NEAR(governor.status(last).other_cpus, 2, 1e-9) << "still measured, for /metrics";
}

TEST(ParallelismGovernor, OwnCpuTimeIsNotOthers) {
  ParallelismGovernor governor = two_cpu_governor();
  const Clock::time_point start = Clock::now();
  governor.observe_sample(CpuSample{start, 100.0, 50.0});
  // 200 ms in which the CPUs were busy 0.38 s, 0.36 s of it this process's (its pool of two).
  governor.observe_sample(CpuSample{start + milliseconds{200}, 100.38, 50.36});
  EXPECT_NEAR(governor.status(start).other_cpus, 0.1, 1e-6);
  EXPECT_TRUE(governor.parallel_allowed(start + milliseconds{200}));
  // Tick rounding can make own time exceed the machine's: clamped at 0.
  governor.observe_sample(CpuSample{start + milliseconds{400}, 100.40, 50.60});
  EXPECT_EQ(governor.status(start).other_cpus, 0);
}

TEST(ParallelismGovernor, SamplesAreDueEveryInterval) {
  ParallelismGovernor governor = two_cpu_governor();
  const Clock::time_point start = Clock::now();
  EXPECT_TRUE(governor.sample_due(start));
  governor.observe_sample(CpuSample{start, 0, 0});
  EXPECT_FALSE(governor.sample_due(start + milliseconds{199}));
  EXPECT_TRUE(governor.sample_due(start + milliseconds{200}));
}

TEST(ParallelismOptions, ValidationNamesTheSetting) {
  EXPECT_FALSE(validate(ParallelismOptions{}).has_value());
  ParallelismOptions bad;
  bad.cpu_slack = -1;
  EXPECT_NE(validate(bad).value_or("").find("cpu_slack"), std::string::npos);
  bad = {};
  bad.busy_samples = 0;
  EXPECT_NE(validate(bad).value_or("").find("busy_samples"), std::string::npos);
  bad = {};
  bad.max_cpu_wait_share = 0;
  EXPECT_NE(validate(bad).value_or("").find("max_cpu_wait_share"), std::string::npos);
  bad = {};
  bad.hold = milliseconds{-1};
  EXPECT_NE(validate(bad).value_or("").find("hold"), std::string::npos);
  bad = {};
  bad.sample_interval = milliseconds{5};
  EXPECT_NE(validate(bad).value_or("").find("sample_interval"), std::string::npos);
}

TEST(CpuUsage, BusyTicksSumTheAffinityCpusOnly) {
  const std::string stat =
      "\ncpu  100 0 100 1000 0 0 0 0 0 0\n"
      "cpu0 10 1 20 500 7 2 3 4 0 0\n"
      "cpu1 30 0 10 400 0 0 0 0 0 0\n"
      "cpu10 1000 0 0 0 0 0 0 0 0 0\n"
      "intr 1 2 3\n";
  EXPECT_EQ(parse_busy_ticks(stat, {0}), 10u + 1 + 20 + 2 + 3 + 4);
  EXPECT_EQ(parse_busy_ticks(stat, {1}), 40u) << "cpu1, not cpu10";
  EXPECT_EQ(parse_busy_ticks(stat, {0, 1, 10}), 40u + 40 + 1000);
  EXPECT_FALSE(parse_busy_ticks(stat, {2}).has_value());
  EXPECT_FALSE(parse_busy_ticks("\ncpu0 1 2 x\n", {0}).has_value());
}

TEST(CpuUsage, RunDelayIsTheSecondSchedstatField) {
  EXPECT_EQ(parse_run_delay_ns("123456 789 12\n"), 789u);
  EXPECT_FALSE(parse_run_delay_ns("").has_value());
  EXPECT_FALSE(parse_run_delay_ns("12").has_value());
  EXPECT_FALSE(parse_run_delay_ns("a b c").has_value());
}

// This machine's /proc (Linux with schedstat, as Debian's kernels are built).
TEST(CpuUsage, ReadsThisMachine) {
  const std::vector<int> cpus = affinity_cpu_list();
  ASSERT_FALSE(cpus.empty());
  const std::optional<CpuSample> first = read_cpu_sample(cpus);
  ASSERT_TRUE(first.has_value());
  volatile double spin = 0;
  for (int i = 0; i < 20'000'000; ++i) spin = spin + 1.0;
  const std::optional<CpuSample> second = read_cpu_sample(cpus);
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(second->own_cpu_seconds, first->own_cpu_seconds);
  EXPECT_GE(second->busy_cpu_seconds, first->busy_cpu_seconds);
  const ThreadRunDelay thread;
  EXPECT_TRUE(thread.read_ns().has_value());
  const std::optional<std::uint64_t> process = process_run_delay_ns();
  ASSERT_TRUE(process.has_value());
  EXPECT_GE(*process, thread.read_ns().value_or(0));
}

// A machine whose other processes use two CPUs while `busy`, none otherwise.
class FakeMachine {
 public:
  void set_busy(bool busy) { busy_ = busy; }
  std::optional<CpuSample> sample() {
    const std::lock_guard lock(mutex_);
    const Clock::time_point now = Clock::now();
    busy_seconds_ += (busy_ ? 2.0 : 0.0) * std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return CpuSample{now, busy_seconds_, 0};
  }

 private:
  std::atomic<bool> busy_{false};
  std::mutex mutex_;
  Clock::time_point last_ = Clock::now();
  double busy_seconds_ = 0;
};

// The lone worker switches between the parallel path and its own thread as the machine gets busy and
// idle again, mid-stream, and every frame's results are the sequential pipeline's.
TEST(SchedulerParallelism, PathsSwitchWithTheMachineAndResultsStayTheSame) {
  using namespace compare;  // NOLINT: pipeline_compare.h's helpers.
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  const bool busy_pattern[] = {false, true, true, false, true, false, false, true};
  auto machine = std::make_shared<FakeMachine>();
  SchedulerOptions options;
  options.worker_count = 1;
  options.inference_threads = 2;
  options.parallelism.hold = milliseconds{0};
  options.parallelism.sample_interval = milliseconds{20};
  options.parallelism.busy_samples = 1;  // Each frame's own sample decides its path.
  options.parallelism.max_cpu_wait_share = 256;  // This test's machine decides, not the real one's waits.
  options.cpu_sampler = [machine] { return machine->sample(); };
  test::Recorder recorder;
  Scheduler scheduler(compare::shared_library(), options);
  auto session = scheduler.open_session(test::every_frame_session(StreamConfig{}), recorder.sink());
  ASSERT_NE(session, nullptr);
  FramePipeline sequential = make_pipeline(false);
  StreamState sequential_state;
  std::uint64_t parallel_frames = 0;
  for (std::size_t i = 0; i < std::size(busy_pattern); ++i) {
    machine->set_busy(busy_pattern[i]);
    std::this_thread::sleep_for(milliseconds{30});  // Past a sample interval: the frame's start samples.
    const auto timestamp_us = static_cast<std::int64_t>(i + 1) * kFrameIntervalUs;
    session->push(FrameInput{i, timestamp_us, frames[i], Clock::now()}, Clock::now());
    ASSERT_TRUE(recorder.wait_for(i + 1));
    const std::vector<Answer> answers = recorder.answers();
    const auto* answer = std::get_if<ResultAnswer>(&answers.back());
    ASSERT_NE(answer, nullptr) << "frame " << i;
    FrameResult result = answer->result;
    EXPECT_EQ(result.timing.parallel, !busy_pattern[i]) << "frame " << i;
    EXPECT_EQ(result.timing.concurrent, result.timing.parallel && i > 0) << "frame " << i;
    EXPECT_GE(result.timing.cpu_wait_ms, 0) << "frame " << i;
    parallel_frames += result.timing.parallel ? 1 : 0;
    result.timing.concurrent = false;
    expect_same(sequential.run(frames[i], timestamp_us, sequential_state), result, "frame " + std::to_string(i));
  }
  EXPECT_EQ(scheduler.pooled_runs(), parallel_frames);
  const std::optional<ParallelismStatus> status = scheduler.parallelism_status();
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->machine_fallbacks, 3u) << "three busy periods";
}

TEST(SchedulerParallelism, NoPoolNoGovernor) {
  SchedulerOptions options;
  options.worker_count = 1;
  options.inference_threads = 1;
  options.prewarm.reset();
  Scheduler scheduler(test::shared_library(), options);
  EXPECT_FALSE(scheduler.parallelism_status().has_value());
}

TEST(SchedulerParallelism, RefusesBadSettings) {
  SchedulerOptions options;
  options.worker_count = 1;
  options.prewarm.reset();
  options.parallelism.sample_interval = milliseconds{1};
  EXPECT_THROW(Scheduler(test::shared_library(), options), std::invalid_argument);
}

}  // namespace
}  // namespace posestream::stream
