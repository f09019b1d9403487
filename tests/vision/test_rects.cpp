// Tests of ROI geometry (transforms, ROIs from detections/landmarks/pose, letterbox, projection) against
// hand-worked values.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

#include "vision/rects.h"

namespace posestream::vision {
namespace {

constexpr float kPi = std::numbers::pi_v<float>;
constexpr float kTolerance = 1e-5f;

void expect_rect(const NormalizedRect& actual, const NormalizedRect& expected) {
  EXPECT_NEAR(actual.x_center, expected.x_center, kTolerance);
  EXPECT_NEAR(actual.y_center, expected.y_center, kTolerance);
  EXPECT_NEAR(actual.width, expected.width, kTolerance);
  EXPECT_NEAR(actual.height, expected.height, kTolerance);
  EXPECT_NEAR(actual.rotation, expected.rotation, kTolerance);
}

TEST(NormalizeRadians, WrapsToMinusPiPi) {
  EXPECT_NEAR(normalize_radians(0.0f), 0.0f, kTolerance);
  EXPECT_NEAR(normalize_radians(1.5f * kPi), -0.5f * kPi, kTolerance);
  EXPECT_NEAR(normalize_radians(-1.5f * kPi), 0.5f * kPi, kTolerance);
  EXPECT_NEAR(normalize_radians(7.0f), 0.7168147f, kTolerance);  // 7 - 2 pi.
  // [-pi, pi) is measured against double pi: float pi (3.14159274) lies above it and wraps to -pi,
  // float -pi lies below -pi and wraps to just under pi.
  EXPECT_NEAR(normalize_radians(kPi), -kPi, kTolerance);
  EXPECT_NEAR(normalize_radians(-kPi), kPi, kTolerance);
  EXPECT_NEAR(normalize_radians(-3.14159f), -3.14159f, kTolerance);
}

TEST(TransformRect, ShiftsThenSquaresInPixelsThenScales) {
  // 200x100 image, rect 40x10 px. Shift y by -0.5 of the height: 0.5 - 0.05. Square long: 40 px ->
  // 0.2 of the width, 0.4 of the height; then x2.
  RectTransformOptions options;
  options.shift_y = -0.5f;
  options.square_long = true;
  options.scale_x = options.scale_y = 2.0f;
  const NormalizedRect rect = transform_rect({0.5f, 0.5f, 0.2f, 0.1f, 0.0f}, {200, 100}, options);
  expect_rect(rect, {0.5f, 0.45f, 0.4f, 0.8f, 0.0f});

  // Squared before scaling: 40 px square, then x2 and x1 -> 0.4 x 0.4 (scaling first would give 80 px
  // x 10 px, squared to 0.4 x 0.8).
  options.scale_y = 1.0f;
  expect_rect(transform_rect({0.5f, 0.5f, 0.2f, 0.1f, 0.0f}, {200, 100}, options), {0.5f, 0.45f, 0.4f, 0.4f, 0.0f});

  options.scale_y = 2.0f;
  options.square_long = false;
  options.square_short = true;  // 10 px -> 0.05 of the width, 0.1 of the height.
  expect_rect(transform_rect({0.5f, 0.5f, 0.2f, 0.1f, 0.0f}, {200, 100}, options), {0.5f, 0.45f, 0.1f, 0.2f, 0.0f});
}

TEST(TransformRect, ShiftFollowsTheRotatedAxes) {
  // Rotated 90 degrees, the rect's up (-y) is the image's +x. MediaPipe's formula in pixels:
  // x_shift = -(H * h * shift_y * sin r) / W = -(100 * 0.1 * -0.5 * 1) / 200 = 0.025, y_shift ~ 0.
  RectTransformOptions options;
  options.shift_y = -0.5f;
  options.square_long = true;
  const NormalizedRect rect = transform_rect({0.5f, 0.5f, 0.2f, 0.1f, kPi / 2}, {200, 100}, options);
  expect_rect(rect, {0.525f, 0.5f, 0.2f, 0.4f, kPi / 2});
}

TEST(TransformRect, GeneralRotationAndBothShifts) {
  // r = pi/6, 100x200 image, rect 30 x 40 px, shift (0.1, -0.2):
  // x_shift = (30 * 0.1 * cos r - 40 * -0.2 * sin r) / 100 = (2.598076 + 4) / 100 = 0.06598076
  // y_shift = (30 * 0.1 * sin r + 40 * -0.2 * cos r) / 200 = (1.5 - 6.928203) / 200 = -0.02714102
  // square long: 40 px -> 0.4 x 0.2, then x1.5.
  RectTransformOptions options;
  options.shift_x = 0.1f;
  options.shift_y = -0.2f;
  options.square_long = true;
  options.scale_x = options.scale_y = 1.5f;
  const NormalizedRect rect = transform_rect({0.5f, 0.5f, 0.3f, 0.2f, kPi / 6}, {100, 200}, options);
  expect_rect(rect, {0.5f + 0.06598076f, 0.5f - 0.02714102f, 0.6f, 0.3f, kPi / 6});
}

Detection pose_detection(Point2 hip, Point2 scale_point) {
  Detection detection;
  detection.score = 0.9f;
  detection.keypoints = {hip, scale_point, {0.5f, 0.3f}, {0.5f, 0.2f}};
  return detection;
}

TEST(PoseRoi, FromDetectionUpright) {
  // 640x480: hip (320, 240) px, scale point (320, 120) px straight above: side 2 * 120 = 240 px,
  // rotation pi/2 - atan2(120, 0) = 0; x1.25 -> 300 px = 0.46875 x 0.625.
  const auto roi = pose_roi_from_detection(pose_detection({0.5f, 0.5f}, {0.5f, 0.25f}), {640, 480});
  ASSERT_TRUE(roi.has_value());
  expect_rect(*roi, {0.5f, 0.5f, 0.46875f, 0.625f, 0.0f});
}

TEST(PoseRoi, FromDetectionRotated) {
  // Scale point 120 px to the right: rotation pi/2 - atan2(0, 120) = pi/2, same size.
  const auto right = pose_roi_from_detection(pose_detection({0.5f, 0.5f}, {0.6875f, 0.5f}), {640, 480});
  ASSERT_TRUE(right.has_value());
  expect_rect(*right, {0.5f, 0.5f, 0.46875f, 0.625f, kPi / 2});
  // 60 px left and 60 px down: pi/2 - atan2(-60, -60) = 5pi/4 -> -3pi/4; side 2 * 84.8528 = 169.7056
  // px, x1.25 = 212.132 px.
  const auto diagonal =
      pose_roi_from_detection(pose_detection({0.5f, 0.5f}, {0.5f - 60.0f / 640, 0.625f}), {640, 480});
  ASSERT_TRUE(diagonal.has_value());
  expect_rect(*diagonal, {0.5f, 0.5f, 212.132034f / 640, 212.132034f / 480, -0.75f * kPi});
}

TEST(PoseRoi, FromDetectionNeedsTwoKeypoints) {
  Detection detection;
  detection.keypoints = {{0.5f, 0.5f}};
  EXPECT_FALSE(pose_roi_from_detection(detection, {640, 480}).has_value());
}

TEST(PoseRoi, FromAuxiliaryLandmarks) {
  const Landmark start{0.5f, 0.5f, 0.0f, 0.9f, 0.9f};
  const Landmark end{0.5f, 0.25f, 0.0f, 0.9f, 0.9f};
  expect_rect(pose_roi_from_auxiliary_landmarks(start, end, {640, 480}), {0.5f, 0.5f, 0.46875f, 0.625f, 0.0f});
}

TEST(HandRoi, FromPalm) {
  // 200x100 image, palm box 20x20 px centered (0.45, 0.5); wrist (90, 60) px, middle MCP (90, 40) px
  // straight above: rotation 0. Shift y -0.5 x 0.2 -> 0.4; square 20 px; x2.6 -> 0.26 x 0.52.
  Detection palm;
  palm.box = {0.4f, 0.4f, 0.1f, 0.2f};
  palm.keypoints = {{0.45f, 0.6f}, {0.4f, 0.55f}, {0.45f, 0.4f}};
  const auto roi = hand_roi_from_palm(palm, {200, 100});
  ASSERT_TRUE(roi.has_value());
  expect_rect(*roi, {0.45f, 0.4f, 0.26f, 0.52f, 0.0f});
  palm.keypoints.resize(2);
  EXPECT_FALSE(hand_roi_from_palm(palm, {200, 100}).has_value());
}

// An upright hand in a 100x100 image: wrist (0.5, 0.9), MCPs 5, 9, 13 at y 0.5 around x 0.5. The
// landmarks outside the ROI subset sit at (0, 0) and must not count.
std::vector<Landmark> upright_hand() {
  std::vector<Landmark> hand(21, Landmark{0.0f, 0.0f, 0.0f, 0.0f, 0.0f});
  const auto set = [&](size_t i, float x, float y) { hand[i] = Landmark{x, y, 0.0f, 0.0f, 0.0f}; };
  set(0, 0.5f, 0.9f);
  set(1, 0.45f, 0.8f);
  set(2, 0.42f, 0.7f);
  set(3, 0.40f, 0.65f);
  set(5, 0.4f, 0.5f);
  set(6, 0.4f, 0.4f);
  set(9, 0.5f, 0.5f);
  set(10, 0.5f, 0.35f);
  set(13, 0.6f, 0.5f);
  set(14, 0.6f, 0.4f);
  set(17, 0.7f, 0.55f);
  set(18, 0.7f, 0.45f);
  return hand;
}

TEST(HandRoi, FromLandmarksUpright) {
  // wrist -> mean(mean(lm5, lm13), lm9) = (0.5, 0.5) is straight up: rotation 0; the subset spans
  // x 0.4..0.7, y 0.35..0.9 -> center (0.55, 0.625), 0.3 x 0.55.
  const auto rect = hand_rect_from_landmarks(upright_hand(), {100, 100});
  ASSERT_TRUE(rect.has_value());
  expect_rect(*rect, {0.55f, 0.625f, 0.3f, 0.55f, 0.0f});
  // ROI: shift y by -0.1 x 0.55; square 55 px; x2.
  const auto roi = hand_roi_from_landmarks(upright_hand(), {100, 100});
  ASSERT_TRUE(roi.has_value());
  expect_rect(*roi, {0.55f, 0.57f, 1.1f, 1.1f, 0.0f});
}

TEST(HandRoi, FromLandmarksPointingRight) {
  // The upright hand rotated: (u, v) -> (1 - v, u). Fingers point +x: rotation pi/2 - atan2(0, +) =
  // pi/2. In the rect's frame the width is the image-y extent (0.4..0.7 = 30 px) and the height the
  // image-x extent (0.1..0.65 = 55 px); the center stays the box center (0.375, 0.55).
  std::vector<Landmark> hand = upright_hand();
  for (Landmark& landmark : hand) {
    const float u = landmark.x;
    landmark.x = 1.0f - landmark.y;
    landmark.y = u;
  }
  const auto rect = hand_rect_from_landmarks(hand, {100, 100});
  ASSERT_TRUE(rect.has_value());
  expect_rect(*rect, {0.375f, 0.55f, 0.3f, 0.55f, kPi / 2});
  // Shift -0.1 x 55 px along the rect's up, which is image +x: x + 0.055.
  const auto roi = hand_roi_from_landmarks(hand, {100, 100});
  ASSERT_TRUE(roi.has_value());
  expect_rect(*roi, {0.43f, 0.55f, 1.1f, 1.1f, kPi / 2});
}

TEST(HandRoi, FromLandmarksNeedsTheSubset) {
  std::vector<Landmark> hand = upright_hand();
  hand.resize(18);
  EXPECT_FALSE(hand_rect_from_landmarks(hand, {100, 100}).has_value());
}

std::vector<Landmark> pose_with_left_hand(float wrist_visibility) {
  std::vector<Landmark> pose(33);
  pose[15] = Landmark{0.5f, 0.8f, 0.0f, wrist_visibility, 1.0f};  // Left wrist.
  pose[17] = Landmark{0.45f, 0.5f, 0.0f, 0.9f, 1.0f};              // Left pinky.
  pose[19] = Landmark{0.6f, 0.5f, 0.0f, 0.9f, 1.0f};               // Left index.
  return pose;
}

TEST(HandRoi, FromPose) {
  // 100x100: middle = ((2 * 60 + 45) / 3, (2 * 50 + 50) / 3) = (55, 50) px; |middle - wrist| =
  // |(5, -30)| = 30.41381 -> side 60.82763 px; rotation pi/2 - atan2(30, 5) = 0.1651487.
  // Shift -0.1 x 60.83 px along the rect's up, the unit vector (5, -30) / 30.41: (+0.01, -0.06).
  // Square 60.83 px, x2.7 = 164.23459 px.
  const auto roi = hand_roi_from_pose(pose_with_left_hand(0.9f), HandSide::left, {100, 100});
  ASSERT_TRUE(roi.has_value());
  expect_rect(*roi, {0.56f, 0.44f, 1.6423459f, 1.6423459f, 0.1651487f});
  // The right hand's landmarks {16, 18, 20} are all zero here: visibility 0 fails the gate.
  EXPECT_FALSE(hand_roi_from_pose(pose_with_left_hand(0.9f), HandSide::right, {100, 100}).has_value());
}

TEST(HandRoi, FromPoseGatesOnWristVisibility) {
  EXPECT_FALSE(hand_roi_from_pose(pose_with_left_hand(0.09f), HandSide::left, {100, 100}).has_value());
  // The gate compares the float widened to double with 0.1: 0.1f is 0.100000001 and passes.
  EXPECT_TRUE(hand_roi_from_pose(pose_with_left_hand(0.1f), HandSide::left, {100, 100}).has_value());
  std::vector<Landmark> short_list = pose_with_left_hand(0.9f);
  short_list.resize(19);
  EXPECT_FALSE(hand_roi_from_pose(short_list, HandSide::left, {100, 100}).has_value());
}

TEST(Letterbox, PaddingOfTheShortSide) {
  // 640x480 into 224x224: aspect 0.75 < 1 -> vertical padding (1 - 0.75) / 2 = 0.125.
  const auto landscape = letterbox_padding(640, 480, 224, 224);
  ASSERT_TRUE(landscape.has_value());
  EXPECT_NEAR(landscape->left, 0.0f, kTolerance);
  EXPECT_NEAR(landscape->top, 0.125f, kTolerance);
  EXPECT_NEAR(landscape->right, 0.0f, kTolerance);
  EXPECT_NEAR(landscape->bottom, 0.125f, kTolerance);
  // 480x640: horizontal padding (1 - 1 / (4/3)) / 2 = 0.125.
  const auto portrait = letterbox_padding(480, 640, 224, 224);
  ASSERT_TRUE(portrait.has_value());
  EXPECT_NEAR(portrait->left, 0.125f, kTolerance);
  EXPECT_NEAR(portrait->top, 0.0f, kTolerance);
  const auto square = letterbox_padding(256, 256, 256, 256);
  ASSERT_TRUE(square.has_value());
  EXPECT_EQ(square->left + square->top + square->right + square->bottom, 0.0f);
  const auto stretched = letterbox_padding(640, 480, 224, 224, /*keep_aspect_ratio=*/false);
  ASSERT_TRUE(stretched.has_value());
  EXPECT_EQ(stretched->top, 0.0f);
  EXPECT_FALSE(letterbox_padding(0, 480, 224, 224).has_value());
  EXPECT_FALSE(letterbox_padding(640, 480, 224, 0).has_value());
}

TEST(Letterbox, RemovedFromDetectionsAndLandmarks) {
  const LetterboxPadding vertical{0.0f, 0.125f, 0.0f, 0.125f};
  Detection detection;
  detection.box = {0.2f, 0.2f, 0.1f, 0.3f};
  detection.keypoints = {{0.5f, 0.5f}, {0.3f, 0.125f}};
  const Detection unpadded = remove_letterbox(detection, vertical);
  EXPECT_NEAR(unpadded.box.xmin, 0.2f, kTolerance);
  EXPECT_NEAR(unpadded.box.ymin, 0.1f, kTolerance);  // (0.2 - 0.125) / 0.75.
  EXPECT_NEAR(unpadded.box.width, 0.1f, kTolerance);
  EXPECT_NEAR(unpadded.box.height, 0.4f, kTolerance);
  EXPECT_NEAR(unpadded.keypoints[0].y, 0.5f, kTolerance);
  EXPECT_NEAR(unpadded.keypoints[1].y, 0.0f, kTolerance);

  const LetterboxPadding horizontal{0.125f, 0.0f, 0.125f, 0.0f};
  const std::vector<Landmark> landmarks = {{0.2f, 0.4f, 0.3f, 0.7f, 0.8f}};
  const std::vector<Landmark> out = remove_letterbox(landmarks, horizontal);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].x, 0.1f, kTolerance);  // (0.2 - 0.125) / 0.75.
  EXPECT_NEAR(out[0].y, 0.4f, kTolerance);
  EXPECT_NEAR(out[0].z, 0.4f, kTolerance);  // 0.3 / 0.75, scaled as x.
  EXPECT_EQ(out[0].visibility, 0.7f);
  EXPECT_EQ(out[0].presence, 0.8f);
}

TEST(Projection, LandmarksFromRoiToImage) {
  // ROI center (0.5, 0.4), 0.2 x 0.3, rotated 90 degrees. (0.75, 0.5) -> offset (0.25, 0) -> rotated
  // (0, 0.25) -> (0 * 0.2 + 0.5, 0.25 * 0.3 + 0.4) = (0.5, 0.475); z 0.1 * 0.2.
  const NormalizedRect roi{0.5f, 0.4f, 0.2f, 0.3f, kPi / 2};
  const std::vector<Landmark> out = project_landmarks(std::vector<Landmark>{{0.75f, 0.5f, 0.1f, 0.6f, 0.7f}}, roi);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].x, 0.5f, kTolerance);
  EXPECT_NEAR(out[0].y, 0.475f, kTolerance);
  EXPECT_NEAR(out[0].z, 0.02f, kTolerance);
  EXPECT_EQ(out[0].visibility, 0.6f);
  EXPECT_EQ(out[0].presence, 0.7f);
  // Unrotated: the ROI's corner (0, 0) lands at center - size / 2.
  const std::vector<Landmark> corner =
      project_landmarks(std::vector<Landmark>{{0.0f, 0.0f, 0.0f, 0.0f, 0.0f}}, {0.5f, 0.4f, 0.2f, 0.3f, 0.0f});
  EXPECT_NEAR(corner[0].x, 0.4f, kTolerance);
  EXPECT_NEAR(corner[0].y, 0.25f, kTolerance);
}

TEST(Projection, WorldLandmarksOnlyRotate) {
  const std::vector<Landmark> out =
      project_world_landmarks(std::vector<Landmark>{{1.0f, 0.0f, 0.5f, 0.9f, 0.8f}}, {0.1f, 0.2f, 0.3f, 0.4f, kPi / 2});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].x, 0.0f, kTolerance);
  EXPECT_NEAR(out[0].y, 1.0f, kTolerance);
  EXPECT_EQ(out[0].z, 0.5f);
  EXPECT_EQ(out[0].visibility, 0.9f);
}

TEST(Association, LaterListsWinOverlaps) {
  // IoU of two 0.2-squares offset by 0.05: 0.15 * 0.2 / (0.04 + 0.04 - 0.03) = 0.6.
  const NormalizedRect palm_a{0.5f, 0.5f, 0.2f, 0.2f, 0.0f};
  const NormalizedRect palm_b{0.2f, 0.2f, 0.1f, 0.1f, 0.0f};
  const NormalizedRect previous{0.55f, 0.5f, 0.2f, 0.2f, 0.3f};
  EXPECT_NEAR(rect_iou(palm_a, previous), 0.6f, kTolerance);
  const std::vector<std::vector<NormalizedRect>> lists = {{palm_a, palm_b}, {previous}};
  const std::vector<NormalizedRect> kept = associate_rects(lists, 0.5f);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].x_center, palm_b.x_center);
  EXPECT_EQ(kept[1].x_center, previous.x_center);
  // Above the overlap, both stay.
  EXPECT_EQ(associate_rects(lists, 0.7f).size(), 3u);
}

}  // namespace
}  // namespace posestream::vision
