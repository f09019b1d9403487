// ParallelismMetrics: registering the path and CPU-wait families and updating them.
#include "server/parallelism_metrics.h"

namespace posestream::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

constexpr const char* kPathNames[] = {"single", "parallel"};

// Seconds: 0.1 ms to 1 s. A frame on an idle machine waits well under a millisecond; one that shares
// its CPU with a busy loop waits about as long as it runs.
const prometheus::Histogram::BucketBoundaries& cpu_wait_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {0.0001, 0.0005, 0.001, 0.002, 0.004, 0.008,
                                                                  0.016,  0.032,  0.064, 0.128, 0.256, 1.0};
  return buckets;
}

}  // namespace

ParallelismMetrics::ParallelismMetrics(prometheus::Registry& registry) : registry_(registry) {
  auto& frames = BuildCounter()
                     .Name("posestream_frames_by_path_total")
                     .Help("Results by the threads that ran them: parallel (inference pool and helper) or single "
                           "(the worker's own thread)")
                     .Register(registry_);
  auto& waits = BuildHistogram()
                    .Name("posestream_frame_cpu_wait_seconds")
                    .Help("Time a frame's threads were runnable but not running (CPU taken by others), seconds")
                    .Register(registry_);
  for (std::size_t path = 0; path < 2; ++path) {
    frames_by_path_[path] = &frames.Add({{"path", kPathNames[path]}});
    cpu_wait_[path] = &waits.Add({{"path", kPathNames[path]}}, cpu_wait_buckets());
  }
}

void ParallelismMetrics::on_result(const stream::FrameTiming& timing) {
  const std::size_t path = timing.parallel ? 1 : 0;
  frames_by_path_[path]->Increment();
  cpu_wait_[path]->Observe(timing.cpu_wait_ms / 1000.0);
}

void ParallelismMetrics::update() {
  if (!source_) return;
  const std::optional<stream::ParallelismStatus> status = source_();
  if (!status) return;
  const std::lock_guard lock(update_mutex_);
  if (!reported_) {
    Reported reported;
    reported.allowed = &BuildGauge()
                            .Name("posestream_parallel_path_allowed")
                            .Help("1 while a lone stream's frames may run on the inference pool and helper thread")
                            .Register(registry_)
                            .Add({});
    reported.other_cpus = &BuildGauge()
                               .Name("posestream_other_processes_cpus")
                               .Help("CPUs other processes used on this process's CPUs over the last sample")
                               .Register(registry_)
                               .Add({});
    auto& fallbacks = BuildCounter()
                          .Name("posestream_parallel_fallbacks_total")
                          .Help("Times the parallel path was turned off: a busy machine, or a parallel frame that "
                                "waited for CPU")
                          .Register(registry_);
    reported.machine_fallbacks = &fallbacks.Add({{"cause", "machine_busy"}});
    reported.frame_fallbacks = &fallbacks.Add({{"cause", "frame_waited"}});
    reported_ = reported;
  }
  reported_->allowed->Set(status->parallel_allowed ? 1 : 0);
  reported_->other_cpus->Set(status->other_cpus);
  reported_->machine_fallbacks->Increment(static_cast<double>(status->machine_fallbacks - reported_->machine_seen));
  reported_->frame_fallbacks->Increment(static_cast<double>(status->frame_fallbacks - reported_->frame_seen));
  reported_->machine_seen = status->machine_fallbacks;
  reported_->frame_seen = status->frame_fallbacks;
}

}  // namespace posestream::server
