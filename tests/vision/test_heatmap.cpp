// Tests of landmark tensor decoding and heatmap refinement on synthetic tensors with hand-worked answers.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "vision/heatmap.h"

namespace posestream::vision {
namespace {

constexpr float kTolerance = 1e-5f;
constexpr int kSize = 16;
constexpr int kChannels = 2;
// sigmoid(-inf) is exactly 0, so cells left at -inf weigh nothing in the weighted mean.
constexpr float kNothing = -std::numeric_limits<float>::infinity();

struct Heatmap {
  std::vector<float> values = std::vector<float>(kSize * kSize * kChannels, kNothing);
  void set(int row, int col, int channel, float logit) { values[(row * kSize + col) * kChannels + channel] = logit; }
};

// Channel 0: sigmoid 0.5 at (row 5, col 6) and sigmoid(ln 3) = 0.75 at (row 5, col 7).
// Channel 1: a lone sigmoid(ln(0.4 / 0.6)) = 0.4 at (row 10, col 10), under the 0.5 needed to refine.
Heatmap two_channel_heatmap() {
  Heatmap heatmap;
  heatmap.set(5, 6, 0, 0.0f);
  heatmap.set(5, 7, 0, std::log(3.0f));
  heatmap.set(10, 10, 1, std::log(0.4f / 0.6f));
  return heatmap;
}

TEST(RefineLandmarks, MovesToTheConfidenceWeightedMean) {
  // Landmark 0 at (0.4, 0.33) -> cell (col 6, row 5); the 7x7 window holds both hot cells:
  // col (6 * 0.5 + 7 * 0.75) / 1.25 = 6.6 -> x 6.6 / 16 = 0.4125; row 5 -> y 5 / 16 = 0.3125.
  const std::vector<Landmark> landmarks = {{0.4f, 0.33f, 0.2f, 0.9f, 0.8f}, {0.64f, 0.63f, 0.1f, 0.9f, 0.8f}};
  const Heatmap heatmap = two_channel_heatmap();
  const LandmarksResult result = refine_landmarks_from_heatmap(landmarks, heatmap.values, kSize, kSize, kChannels);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.landmarks.size(), 2u);
  EXPECT_NEAR(result.landmarks[0].x, 0.4125f, kTolerance);
  EXPECT_NEAR(result.landmarks[0].y, 0.3125f, kTolerance);
  EXPECT_EQ(result.landmarks[0].z, 0.2f);
  EXPECT_EQ(result.landmarks[0].visibility, 0.9f);
  EXPECT_EQ(result.landmarks[0].presence, 0.8f);
  // Landmark 1's window max is 0.4 < 0.5: unchanged.
  EXPECT_EQ(result.landmarks[1].x, 0.64f);
  EXPECT_EQ(result.landmarks[1].y, 0.63f);
}

TEST(RefineLandmarks, LeavesLandmarksAwayFromConfidentCells) {
  const Heatmap heatmap = two_channel_heatmap();
  // Window cols 0..3, rows 0..3 of channel 0 is all zero confidence; 1.2 is outside the heatmap.
  for (const Landmark& landmark : {Landmark{0.05f, 0.05f, 0, 0, 0}, Landmark{1.2f, 0.33f, 0, 0, 0},
                                   Landmark{0.4f, -0.1f, 0, 0, 0}}) {
    const std::vector<Landmark> landmarks = {landmark, Landmark{}};
    const LandmarksResult result =
        refine_landmarks_from_heatmap(landmarks, heatmap.values, kSize, kSize, kChannels);
    ASSERT_TRUE(result.ok()) << result.error;
    EXPECT_EQ(result.landmarks[0].x, landmark.x);
    EXPECT_EQ(result.landmarks[0].y, landmark.y);
  }
}

TEST(RefineLandmarks, LandmarkBelowTheHeatmapIsLeftAsItIs) {
  // tasks-vision 1.1.0 skips a landmark whose row is outside the heatmap: y 1.1 -> row 17 >= 16, even
  // though a window around it (rows 14..20 clipped to 14..15) would hold a confident cell at row 15.
  // (The legacy calculator refined it from there, to (6 / 16, 15 / 16).)
  Heatmap heatmap;
  heatmap.set(15, 6, 0, std::log(3.0f));
  const std::vector<Landmark> below = {{0.4f, 1.1f, 0, 0, 0}, {}};
  const LandmarksResult refined = refine_landmarks_from_heatmap(below, heatmap.values, kSize, kSize, kChannels);
  ASSERT_TRUE(refined.ok()) << refined.error;
  EXPECT_EQ(refined.landmarks[0].x, 0.4f);
  EXPECT_EQ(refined.landmarks[0].y, 1.1f);
  // Just inside the last row the same cell refines it: y 0.99 -> row 15, window rows 12..15.
  const std::vector<Landmark> inside = {{0.4f, 0.99f, 0, 0, 0}, {}};
  const LandmarksResult moved = refine_landmarks_from_heatmap(inside, heatmap.values, kSize, kSize, kChannels);
  ASSERT_TRUE(moved.ok()) << moved.error;
  EXPECT_NEAR(moved.landmarks[0].x, 0.375f, kTolerance);
  EXPECT_NEAR(moved.landmarks[0].y, 0.9375f, kTolerance);
}

TEST(RefineLandmarks, OptionallyCapsPresenceAndVisibility) {
  HeatmapRefineOptions options;
  options.refine_presence = true;
  options.refine_visibility = true;
  const std::vector<Landmark> landmarks = {{0.4f, 0.33f, 0.0f, 0.9f, 0.6f}, {0.64f, 0.63f, 0.0f, 0.9f, 0.3f}};
  const Heatmap heatmap = two_channel_heatmap();
  const LandmarksResult result =
      refine_landmarks_from_heatmap(landmarks, heatmap.values, kSize, kSize, kChannels, options);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_NEAR(result.landmarks[0].visibility, 0.75f, kTolerance);  // min(0.9, window max 0.75).
  EXPECT_EQ(result.landmarks[0].presence, 0.6f);
  EXPECT_NEAR(result.landmarks[1].visibility, 0.4f, kTolerance);
  EXPECT_EQ(result.landmarks[1].presence, 0.3f);
}

TEST(RefineLandmarks, ShapeMismatchIsAnError) {
  const Heatmap heatmap = two_channel_heatmap();
  const std::vector<Landmark> two(2);
  const std::vector<Landmark> three(3);
  const LandmarksResult short_map =
      refine_landmarks_from_heatmap(two, std::span(heatmap.values).first(100), kSize, kSize, kChannels);
  EXPECT_FALSE(short_map.ok());
  EXPECT_EQ(short_map.landmarks.size(), 2u);  // The input, unchanged.
  EXPECT_FALSE(refine_landmarks_from_heatmap(three, heatmap.values, kSize, kSize, kChannels).ok());
  EXPECT_FALSE(refine_landmarks_from_heatmap(two, heatmap.values, 0, kSize, kChannels).ok());
}

TEST(DecodeLandmarks, PoseNormalizesAndActivates) {
  LandmarkDecodeOptions options = pose_landmark_decode_options();
  options.num_landmarks = 2;
  // (128, 64, 25.6) / 256 = (0.5, 0.25, 0.1); sigmoid(0) = 0.5, sigmoid(2) = 0.8807971.
  const std::vector<float> raw = {128, 64, 25.6f, 0, 2, 256, 0, -12.8f, -2, 0};
  const LandmarksResult result = decode_landmarks(raw, options);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.landmarks.size(), 2u);
  EXPECT_NEAR(result.landmarks[0].x, 0.5f, kTolerance);
  EXPECT_NEAR(result.landmarks[0].y, 0.25f, kTolerance);
  EXPECT_NEAR(result.landmarks[0].z, 0.1f, kTolerance);
  EXPECT_NEAR(result.landmarks[0].visibility, 0.5f, kTolerance);
  EXPECT_NEAR(result.landmarks[0].presence, 0.8807971f, kTolerance);
  EXPECT_NEAR(result.landmarks[1].x, 1.0f, kTolerance);
  EXPECT_NEAR(result.landmarks[1].z, -0.05f, kTolerance);
  EXPECT_NEAR(result.landmarks[1].visibility, 0.1192029f, kTolerance);
}

TEST(DecodeLandmarks, HandScalesZAndWorldKeepsMetres) {
  LandmarkDecodeOptions options = hand_landmark_decode_options();
  options.num_landmarks = 1;
  // z 8.96 / 224 / 0.4 = 0.1.
  const LandmarksResult hand = decode_landmarks(std::vector<float>{112, 56, 8.96f}, options);
  ASSERT_TRUE(hand.ok()) << hand.error;
  EXPECT_NEAR(hand.landmarks[0].x, 0.5f, kTolerance);
  EXPECT_NEAR(hand.landmarks[0].y, 0.25f, kTolerance);
  EXPECT_NEAR(hand.landmarks[0].z, 0.1f, kTolerance);
  EXPECT_EQ(hand.landmarks[0].visibility, 0.0f);

  LandmarkDecodeOptions world = pose_world_landmark_decode_options();
  world.num_landmarks = 2;
  const LandmarksResult metres = decode_landmarks(std::vector<float>{0.1f, -0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, world);
  ASSERT_TRUE(metres.ok()) << metres.error;
  EXPECT_EQ(metres.landmarks[1].x, 0.4f);
  EXPECT_EQ(metres.landmarks[1].z, 0.6f);
}

TEST(DecodeLandmarks, TooFewValuesIsAnError) {
  const LandmarksResult result = decode_landmarks(std::vector<float>(38), pose_landmark_decode_options());
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.landmarks.empty());
  EXPECT_NE(result.error.find("38 floats for 39 landmarks"), std::string::npos) << result.error;
}

}  // namespace
}  // namespace posestream::vision
