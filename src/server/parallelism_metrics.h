// ParallelismMetrics: the /metrics families that show which path frames took and the CPU they waited for.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>

#include "stream/stream.h"

namespace posestream::server {

// Metric names (stream/parallelism.h has the rule behind them):
//   posestream_frames_by_path_total{path="parallel|single"}  results, by the threads that ran them
//   posestream_frame_cpu_wait_seconds{path=...}   run-queue wait of a frame's threads (histogram)
//   posestream_parallel_path_allowed              1 while a lone stream may take the parallel path
//   posestream_other_processes_cpus               CPUs other processes used on this one's CPUs (last sample)
//   posestream_parallel_fallbacks_total{cause="machine_busy|frame_waited"}  times the path was turned off
// Without an inference pool there is no parallel path: the last three are absent.
class ParallelismMetrics {
 public:
  using StatusSource = std::function<std::optional<stream::ParallelismStatus>()>;

  explicit ParallelismMetrics(prometheus::Registry& registry);

  // Every result (thread-safe).
  void on_result(const stream::FrameTiming& timing);
  // Where scrape() reads the governor's state (set once, before the server serves).
  void watch(StatusSource source) { source_ = std::move(source); }
  // Sets the gauges and counters from the governor's state, before a scrape.
  void update();

 private:
  prometheus::Registry& registry_;
  std::array<prometheus::Counter*, 2> frames_by_path_{};  // Index: parallel.
  std::array<prometheus::Histogram*, 2> cpu_wait_{};
  StatusSource source_;
  std::mutex update_mutex_;  // Scrapes on several network threads.
  struct Reported {
    prometheus::Gauge* allowed = nullptr;
    prometheus::Gauge* other_cpus = nullptr;
    prometheus::Counter* machine_fallbacks = nullptr;
    prometheus::Counter* frame_fallbacks = nullptr;
    std::uint64_t machine_seen = 0;  // The governor's counts already added to the counters.
    std::uint64_t frame_seen = 0;
  };
  std::optional<Reported> reported_;  // Registered at the first update with a governor.
};

}  // namespace posestream::server
