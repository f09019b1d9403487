// ModelRunMetrics: results' model runs add up by model, and each result's people fall in their bucket.
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <string>

#include "server/model_run_metrics.h"

namespace posestream::server {
namespace {

std::string scrape(prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

TEST(ModelRunMetrics, CountsRunsByModelAndPeoplePerResult) {
  prometheus::Registry registry;
  ModelRunMetrics metrics(registry);
  stream::FrameTiming search;  // A newcomer search over three views that found a second person.
  search.pose_detector_runs = 3;
  search.pose_landmark_runs = 2;
  search.hand_landmark_runs = 4;
  search.poses = 2;
  stream::FrameTiming nobody;  // The palm detector looked for hands without a pose.
  nobody.palm_detector_runs = 1;
  metrics.on_result(search);
  metrics.on_result(nobody);
  metrics.on_result(search);

  const std::string text = scrape(registry);
  for (const char* line : {"posestream_model_runs_total{model=\"pose_detector\"} 6",
                           "posestream_model_runs_total{model=\"pose_landmarks\"} 4",
                           "posestream_model_runs_total{model=\"palm_detector\"} 1",
                           "posestream_model_runs_total{model=\"hand_landmarks\"} 8",
                           "posestream_poses_per_frame_count 3", "posestream_poses_per_frame_sum 4",
                           "posestream_poses_per_frame_bucket{le=\"0\"} 1",
                           "posestream_poses_per_frame_bucket{le=\"1\"} 1",
                           "posestream_poses_per_frame_bucket{le=\"2\"} 3"}) {
    EXPECT_NE(text.find(std::string(line) + "\n"), std::string::npos) << line << "\nin\n" << text;
  }
}

}  // namespace
}  // namespace posestream::server
