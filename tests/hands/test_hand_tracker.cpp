// HandTracker's contract: errors at the boundary, the VIDEO gate, state and timing, on a real photo.
#include <gtest/gtest.h>

#include "hands_golden_support.h"

namespace posestream::hands {
namespace {

const HandModels& lite_models() {
  static const HandModels models = load_hand_models(posestream::testing::models_dir(), HandModel::lite);
  return models;
}

HandOptions lite_options(int max_num_hands = 2) {
  HandOptions options;
  options.model = HandModel::lite;
  options.max_num_hands = max_num_hands;
  return options;
}

TEST(HandTracker, RefusesInvalidInputsAndLeavesTheStateAsItWas) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "handSrc.jpg");
  const vision::Image image = testing::read_image(path);
  HandRuntimes runtimes(lite_models());
  HandState state;
  ASSERT_EQ(track_hands(image, 0, state, runtimes, lite_options()).size(), 1u);
  ASSERT_EQ(state.tracked.size(), 1u);
  const int64_t id = state.tracked[0].id;

  const std::vector<vision::Landmark> five_landmarks(5);
  EXPECT_THROW(track_hands(image, 1, state, runtimes, lite_options(), five_landmarks), HandError);
  EXPECT_THROW(track_hands(vision::Image{}, 1, state, runtimes, lite_options()), HandError);
  EXPECT_THROW(track_hands(image, 1, state, runtimes, lite_options(0)), HandError);
  HandOptions zero_iou = lite_options();
  zero_iou.min_tracking_iou = 0.0f;  // Tasks CHECK-fails on it; we refuse it.
  EXPECT_THROW(track_hands(image, 1, state, runtimes, zero_iou), HandError);
  HandOptions no_retry_interval = lite_options();
  no_retry_interval.pose_wrist_retry_frames = 0;
  EXPECT_THROW(track_hands(image, 1, state, runtimes, no_retry_interval), HandError);
  HandOptions other_variant = lite_options();
  other_variant.model = HandModel::full;
  EXPECT_THROW(track_hands(image, 1, state, runtimes, other_variant), HandError);

  ASSERT_EQ(state.tracked.size(), 1u);
  EXPECT_EQ(state.tracked[0].id, id);
}

TEST(HandTracker, VideoModeSkipsThePalmDetectorOnlyWhileEnoughHandsAreTracked) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "handSrc.jpg");
  const vision::Image image = testing::read_image(path);
  for (int max_num_hands : {1, 2}) {
    HandTracker tracker(lite_models(), lite_options(max_num_hands));
    HandTiming first;
    ASSERT_EQ(tracker.process(image, 0, {}, &first).size(), 1u);
    EXPECT_EQ(first.palm_detector_runs, 1);
    EXPECT_EQ(first.landmark_runs, 1);
    HandTiming second;
    ASSERT_EQ(tracker.process(image, 33'000, {}, &second).size(), 1u);
    // One hand tracked: enough for max 1 (gate closed), not for max 2 (the palm is dropped by association).
    EXPECT_EQ(second.palm_detector_runs, max_num_hands == 1 ? 0 : 1) << "max_num_hands " << max_num_hands;
    EXPECT_EQ(second.landmark_runs, 1) << "max_num_hands " << max_num_hands;
    EXPECT_GT(second.landmarks_ms, 0.0);
  }
}

TEST(HandTracker, StaticImageModeIgnoresTrackingAndResetForgets) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "handSrc.jpg");
  const vision::Image image = testing::read_image(path);
  HandOptions options = lite_options(1);
  options.static_image_mode = true;
  HandTracker tracker(lite_models(), options);
  for (int frame = 0; frame < 2; ++frame) {
    HandTiming timing;
    ASSERT_EQ(tracker.process(image, frame * 33'000, {}, &timing).size(), 1u);
    EXPECT_EQ(timing.palm_detector_runs, 1) << "frame " << frame;
  }
  HandTracker video(lite_models(), lite_options(1));
  video.process(image, 0);
  video.reset();
  HandTiming after_reset;
  video.process(image, 33'000, {}, &after_reset);
  EXPECT_EQ(after_reset.palm_detector_runs, 1);
}

TEST(HandTracker, SmoothingKeepsOneFilterPerTrackedHandAndStartsFromTheRawValues) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "handSrc.jpg");
  const vision::Image image = testing::read_image(path);
  HandRuntimes runtimes(lite_models());
  HandState raw_state;
  HandState smooth_state;
  HandOptions smoothing = lite_options();
  smoothing.smoothing = true;
  const std::vector<Hand> raw = track_hands(image, 0, raw_state, runtimes, lite_options());
  const std::vector<Hand> smoothed = track_hands(image, 0, smooth_state, runtimes, smoothing);
  ASSERT_EQ(raw.size(), 1u);
  ASSERT_EQ(smoothed.size(), 1u);
  EXPECT_FLOAT_EQ(smoothed[0].landmarks[8].x, raw[0].landmarks[8].x);  // A One Euro filter's first value.
  EXPECT_EQ(smooth_state.smoothers.size(), 1u);
  EXPECT_EQ(smooth_state.smoothers.count(smooth_state.tracked[0].id), 1u);
  EXPECT_TRUE(raw_state.smoothers.empty());
}

TEST(HandTracker, PoseLandmarksWithoutVisibleWristsFindNoHandAndRunNoPalmDetector) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "handSrc.jpg");
  const vision::Image image = testing::read_image(path);
  HandTracker tracker(lite_models(), lite_options());
  const std::vector<vision::Landmark> invisible_body(33);  // Visibility 0 everywhere.
  HandTiming timing;
  EXPECT_TRUE(tracker.process(image, 0, invisible_body, &timing).empty());
  EXPECT_EQ(timing.palm_detector_runs, 0);
  EXPECT_EQ(timing.landmark_runs, 0);
}

TEST(HandModels, LoadingAMissingDirectoryFailsNamingTheFile) {
  try {
    load_hand_models("/nonexistent-models", HandModel::full);
    FAIL() << "expected an error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("palm_detection_full.tflite"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace posestream::hands
