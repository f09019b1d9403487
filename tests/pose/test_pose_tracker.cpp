// PoseTracker behaviour: tracking gate, loss and re-detection, state moving between runtimes, bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <utility>
#include <stdexcept>

#include "golden/golden.h"
#include "pose/pose.h"
#include "pose_compare.h"
#include "test_paths.h"

namespace posestream::pose {
namespace {

class PoseTrackerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<PoseModels>(load_pose_models(posestream::testing::models_dir(), PoseModel::lite));
  }
  static void TearDownTestSuite() { models_.reset(); }

  static PoseOptions video_options() {
    PoseOptions options;
    options.model = PoseModel::lite;
    return options;
  }

  static vision::Image gray_image(int width, int height) {
    vision::Image image = vision::Image::allocate(width, height);
    std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{128});
    return image;
  }

  static std::unique_ptr<PoseModels> models_;
};

std::unique_ptr<PoseModels> PoseTrackerTest::models_;

// Within `tolerance` (0: bitwise) on x, y, visibility and world z of every landmark.
bool same_landmarks(const Pose& a, const Pose& b, float tolerance = 0.0f) {
  const auto near = [tolerance](float u, float v) { return std::fabs(u - v) <= tolerance; };
  for (size_t i = 0; i < kPoseLandmarkCount; ++i) {
    if (!near(a.landmarks[i].x, b.landmarks[i].x) || !near(a.landmarks[i].y, b.landmarks[i].y) ||
        !near(a.world_landmarks[i].z, b.world_landmarks[i].z) ||
        !near(a.landmarks[i].visibility, b.landmarks[i].visibility)) {
      return false;
    }
  }
  return true;
}

TEST_F(PoseTrackerTest, EmptySceneRunsTheDetectorOnEveryFrame) {
  PoseTracker tracker(*models_, video_options());
  const vision::Image image = gray_image(320, 240);
  for (int64_t frame = 0; frame < 3; ++frame) {
    PoseTiming timing;
    EXPECT_FALSE(tracker.process(image, frame * 33'000, &timing).has_value());
    EXPECT_TRUE(timing.detector_ran) << "frame " << frame;
  }
}

TEST_F(PoseTrackerTest, TracksThenReDetectsAfterALoss) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  const vision::Image empty = gray_image(person.width, person.height);
  PoseTracker tracker(*models_, video_options());
  const bool expected_detector_runs[] = {true, false, false, true, true, false};
  const bool expected_pose[] = {true, true, false, false, true, true};
  const vision::Image* frames[] = {&person, &person, &empty, &empty, &person, &person};
  for (size_t i = 0; i < std::size(frames); ++i) {
    PoseTiming timing;
    const std::optional<Pose> pose = tracker.process(*frames[i], static_cast<int64_t>(i) * 33'333, &timing);
    EXPECT_EQ(pose.has_value(), expected_pose[i]) << "frame " << i;
    EXPECT_EQ(timing.detector_ran, expected_detector_runs[i]) << "frame " << i;
    EXPECT_EQ(tracker.state().previous_roi.has_value(), expected_pose[i]) << "frame " << i;
  }
}

TEST_F(PoseTrackerTest, ImageModeRunsTheDetectorEveryTimeAndKeepsNoState) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  PoseOptions options = video_options();
  options.static_image_mode = true;
  PoseTracker tracker(*models_, options);
  std::optional<Pose> first;
  for (int64_t call = 0; call < 3; ++call) {
    PoseTiming timing;
    const std::optional<Pose> pose = tracker.process(person, 0, &timing);
    ASSERT_TRUE(pose.has_value());
    EXPECT_TRUE(timing.detector_ran);
    EXPECT_FALSE(tracker.state().previous_roi.has_value());
    if (first) {
      EXPECT_TRUE(same_landmarks(*first, *pose)) << "IMAGE mode must not smooth";
    }
    first = pose;
  }
}

TEST_F(PoseTrackerTest, VideoFirstFrameEqualsImageMode) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  PoseOptions image_options = video_options();
  image_options.static_image_mode = true;
  PoseTracker image_tracker(*models_, image_options);
  PoseTracker video_tracker(*models_, video_options());
  const std::optional<Pose> from_image = image_tracker.process(person, 0);
  const std::optional<Pose> from_video = video_tracker.process(person, 0);
  ASSERT_TRUE(from_image && from_video);
  // The first smoothing step passes values through, up to the float round trip into pixels and back
  // (MediaPipe's golden shows the same: VIDEO frame 0 = IMAGE frame 0 within 3e-8).
  EXPECT_TRUE(same_landmarks(*from_image, *from_video, 1e-6f));
}

TEST_F(PoseTrackerTest, StateMovesBetweenWorkersWithoutChangingResults) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  PoseRuntimes worker_a(*models_);
  PoseRuntimes worker_b(*models_);
  PoseState one_worker;
  PoseState two_workers;
  for (int64_t frame = 0; frame < 4; ++frame) {
    const int64_t timestamp = frame * 33'333;
    const std::optional<Pose> expected = track_pose(person, timestamp, one_worker, worker_a, video_options());
    PoseState moved = std::move(two_workers);
    const std::optional<Pose> actual =
        track_pose(person, timestamp, moved, frame % 2 == 0 ? worker_b : worker_a, video_options());
    two_workers = std::move(moved);
    ASSERT_TRUE(expected && actual);
    EXPECT_TRUE(same_landmarks(*expected, *actual)) << "frame " << frame;
  }
}

TEST_F(PoseTrackerTest, NonIncreasingTimestampsDoNotBreakTracking) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  PoseTracker tracker(*models_, video_options());
  for (const int64_t timestamp : {100'000, 100'000, 50'000, -7, 200'000}) {
    const std::optional<Pose> pose = tracker.process(person, timestamp);
    ASSERT_TRUE(pose.has_value()) << "timestamp " << timestamp;
    for (const vision::Landmark& landmark : pose->landmarks) EXPECT_TRUE(std::isfinite(landmark.x));
  }
}

TEST_F(PoseTrackerTest, SegmentationMaskOnlyWhenRequestedAndComputed) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image person = testing::load_image(path);
  PoseOptions options = video_options();
  options.static_image_mode = true;
  options.segmentation = true;
  PoseTracker with_mask(*models_, options);
  const std::optional<Pose> pose = with_mask.process(person, 0);
  ASSERT_TRUE(pose.has_value());
  ASSERT_EQ(pose->segmentation_mask.size(), size_t{kSegmentationSide} * kSegmentationSide);
  float low = 1, high = 0;
  for (const float value : pose->segmentation_mask) {
    low = std::min(low, value);
    high = std::max(high, value);
  }
  EXPECT_GE(low, 0.0f);
  EXPECT_LE(high, 1.0f);
  EXPECT_GT(high - low, 0.5f) << "a person in the ROI should separate from the background";

  PoseRuntimes without_head(*models_, 1, /*segmentation=*/false);
  PoseState state;
  const std::optional<Pose> no_mask = track_pose(person, 0, state, without_head, options);
  ASSERT_TRUE(no_mask.has_value());
  EXPECT_TRUE(no_mask->segmentation_mask.empty());
}

TEST_F(PoseTrackerTest, TinyAndExtremeImagesFindNothingAndDoNotFail) {
  PoseTracker tracker(*models_, video_options());
  for (const auto& [width, height] : {std::pair{1, 1}, std::pair{2, 3000}, std::pair{3000, 2}}) {
    PoseTiming timing;
    EXPECT_FALSE(tracker.process(gray_image(width, height), 0, &timing).has_value()) << width << "x" << height;
    EXPECT_TRUE(timing.detector_ran);
  }
}

TEST_F(PoseTrackerTest, InvalidImageThrowsNamingTheStage) {
  PoseTracker tracker(*models_, video_options());
  vision::Image broken;
  broken.width = 10;
  broken.height = 10;  // no pixels
  try {
    tracker.process(broken, 0);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("pose: invalid image 10x10"), std::string::npos) << error.what();
  }
}

TEST(PoseModelNames, RoundTrip) {
  for (const PoseModel model : {PoseModel::lite, PoseModel::full, PoseModel::heavy}) {
    EXPECT_EQ(parse_pose_model(model_name(model)), model);
  }
  EXPECT_FALSE(parse_pose_model("medium").has_value());
}

}  // namespace
}  // namespace posestream::pose
