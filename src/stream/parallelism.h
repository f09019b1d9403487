// ParallelismGovernor: decides whether a lone stream's frame may run on the parallel path (inference pool
// and helper thread) or must run on its worker's thread alone, from what the CPUs are doing.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace posestream::stream {

// The parallel path spreads one frame over several threads that wait for each other at every operator.
// When another process takes one of those threads' CPU, the others wait for it, and a frame costs the
// scheduler's time slice several times over (measured: p99 2 s where one thread held 58 ms). The
// governor keeps the parallel path only while the CPUs it needs are free, judged two ways:
//   - machine samples: the CPU time other processes used on this process's CPUs (/proc/stat minus this
//     process's own CPU time) over each sample_interval. Free CPUs = min(budget, affinity - others);
//     fewer than (CPUs the parallel path needs - cpu_slack) is contention.
//   - the parallel frames themselves: one whose threads were runnable but not running (the kernel's
//     run-queue wait, /proc/<tid>/schedstat) for more than max_cpu_wait_share of its wall time is
//     contention, whatever the samples said (a neighbour that just woke up).
// After contention is seen, frames run on their worker's thread alone until none has been seen for
// `hold`; then the parallel path is back. Single-thread frames never need another thread's CPU, so they
// lose nothing while the machine is busy.
struct ParallelismOptions {
  enum class Mode {
    adaptive,  // The rule above (the default).
    always,    // A worker alone in being busy always takes the parallel path (the behaviour before this rule).
  };
  Mode mode = Mode::adaptive;
  // CPUs of the parallel path's need that other processes may keep busy: with 2 CPUs and a pool of 2,
  // 0.25 lets the parallel path run while others use up to a quarter of a CPU (a load generator, a
  // shell), not while a browser or a busy loop takes half a CPU or more. Range [0, 256].
  double cpu_slack = 0.25;
  // A parallel frame whose threads' summed run-queue wait exceeds this share of its wall time is
  // contention. The sum over threads can exceed 1. Range [0.01, 256].
  double max_cpu_wait_share = 0.2;
  // How long after the last contention the parallel path stays off. Range [0, 3600000] ms.
  std::chrono::milliseconds hold{1000};
  // How often the machine's CPU use is sampled (by a worker starting a frame, so never while idle).
  // Range [20, 60000] ms.
  std::chrono::milliseconds sample_interval{200};
  // Consecutive busy samples before the machine's verdict turns the parallel path off. 2 ignores a
  // neighbour that comes and goes within one sample (a process starting, a shell command: measured on
  // an idle machine, each start of the load generator cost a second of single-path frames with 1); a
  // neighbour that stays is found one sample later, and a parallel frame that waited for CPU meanwhile
  // turns the path off by itself. Range [1, 100].
  int busy_samples = 2;
};

// Empty if usable, else a message naming the setting and the bad value.
std::optional<std::string> validate(const ParallelismOptions& options);
const char* to_string(ParallelismOptions::Mode mode);

// CPU time, in seconds, at one instant: spent on this process's CPUs by everyone, and by this process.
struct CpuSample {
  std::chrono::steady_clock::time_point at;
  double busy_cpu_seconds = 0;  // Non-idle time summed over the CPUs in this process's affinity mask.
  double own_cpu_seconds = 0;   // This process's CPU time (all threads).
};

// What /metrics and the start-up log show.
struct ParallelismStatus {
  bool parallel_allowed = true;
  double other_cpus = 0;  // CPUs other processes used over the last sample interval.
  std::uint64_t machine_fallbacks = 0;  // Busy periods the samples found (each turned the path off).
  std::uint64_t frame_fallbacks = 0;    // Parallel frames whose CPU wait turned it off.
};

// The CPUs the rule reasons about (from the CpuBudget and the pool's size).
struct ParallelismCpus {
  double budget = 1;     // CpuBudget::cpus: affinity capped by a cgroup quota.
  double affinity = 1;   // CpuBudget::affinity_cpus: the CPUs /proc/stat's samples cover.
  double needed = 2;     // Threads one parallel frame keeps busy (pool size; 2 for the concurrent stages).
};

// Thread-safe. Deterministic: every input carries its own time, so tests feed samples and frames.
class ParallelismGovernor {
 public:
  using Clock = std::chrono::steady_clock;

  ParallelismGovernor(ParallelismOptions options, ParallelismCpus cpus);

  // Whether a lone stream's frame starting at `now` may take the parallel path.
  bool parallel_allowed(Clock::time_point now) const;
  // Whether a new machine sample is due (sample_interval since the last one).
  bool sample_due(Clock::time_point now) const;
  // A machine sample; the first one only sets the baseline.
  void observe_sample(const CpuSample& sample);
  // A parallel frame that ended at `now`: its wall time and its threads' summed run-queue wait.
  void observe_parallel_frame(double wall_ms, double cpu_wait_ms, Clock::time_point now);

  ParallelismStatus status(Clock::time_point now) const;
  const ParallelismOptions& options() const noexcept { return options_; }

 private:
  // The parallel path is off from `at` for `hold` (or longer, if it already was).
  void block(Clock::time_point at, std::chrono::milliseconds hold);

  const ParallelismOptions options_;
  const ParallelismCpus cpus_;
  mutable std::mutex mutex_;
  // Guarded by mutex_:
  std::optional<CpuSample> last_sample_;
  double other_cpus_ = 0;
  bool machine_busy_ = false;  // The last sample's verdict.
  int busy_samples_in_a_row_ = 0;
  std::optional<Clock::time_point> blocked_until_;  // The parallel path is off before this.
  std::uint64_t machine_fallbacks_ = 0;
  std::uint64_t frame_fallbacks_ = 0;
};

}  // namespace posestream::stream
