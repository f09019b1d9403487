// CPU usage readings for the ParallelismGovernor: the machine's busy time on this process's CPUs, this
// process's CPU time, and threads' run-queue wait (time runnable but not running).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "stream/parallelism.h"

namespace posestream::stream {

// ---- Pure parsing: malformed text is nullopt, never a throw.

// /proc/stat: the non-idle time (user, nice, system, irq, softirq, steal; guest time is inside user)
// summed over the "cpuN" lines for N in `cpus`, in clock ticks. nullopt if any of them is missing.
std::optional<std::uint64_t> parse_busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus);
// /proc/<pid>/task/<tid>/schedstat: "RUN_NS WAIT_NS SLICES" -> WAIT_NS, the time spent runnable on a
// run queue but not running.
std::optional<std::uint64_t> parse_run_delay_ns(std::string_view schedstat);

// ---- Reading the machine (Linux /proc; nullopt where it cannot be read).

// The CPUs in this process's affinity mask, ascending.
std::vector<int> affinity_cpu_list();
// busy_cpu_seconds over `cpus` from /proc/stat, and this process's CPU time, now.
std::optional<CpuSample> read_cpu_sample(const std::vector<int>& cpus);

// The run-queue wait of the calling thread: the file is opened by the constructor, on that thread, and
// read again (pread) by each read(). Movable, not copyable.
class ThreadRunDelay {
 public:
  ThreadRunDelay();
  ~ThreadRunDelay();
  ThreadRunDelay(ThreadRunDelay&& other) noexcept;
  ThreadRunDelay& operator=(ThreadRunDelay&& other) noexcept;
  ThreadRunDelay(const ThreadRunDelay&) = delete;
  ThreadRunDelay& operator=(const ThreadRunDelay&) = delete;

  std::optional<std::uint64_t> read_ns() const;

 private:
  int fd_ = -1;
};

// The run-queue wait summed over every thread of this process (the inference pool's threads are not
// ours to name, so a parallel frame is measured over all of them; while it runs the other workers are
// idle, which is the parallel path's condition). Threads that ended between two readings drop out of
// the sum, so callers clamp a difference at zero.
std::optional<std::uint64_t> process_run_delay_ns();

}  // namespace posestream::stream
