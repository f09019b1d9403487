// VIDEO-mode tracking through MediaPipe's 60-frame golden sequence: per-frame figures and detector runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>

#include "golden/golden.h"
#include "pose/pose.h"
#include "pose_compare.h"
#include "test_paths.h"

namespace posestream::pose {
namespace {

using testing::compare_pose;
using testing::PoseErrors;

class PoseSequence : public ::testing::TestWithParam<PoseModel> {};

TEST_P(PoseSequence, TracksLikeMediaPipeInVideoMode) {
  const PoseModel model = GetParam();
  const std::string variant = model_name(model);
  const golden::Sequence sequence = golden::load_sequence_named("pose_" + variant + "_video");
  ASSERT_EQ(sequence.frames.size(), 60u);
  if (!golden::find_sequence_frame(sequence.frames.front().file)) {
    GTEST_SKIP() << "sequence frames missing: " << sequence.frames.front().file << " not found under "
                 << (posestream::testing::shared_dir() / "golden" / "sequences") << " (frames_<sequence>/)";
  }

  PoseOptions options;
  options.model = model;
  PoseTracker tracker(load_pose_models(posestream::testing::models_dir(), model), options);
  int detector_runs = 0;
  double worst_mean_2d = 0, worst_max_2d = 0, worst_world = 0;
  for (const golden::Frame& frame : sequence.frames) {
    const std::optional<std::filesystem::path> path = golden::find_sequence_frame(frame.file);
    ASSERT_TRUE(path) << frame.file << " missing while frame 0 exists";
    const vision::Image image = testing::load_image(*path);
    // The golden's timestamps are round(i * 1000 / 30) ms; the tracker takes microseconds.
    ASSERT_EQ(frame.timestamp_ms, std::lround(frame.index * 1000.0 / 30.0));
    PoseTiming timing;
    const std::optional<Pose> pose = tracker.process(image, frame.timestamp_ms * 1000, &timing);
    if (timing.detector_ran) {
      ++detector_runs;
      EXPECT_TRUE(frame.index == 0 || !sequence.frames[static_cast<size_t>(frame.index) - 1].people.empty())
          << "frame " << frame.index << ": detector ran although the previous frame had a pose";
    }
    ASSERT_EQ(pose.has_value(), !frame.people.empty()) << "frame " << frame.index << ": pose count differs";
    if (!pose) continue;
    const PoseErrors errors = compare_pose(*pose, frame.people.front());
    std::cout << std::fixed << std::setprecision(4) << "[pose sequence] " << variant << " frame " << std::setw(2)
              << frame.index << (timing.detector_ran ? " D" : "  ") << " | 2D mean " << errors.mean_2d << " max "
              << errors.max_2d << " over " << errors.visible << " | world mean " << errors.world_mean_3d
              << " m | visibility max diff " << errors.max_visibility_difference << "\n";
    EXPECT_LE(errors.mean_2d, testing::kMaxMean2d) << "frame " << frame.index;
    EXPECT_LE(errors.max_2d, testing::kMaxMax2d) << "frame " << frame.index;
    EXPECT_LE(errors.world_mean_3d, testing::kMaxWorldMean3d) << "frame " << frame.index;
    worst_mean_2d = std::max(worst_mean_2d, errors.mean_2d);
    worst_max_2d = std::max(worst_max_2d, errors.max_2d);
    worst_world = std::max(worst_world, errors.world_mean_3d);
  }
  std::cout << "[pose sequence] " << variant << " summary: detector runs " << detector_runs << ", worst frame 2D mean "
            << worst_mean_2d << ", worst 2D max " << worst_max_2d << ", worst world mean " << worst_world << " m\n";
  // MediaPipe found a pose in every frame, so its detector ran on frame 0 only.
  const bool pose_in_every_frame = std::all_of(sequence.frames.begin(), sequence.frames.end(),
                                               [](const golden::Frame& frame) { return !frame.people.empty(); });
  if (pose_in_every_frame) {
    EXPECT_EQ(detector_runs, 1);
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, PoseSequence, ::testing::Values(PoseModel::lite, PoseModel::full, PoseModel::heavy),
                         [](const ::testing::TestParamInfo<PoseModel>& param) { return model_name(param.param); });

}  // namespace
}  // namespace posestream::pose
