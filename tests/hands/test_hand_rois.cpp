// Hand-worked tests of the hands layer's pure stages: palm ROI angle, association, pose ROIs, dedup, handedness.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "hands/hand_association.h"
#include "hands/hand_deduplication.h"
#include "hands/hand_landmarks.h"
#include "hands/palm_detector.h"
#include "hands/wrist_retry.h"

namespace posestream::hands {
namespace {

constexpr vision::ImageSize kSquare{100, 100};

vision::NormalizedRect rect(float x, float y, float width, float height, float rotation = 0.0f) {
  return {x, y, width, height, rotation};
}

// A palm whose wrist (keypoint 0) is below its middle-finger knuckle (keypoint 2): pointing straight up.
vision::Detection upright_palm() {
  vision::Detection palm;
  palm.score = 0.9f;
  palm.box = {0.45f, 0.45f, 0.1f, 0.1f};
  palm.keypoints = {{0.5f, 0.6f}, {0.45f, 0.5f}, {0.5f, 0.4f}};
  return palm;
}

TEST(PalmRoi, TasksTargetOfNinetyRadiansTurnsAnUprightPalmBy0_4646) {
  // rotation = normalize(90 - atan2(0.2 * 100, 0)) = 90 - pi/2 - 14 * 2 pi = 0.464609.
  const std::optional<vision::NormalizedRect> roi = hand_roi_from_palm(upright_palm(), kSquare);
  ASSERT_TRUE(roi);
  EXPECT_NEAR(roi->rotation, 0.464609, 1e-5);
  // shift_y -0.5 of the 0.1 box along the turned y axis, then square_long and scale 2.6.
  EXPECT_NEAR(roi->x_center, 0.5 + 0.05 * std::sin(0.464609), 1e-5);
  EXPECT_NEAR(roi->y_center, 0.5 - 0.05 * std::cos(0.464609), 1e-5);
  EXPECT_NEAR(roi->width, 0.26, 1e-6);
  EXPECT_NEAR(roi->height, 0.26, 1e-6);
}

TEST(PalmRoi, LegacyHalfPiTargetLeavesAnUprightPalmUnturned) {
  const std::optional<vision::NormalizedRect> roi =
      hand_roi_from_palm(upright_palm(), kSquare, static_cast<float>(std::numbers::pi / 2));
  ASSERT_TRUE(roi);
  EXPECT_NEAR(roi->rotation, 0.0, 1e-6);
  EXPECT_NEAR(roi->x_center, 0.5, 1e-6);
  EXPECT_NEAR(roi->y_center, 0.45, 1e-6);
}

TEST(PalmRoi, ClipsToTheFirstMaxCountPalmsThenDropsUnusableOnes) {
  vision::Detection no_keypoints = upright_palm();
  no_keypoints.keypoints.resize(2);
  vision::Detection empty_box = upright_palm();
  empty_box.box.width = 0.0f;  // Both sides: square_long would rebuild a square from either one.
  empty_box.box.height = 0.0f;
  vision::Detection second = upright_palm();
  second.box.xmin = 0.1f;
  vision::Detection third = upright_palm();
  third.box.xmin = 0.7f;
  const std::vector<vision::Detection> palms = {second, no_keypoints, third, upright_palm()};
  const std::vector<vision::NormalizedRect> rois = hand_rois_from_palms(palms, kSquare, 3);
  ASSERT_EQ(rois.size(), 2u);
  EXPECT_NEAR(rois[0].x_center, 0.15 + 0.05 * std::sin(0.464609), 1e-5);
  EXPECT_NEAR(rois[1].x_center, 0.75 + 0.05 * std::sin(0.464609), 1e-5);
  EXPECT_TRUE(hand_rois_from_palms(std::vector{empty_box}, kSquare, 2).empty());
  EXPECT_TRUE(hand_rois_from_palms(palms, kSquare, 0).empty());
}

TEST(PalmRoi, UsableRoisAreFiniteWithPositiveSize) {
  EXPECT_TRUE(is_usable_roi(rect(0.5f, 0.5f, 0.1f, 0.1f)));
  EXPECT_FALSE(is_usable_roi(rect(0.5f, 0.5f, 0.0f, 0.1f)));
  EXPECT_FALSE(is_usable_roi(rect(0.5f, 0.5f, 0.1f, -0.1f)));
  EXPECT_FALSE(is_usable_roi(rect(std::nanf(""), 0.5f, 0.1f, 0.1f)));
  EXPECT_FALSE(is_usable_roi(rect(0.5f, 0.5f, 0.1f, 0.1f, INFINITY)));
}

TEST(HandAssociation, TrackedRectsStayAndOverlappingCandidatesAreDropped) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.5f, 0.5f, 0.2f, 0.2f)};
  // IoU with the tracked rect: 0.18 * 0.2 / (0.08 - 0.036) = 0.82 -> dropped, even though it is a fresh
  // detection (the pose graph would keep it instead).
  const vision::NormalizedRect shifted = rect(0.52f, 0.5f, 0.2f, 0.2f);
  const vision::NormalizedRect elsewhere = rect(0.8f, 0.8f, 0.1f, 0.1f);
  const vision::NormalizedRect near_elsewhere = rect(0.81f, 0.8f, 0.1f, 0.1f);  // IoU 0.82 with `elsewhere`.
  const std::vector<vision::NormalizedRect> candidates = {shifted, elsewhere, near_elsewhere};
  const std::vector<vision::NormalizedRect> result = associate_hand_rects(tracked, candidates, 0.5f);
  ASSERT_EQ(result.size(), 2u);
  EXPECT_FLOAT_EQ(result[0].x_center, 0.5f);
  EXPECT_FLOAT_EQ(result[1].x_center, 0.8f);
}

TEST(HandAssociation, OverlapMeansIouStrictlyAboveTheThreshold) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.5f, 0.5f, 0.2f, 0.2f)};
  const std::vector<vision::NormalizedRect> same = {rect(0.5f, 0.5f, 0.2f, 0.2f)};
  EXPECT_EQ(associate_hand_rects(tracked, same, 1.0f).size(), 2u);  // IoU 1 is not > 1.
  EXPECT_EQ(associate_hand_rects(tracked, same, 0.99f).size(), 1u);
}

TEST(HandAssociation, TrackedRectsAreKeptEvenWhenTheyOverlapEachOther) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.5f, 0.5f, 0.2f, 0.2f), rect(0.5f, 0.5f, 0.2f, 0.2f)};
  EXPECT_EQ(associate_hand_rects(tracked, {}, 0.5f).size(), 2u);
}

TEST(RectContains, MeasuresInTheRectsOwnTurnedAxes) {
  // A 20 x 20 pixel square centred at (50, 50).
  const vision::NormalizedRect upright = rect(0.5f, 0.5f, 0.2f, 0.2f);
  const vision::NormalizedRect turned = rect(0.5f, 0.5f, 0.2f, 0.2f, static_cast<float>(std::numbers::pi / 4));
  // 13 pixels right of the centre: outside the upright square; 13 cos 45 = 9.2 < 10 along both turned axes.
  EXPECT_FALSE(rect_contains(upright, {0.63f, 0.5f}, kSquare));
  EXPECT_TRUE(rect_contains(turned, {0.63f, 0.5f}, kSquare));
  // (9, 9) pixels off: inside the upright square; 9 cos 45 + 9 sin 45 = 12.7 > 10 along the turned x axis.
  EXPECT_TRUE(rect_contains(upright, {0.59f, 0.59f}, kSquare));
  EXPECT_FALSE(rect_contains(turned, {0.59f, 0.59f}, kSquare));
}

TEST(RectContains, UsesPixelsOnANonSquareImage) {
  // 200 x 100 image: a rect 0.1 wide and 0.2 high is a 20 x 20 pixel square.
  const vision::NormalizedRect square = rect(0.5f, 0.5f, 0.1f, 0.2f, static_cast<float>(std::numbers::pi / 2));
  EXPECT_TRUE(rect_contains(square, {0.545f, 0.5f}, {200, 100}));   // 9 pixels right.
  EXPECT_FALSE(rect_contains(square, {0.555f, 0.5f}, {200, 100}));  // 11 pixels right.
}

TEST(PoseRois, ARoiCentredInATrackedRectIsThatHandsFallbackNotANewHand) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.3f, 0.3f, 0.2f, 0.2f), rect(0.7f, 0.7f, 0.2f, 0.2f)};
  const vision::NormalizedRect on_second = rect(0.75f, 0.72f, 0.4f, 0.4f);  // Twice the size: IoU 0.25.
  const vision::NormalizedRect new_hand = rect(0.3f, 0.8f, 0.1f, 0.1f);
  const PoseRois sorted = sort_pose_rois(std::vector{on_second, new_hand}, tracked, kSquare);
  EXPECT_EQ(sorted.untracked, (std::vector<size_t>{1}));
  ASSERT_EQ(sorted.fallbacks.size(), 2u);
  EXPECT_FALSE(sorted.fallbacks[0]);
  EXPECT_EQ(sorted.fallbacks[1], std::optional<size_t>(0));
}

TEST(HandAssociation, AssociatedCandidatesAreTheIndicesOfTheAppendedOnes) {
  const std::vector<vision::NormalizedRect> tracked = {rect(0.5f, 0.5f, 0.2f, 0.2f)};
  // As above: the shifted rect overlaps the tracked one, near_elsewhere the kept `elsewhere`.
  const std::vector<vision::NormalizedRect> candidates = {rect(0.52f, 0.5f, 0.2f, 0.2f), rect(0.8f, 0.8f, 0.1f, 0.1f),
                                                          rect(0.81f, 0.8f, 0.1f, 0.1f), rect(0.2f, 0.2f, 0.1f, 0.1f)};
  EXPECT_EQ(associated_candidates(tracked, candidates, 0.5f), (std::vector<size_t>{1, 3}));
}

std::vector<vision::Landmark> pose_with_left_wrist(float visibility) {
  std::vector<vision::Landmark> pose(33);
  pose[15] = {0.5f, 0.6f, 0.0f, visibility, 1.0f};  // Left wrist.
  pose[17] = {0.47f, 0.5f, 0.0f, 1.0f, 1.0f};       // Left pinky.
  pose[19] = {0.53f, 0.5f, 0.0f, 1.0f, 1.0f};       // Left index.
  return pose;
}

TEST(PoseRois, GatedOnWristVisibilityAndOnThe33LandmarkCount) {
  const std::vector<PoseHandRoi> rois = hand_rois_from_pose(pose_with_left_wrist(0.9f), kSquare);
  ASSERT_EQ(rois.size(), 1u);  // Right wrist visibility 0.
  EXPECT_EQ(wrist_index(rois[0].side), 0u);  // Left.
  // The gate compares in double, as MediaPipe's ThresholdingCalculator: 0.1f is just above 0.1.
  EXPECT_EQ(hand_rois_from_pose(pose_with_left_wrist(0.1f), kSquare).size(), 1u);
  EXPECT_TRUE(hand_rois_from_pose(pose_with_left_wrist(0.09f), kSquare).empty());
  std::vector<vision::Landmark> short_pose = pose_with_left_wrist(0.9f);
  short_pose.resize(32);
  EXPECT_TRUE(hand_rois_from_pose(short_pose, kSquare).empty());
}

TEST(PoseRois, ARoiOffTheImageIsNotTried) {
  // The left hand's ROI: centre (0.512, 0.480), 0.543 wide, turned 0.0997 rad (pi/2 - atan2(10, 1)), so
  // its bounding box reaches 0.297 either side of the centre. Moved 0.9 left it ends at about -0.09;
  // moved 0.7 left it still reaches about +0.11 into the image.
  std::vector<vision::Landmark> far_left = pose_with_left_wrist(0.9f);
  std::vector<vision::Landmark> edge = pose_with_left_wrist(0.9f);
  for (size_t k : {15, 17, 19}) {
    far_left[k].x -= 0.9f;
    edge[k].x -= 0.7f;
  }
  EXPECT_TRUE(hand_rois_from_pose(far_left, kSquare).empty());
  EXPECT_EQ(hand_rois_from_pose(edge, kSquare).size(), 1u);
}

TEST(RectOverlapsImage, UsesTheTurnedRectsBoundingBoxInPixels) {
  // 20 x 20 pixels centred 12 pixels left of the image: reaches x = -2 upright, but turned 45 degrees
  // its box half-width is 10 sqrt(2) = 14.1, reaching x = +2.1.
  const vision::NormalizedRect upright = rect(-0.12f, 0.5f, 0.2f, 0.2f);
  const vision::NormalizedRect turned = rect(-0.12f, 0.5f, 0.2f, 0.2f, static_cast<float>(std::numbers::pi / 4));
  EXPECT_FALSE(rect_overlaps_image(upright, kSquare));
  EXPECT_TRUE(rect_overlaps_image(turned, kSquare));
  EXPECT_TRUE(rect_overlaps_image(rect(0.5f, 0.5f, 0.1f, 0.1f), kSquare));
  EXPECT_FALSE(rect_overlaps_image(rect(0.5f, 1.1f, 0.2f, 0.2f), kSquare));  // Touches y = 100 only.
  EXPECT_TRUE(rect_overlaps_image(rect(0.5f, 1.09f, 0.2f, 0.2f), kSquare));
  // 200 x 100: 0.1 of the width is 20 pixels; centred 9 pixels right of the image, it reaches back to x = 199.
  EXPECT_TRUE(rect_overlaps_image(rect(1.045f, 0.5f, 0.1f, 0.2f), {200, 100}));
  EXPECT_FALSE(rect_overlaps_image(rect(1.055f, 0.5f, 0.1f, 0.2f), {200, 100}));
}

// Frames on which the wrist is tried when every attempt is empty, the first on frame 0.
std::vector<int64_t> empty_attempt_frames(int max_interval, int64_t frames) {
  std::vector<int64_t> tried;
  HandState::WristRetry wrist;
  for (int64_t frame = 0; frame < frames; ++frame) {
    if (!wrist_due(wrist, frame)) continue;
    tried.push_back(frame);
    wrist = after_empty_attempt(wrist, frame, max_interval);
  }
  return tried;
}

TEST(WristRetry, IntervalsDoubleFromOneFrameUpToTheCap) {
  // Intervals 1, 2, 4, 8, then 8 for ever.
  EXPECT_EQ(empty_attempt_frames(8, 40), (std::vector<int64_t>{0, 1, 3, 7, 15, 23, 31, 39}));
  // Intervals 1, 2, 3, 3 (the cap need not be a power of two).
  EXPECT_EQ(empty_attempt_frames(3, 12), (std::vector<int64_t>{0, 1, 3, 6, 9}));
  EXPECT_EQ(empty_attempt_frames(1, 4), (std::vector<int64_t>{0, 1, 2, 3}));  // MediaPipe's every frame.
}

TEST(WristRetry, TheAttemptCountStopsBeforeItCanOverflow) {
  HandState::WristRetry wrist;
  wrist.empty_attempts = 1'000;
  wrist = after_empty_attempt(wrist, 5, std::numeric_limits<int>::max());
  EXPECT_EQ(wrist.next_attempt, 5 + int64_t{std::numeric_limits<int>::max()});  // 2^31 capped.
  EXPECT_EQ(wrist.empty_attempts, 32);
}

// A hand inside [0.2, 0.4]^2 of a 100 x 100 image whose baseline (max of |0-5|, |5-17|, |17-0|) is
// sqrt(5^2 + 10^2) = 11.18 pixels, so two hands match landmarks closer than 2.236 pixels.
HandLandmarkArray reference_hand() {
  HandLandmarkArray hand{};
  for (size_t k = 0; k < hand.size(); ++k) {
    hand[k] = {0.2f + 0.01f * static_cast<float>(k), 0.2f + 0.005f * static_cast<float>(k), 0, 0, 0};
  }
  hand[0] = {0.30f, 0.40f, 0, 0, 0};
  hand[5] = {0.25f, 0.30f, 0, 0, 0};
  hand[17] = {0.35f, 0.30f, 0, 0, 0};
  return hand;
}

// The reference hand with `count` landmarks (never 0, 5 or 17) moved 5 pixels right.
HandLandmarkArray with_moved_landmarks(size_t count) {
  HandLandmarkArray hand = reference_hand();
  size_t moved = 0;
  for (size_t k = 1; k < hand.size() && moved < count; ++k) {
    if (k == 5 || k == 17) continue;
    hand[k].x += 0.05f;
    ++moved;
  }
  return hand;
}

TEST(HandDeduplication, BaselineIsTheLongestSideOfWristIndexPinky) {
  EXPECT_NEAR(hand_baseline_distance(reference_hand(), kSquare), std::sqrt(125.0), 1e-4);
}

TEST(HandDeduplication, TenMatchingLandmarksOfTwentyOneMakeADuplicate) {
  // 11 moved: 10 still match -> the second hand is dropped. 12 moved: 9 match -> both stay.
  const std::vector<HandLandmarkArray> ten_match = {reference_hand(), with_moved_landmarks(11)};
  EXPECT_EQ(deduplicate_hands(ten_match, kSquare), (std::vector<bool>{true, false}));
  const std::vector<HandLandmarkArray> nine_match = {reference_hand(), with_moved_landmarks(12)};
  EXPECT_EQ(deduplicate_hands(nine_match, kSquare), (std::vector<bool>{true, true}));
}

TEST(HandDeduplication, MatchingLandmarksNeedOverlappingBoxesToo) {
  // 11 landmarks match, but the other 10 sit 0.6 away, so the copy's box (about 0.8 x 0.8) overlaps the
  // reference's (0.19 x 0.2) by IoU 0.06 <= 0.2: not a duplicate. Moved 0.05 instead, they stay close
  // enough for the boxes to overlap: a duplicate.
  HandLandmarkArray spread = reference_hand();
  HandLandmarkArray close = reference_hand();
  size_t moved = 0;
  for (size_t k = 1; k < spread.size() && moved < 10; ++k) {
    if (k == 5 || k == 17) continue;
    spread[k].x += 0.6f;
    spread[k].y += 0.6f;
    close[k].x += 0.05f;
    ++moved;
  }
  EXPECT_EQ(deduplicate_hands(std::vector{reference_hand(), spread}, kSquare), (std::vector<bool>{true, true}));
  EXPECT_EQ(deduplicate_hands(std::vector{reference_hand(), close}, kSquare), (std::vector<bool>{true, false}));
}

TEST(HandDeduplication, OnlyKeptHandsSuppressLaterOnes) {
  // Hand 1 duplicates hand 0 and is dropped; hand 2 duplicates hand 1 only (it is 4 pixels from hand 0,
  // beyond 2.236, but 2 from hand 1): it stays, since hand 1 was not kept.
  HandLandmarkArray second = reference_hand();
  for (vision::Landmark& landmark : second) landmark.y += 0.02f;
  HandLandmarkArray third = reference_hand();
  for (vision::Landmark& landmark : third) landmark.y += 0.04f;
  const std::vector<HandLandmarkArray> hands = {reference_hand(), second, third};
  EXPECT_EQ(deduplicate_hands(hands, kSquare), (std::vector<bool>{true, false, true}));
}

TEST(Handedness, TasksLabelsTheRawOutputRightAndItsComplementLeft) {
  const Handedness right = handedness_from_raw(0.8f);
  EXPECT_EQ(right.label, "Right");
  EXPECT_FLOAT_EQ(right.score, 0.8f);
  const Handedness left = handedness_from_raw(0.25f);
  EXPECT_EQ(left.label, "Left");
  EXPECT_FLOAT_EQ(left.score, 0.75f);
  EXPECT_EQ(handedness_from_raw(0.5f).label, "Right");  // A tie keeps entry 0.
}

}  // namespace
}  // namespace posestream::hands
