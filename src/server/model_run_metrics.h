// ModelRunMetrics: the /metrics families that show the models' work per frame and the people it found.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>

#include "stream/stream.h"

namespace posestream::server {

// Metric names:
//   posestream_model_runs_total{model="pose_detector|pose_landmarks|palm_detector|hand_landmarks"}
//       model invocations of answered frames; with num_poses > 1 the newcomer search shows here as
//       pose_detector runs (up to 4 per search) and every person tracked as a pose_landmarks run
//   posestream_poses_per_frame        people in each result (histogram; num_poses 1: 0 or 1)
class ModelRunMetrics {
 public:
  explicit ModelRunMetrics(prometheus::Registry& registry);

  void on_result(const stream::FrameTiming& timing);  // Every result (thread-safe).

 private:
  std::array<prometheus::Counter*, 4> runs_{};  // Index: kModelNames in model_run_metrics.cpp.
  prometheus::Histogram* poses_ = nullptr;
};

}  // namespace posestream::server
