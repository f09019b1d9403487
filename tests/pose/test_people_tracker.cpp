// track_people's rules and behaviour: newcomer association, merges, the detector's schedule, validate(),
// num_poses 1 giving exactly track_pose's poses, and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "golden/golden.h"
#include "pose/people.h"
#include "pose/people_association.h"
#include "pose_compare.h"
#include "test_paths.h"
#include "vision/rects.h"

namespace posestream::pose {
namespace {

vision::NormalizedRect rect(float x, float y, float w, float h, float rotation = 0.0f) {
  return vision::NormalizedRect{x, y, w, h, rotation};
}

TEST(PeopleAssociation, DropsDetectionsOverlappingATrackedRoi) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.3f, 0.5f, 0.2f, 0.4f)};
  const std::vector<vision::NormalizedRect> detections = {
      rect(0.31f, 0.5f, 0.2f, 0.4f),  // The tracked person again (IoU ~0.9).
      rect(0.7f, 0.5f, 0.2f, 0.4f),   // Someone else.
  };
  EXPECT_EQ(select_newcomers(tracked, detections, 0.5f, 4), (std::vector<size_t>{1}));
}

TEST(PeopleAssociation, ThresholdIsStrictAndRotationIgnored) {
  // Two 0.2-wide boxes shifted by a third of their width: IoU = (2/3) / (4/3) = 0.5 exactly.
  const std::vector<vision::NormalizedRect> tracked = {rect(0.3f, 0.5f, 0.3f, 0.4f)};
  const std::vector<vision::NormalizedRect> detections = {rect(0.4f, 0.5f, 0.3f, 0.4f, 1.0f)};
  const float iou = vision::rect_iou(tracked[0], detections[0]);
  EXPECT_NEAR(iou, 0.5f, 1e-6f);
  // AssociationNormRectCalculator drops only above the threshold, and ignores rotation.
  EXPECT_EQ(select_newcomers(tracked, detections, iou, 4).size(), 1u);
  EXPECT_TRUE(select_newcomers(tracked, detections, iou - 1e-3f, 4).empty());
}

TEST(PeopleAssociation, KeepsTheBetterOfTwoOverlappingDetectionsAndCapsTheCount) {
  const std::vector<vision::NormalizedRect> detections = {rect(0.2f, 0.5f, 0.2f, 0.4f), rect(0.21f, 0.5f, 0.2f, 0.4f),
                                                          rect(0.5f, 0.5f, 0.2f, 0.4f), rect(0.8f, 0.5f, 0.2f, 0.4f)};
  EXPECT_EQ(select_newcomers({}, detections, 0.5f, 4), (std::vector<size_t>{0, 2, 3}));
  EXPECT_EQ(select_newcomers({}, detections, 0.5f, 2), (std::vector<size_t>{0, 2}));
  EXPECT_TRUE(select_newcomers({}, detections, 0.5f, 0).empty());
}

TEST(PeopleMerge, TheLaterOfTwoConvergedTracksIsMerged) {
  const std::vector<std::optional<vision::NormalizedRect>> rois = {rect(0.3f, 0.5f, 0.2f, 0.4f),
                                                                   rect(0.7f, 0.5f, 0.2f, 0.4f),
                                                                   rect(0.31f, 0.51f, 0.2f, 0.4f)};
  EXPECT_EQ(merged_tracks(rois, 0.5f), (std::vector<bool>{false, false, true}));
}

TEST(PeopleMerge, AMergedTrackAbsorbsNothingAndMissingRoisOverlapNothing) {
  // A overlaps B, B overlaps C, A does not overlap C: B merges into A; C stays (B is gone).
  const std::vector<std::optional<vision::NormalizedRect>> chain = {
      rect(0.30f, 0.5f, 0.2f, 0.4f), rect(0.36f, 0.5f, 0.2f, 0.4f), rect(0.42f, 0.5f, 0.2f, 0.4f)};
  ASSERT_GT(vision::rect_iou(*chain[1], *chain[2]), 0.5f);
  ASSERT_LT(vision::rect_iou(*chain[0], *chain[2]), 0.5f);
  EXPECT_EQ(merged_tracks(chain, 0.5f), (std::vector<bool>{false, true, false}));
  const std::vector<std::optional<vision::NormalizedRect>> gaps = {std::nullopt, rect(0.3f, 0.5f, 0.2f, 0.4f),
                                                                   std::nullopt};
  EXPECT_EQ(merged_tracks(gaps, 0.5f), (std::vector<bool>{false, false, false}));
}

TEST(PeopleSchedule, DetectorDue) {
  constexpr double interval = 500;
  EXPECT_TRUE(detector_due(0, 4, interval, 1'000'000, 1'000'001));   // Nobody tracked: every frame.
  EXPECT_FALSE(detector_due(4, 4, interval, std::nullopt, 0));         // Everyone there is.
  EXPECT_TRUE(detector_due(2, 4, interval, std::nullopt, 0));          // Never ran.
  EXPECT_FALSE(detector_due(2, 4, interval, 1'000'000, 1'499'999));
  EXPECT_TRUE(detector_due(2, 4, interval, 1'000'000, 1'500'000));
  EXPECT_TRUE(detector_due(2, 4, interval, 1'000'000, 999'000));       // Time went back: not starved.
  EXPECT_TRUE(detector_due(2, 4, 0, 1'000'000, 1'000'000));            // MediaPipe's policy.
  EXPECT_FALSE(detector_due(1, 1, 0, std::nullopt, 0));                // num_poses 1 tracked: as track_pose.
}

TEST(PeopleOptionsTest, ValidateNamesTheBadOption) {
  EXPECT_FALSE(validate(PeopleOptions{}).has_value());
  const auto error_for = [](auto change) {
    PeopleOptions options;
    change(options);
    return validate(options).value_or("");
  };
  EXPECT_NE(error_for([](PeopleOptions& o) { o.num_poses = 0; }).find("num_poses 0"), std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.num_poses = kMaxNumPoses + 1; }).find("num_poses"), std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.detector_interval_ms = -1; }).find("detector_interval_ms"),
            std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.detector_interval_ms = std::numeric_limits<double>::infinity(); })
                .find("detector_interval_ms"),
            std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.min_tracking_iou = std::nanf(""); }).find("min_tracking_iou"),
            std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.merge_iou = 1.5f; }).find("merge_iou"), std::string::npos);
  EXPECT_NE(error_for([](PeopleOptions& o) { o.pose.min_detection_confidence = -0.1f; })
                .find("min_detection_confidence"),
            std::string::npos);
}

class PeopleTrackerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<PoseModels>(load_pose_models(posestream::testing::models_dir(), PoseModel::lite));
  }
  static void TearDownTestSuite() { models_.reset(); }

  static vision::Image gray_image(int width, int height) {
    vision::Image image = vision::Image::allocate(width, height);
    std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{128});
    return image;
  }

  static std::unique_ptr<PoseModels> models_;
};

std::unique_ptr<PoseModels> PeopleTrackerTest::models_;

bool same_landmark(const vision::Landmark& a, const vision::Landmark& b) {
  return a.x == b.x && a.y == b.y && a.z == b.z && a.visibility == b.visibility && a.presence == b.presence;
}

bool bit_identical(const Pose& a, const Pose& b) {
  for (size_t i = 0; i < kPoseLandmarkCount; ++i) {
    if (!same_landmark(a.landmarks[i], b.landmarks[i]) || !same_landmark(a.world_landmarks[i], b.world_landmarks[i])) {
      return false;
    }
  }
  return a.score == b.score && a.roi.x_center == b.roi.x_center && a.roi.y_center == b.roi.y_center &&
         a.roi.width == b.roi.width && a.roi.height == b.roi.height && a.roi.rotation == b.roi.rotation;
}

// The golden single-person sequence with smoothing on, and two empty frames in the middle so that the
// person is lost and found again (the filters that survive a loss in track_pose must survive it here).
TEST_F(PeopleTrackerTest, NumPoses1IsBitIdenticalToTrackPose) {
  const golden::Sequence sequence = golden::load_sequence_named("pose_lite_video");
  const auto first = golden::find_sequence_frame(sequence.frames.front().file);
  if (!first) GTEST_SKIP() << "sequence frames missing: " << sequence.frames.front().file;
  PoseOptions pose_options;
  pose_options.model = PoseModel::lite;
  PeopleOptions people_options;
  people_options.pose = pose_options;
  PoseRuntimes runtimes(*models_);
  PoseState pose_state;
  PeopleState people_state;
  int compared = 0, detector_runs = 0;
  for (size_t i = 0; i < sequence.frames.size() + 2; ++i) {
    const bool empty = i == 20 || i == 21;
    const size_t index = i < 20 ? i : (empty ? 0 : i - 2);
    const vision::Image image = empty ? gray_image(640, 480)
                                      : testing::load_image(*golden::find_sequence_frame(sequence.frames[index].file));
    const int64_t timestamp_us = static_cast<int64_t>(i) * 33'333;
    PoseTiming pose_timing;
    PeopleTiming people_timing;
    const std::optional<Pose> expected = track_pose(image, timestamp_us, pose_state, runtimes, pose_options, &pose_timing);
    const std::vector<Person> people =
        track_people(image, timestamp_us, people_state, runtimes, people_options, &people_timing);
    ASSERT_EQ(people.size(), expected ? 1u : 0u) << "frame " << i;
    EXPECT_EQ(people_timing.detector_ran, pose_timing.detector_ran) << "frame " << i;
    detector_runs += pose_timing.detector_ran ? 1 : 0;
    if (!expected) continue;
    EXPECT_TRUE(bit_identical(people.front().pose, *expected))
        << "frame " << i << " x " << people.front().pose.landmarks[0].x - expected->landmarks[0].x << " roi "
        << people.front().pose.roi.x_center - expected->roi.x_center << " world "
        << people.front().pose.world_landmarks[0].x - expected->world_landmarks[0].x << " vis "
        << people.front().pose.landmarks[0].visibility - expected->landmarks[0].visibility;
    ++compared;
  }
  EXPECT_GE(compared, 55);
  EXPECT_GE(detector_runs, 3);  // Frame 0, the two empty frames, the frame after them.
  EXPECT_EQ(people_state.next_id, 3);  // Found twice: ids 1 and 2.
}

TEST_F(PeopleTrackerTest, TrackedPersonIsNotFoundAgainByTheDetector) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image image = testing::load_image(path);
  PeopleOptions options;
  options.pose.model = PoseModel::lite;
  options.num_poses = 2;
  PoseRuntimes runtimes(*models_);
  PeopleState state;
  // 0 ms: nobody tracked, detector; 33 ms: within the interval; 500 ms: due, finds the same person.
  const int64_t times_us[] = {0, 33'333, 500'000};
  const bool detector_expected[] = {true, false, true};
  for (size_t i = 0; i < std::size(times_us); ++i) {
    PeopleTiming timing;
    const std::vector<Person> people = track_people(image, times_us[i], state, runtimes, options, &timing);
    EXPECT_EQ(timing.detector_ran, detector_expected[i]) << "frame " << i;
    ASSERT_EQ(people.size(), 1u) << "frame " << i;
    EXPECT_EQ(people.front().id, 1) << "frame " << i;
    EXPECT_EQ(timing.landmark_runs, 1) << "frame " << i;
  }
}

TEST_F(PeopleTrackerTest, TwoTracksOnOneBodyAreMergedKeepingTheLowerId) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const vision::Image image = testing::load_image(path);
  PeopleOptions options;
  options.pose.model = PoseModel::lite;
  options.num_poses = 3;
  PoseRuntimes runtimes(*models_);
  PeopleState state;
  ASSERT_EQ(track_people(image, 0, state, runtimes, options).size(), 1u);
  // A second track on the same body, as two tracks converging would leave it.
  state.people.push_back(PeopleState::TrackedPerson{state.next_id++, state.people.front().pose});
  PeopleTiming timing;
  const std::vector<Person> people = track_people(image, 33'333, state, runtimes, options, &timing);
  EXPECT_EQ(timing.landmark_runs, 2);
  EXPECT_EQ(timing.merged, 1);
  ASSERT_EQ(people.size(), 1u);
  EXPECT_EQ(people.front().id, 1);
  ASSERT_EQ(state.people.size(), 1u);
  EXPECT_EQ(state.people.front().id, 1);
}

TEST_F(PeopleTrackerTest, RejectsBadOptionsAndImages) {
  PoseRuntimes runtimes(*models_);
  PeopleState state;
  PeopleOptions bad;
  bad.num_poses = 0;
  EXPECT_THROW(track_people(gray_image(64, 64), 0, state, runtimes, bad), std::invalid_argument);
  vision::Image broken = gray_image(64, 64);
  broken.pixels.resize(10);
  EXPECT_THROW(track_people(broken, 0, state, runtimes, PeopleOptions{}), std::invalid_argument);
}

TEST_F(PeopleTrackerTest, EmptySceneRunsTheDetectorOnEveryFrame) {
  PoseRuntimes runtimes(*models_);
  PeopleState state;
  PeopleOptions options;
  options.num_poses = 4;
  for (int64_t frame = 0; frame < 3; ++frame) {
    PeopleTiming timing;
    EXPECT_TRUE(track_people(gray_image(320, 240), frame * 33'333, state, runtimes, options, &timing).empty());
    EXPECT_TRUE(timing.detector_ran) << "frame " << frame;
  }
}

}  // namespace
}  // namespace posestream::pose
