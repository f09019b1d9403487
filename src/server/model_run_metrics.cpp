// ModelRunMetrics: registering the model-run and people families and updating them from results.
#include "server/model_run_metrics.h"

namespace posestream::server {
namespace {

constexpr const char* kModelNames[] = {"pose_detector", "pose_landmarks", "palm_detector", "hand_landmarks"};

// People per frame: each count up to pose::kMaxNumPoses' 8 in a bucket of its own, then 16.
const prometheus::Histogram::BucketBoundaries& people_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets = {0, 1, 2, 3, 4, 5, 6, 7, 8, 16};
  return buckets;
}

}  // namespace

ModelRunMetrics::ModelRunMetrics(prometheus::Registry& registry) {
  auto& runs = prometheus::BuildCounter()
                   .Name("posestream_model_runs_total")
                   .Help("Model invocations of answered frames, by model")
                   .Register(registry);
  for (std::size_t model = 0; model < runs_.size(); ++model) runs_[model] = &runs.Add({{"model", kModelNames[model]}});
  poses_ = &prometheus::BuildHistogram()
                .Name("posestream_poses_per_frame")
                .Help("People in each result")
                .Register(registry)
                .Add({}, people_buckets());
}

void ModelRunMetrics::on_result(const stream::FrameTiming& timing) {
  const int counts[] = {timing.pose_detector_runs, timing.pose_landmark_runs, timing.palm_detector_runs,
                        timing.hand_landmark_runs};
  for (std::size_t model = 0; model < runs_.size(); ++model) runs_[model]->Increment(counts[model]);
  poses_->Observe(timing.poses);
}

}  // namespace posestream::server
