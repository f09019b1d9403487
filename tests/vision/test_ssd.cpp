// Tests of SSD anchors, detection decoding and weighted NMS against hand-worked values.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "vision/ssd.h"

namespace posestream::vision {
namespace {

constexpr float kTolerance = 1e-6f;

TEST(Anchors, PoseDetectorHas2254) {
  // Strides 8, 16, 32 x3 on 224: 28x28 cells x 2 + 14x14 x 2 + 7x7 x (3 layers x 2) = 1568 + 392 + 294.
  const AnchorsResult result = generate_anchors(pose_detector_anchor_options());
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.anchors.size(), 2254u);

  // First cell of the 28x28 map: center (0.5 / 28, 0.5 / 28), fixed size 1 x 1; the interpolated
  // anchor shares the cell.
  for (int i : {0, 1}) {
    EXPECT_NEAR(result.anchors[i].x_center, 0.5f / 28, kTolerance);
    EXPECT_NEAR(result.anchors[i].y_center, 0.5f / 28, kTolerance);
    EXPECT_EQ(result.anchors[i].width, 1.0f);
    EXPECT_EQ(result.anchors[i].height, 1.0f);
  }
  EXPECT_NEAR(result.anchors[2].x_center, 1.5f / 28, kTolerance);  // Next column.
  EXPECT_NEAR(result.anchors[56].y_center, 1.5f / 28, kTolerance);  // Next row: 28 cells x 2.
  // The 14x14 map starts at 1568.
  EXPECT_NEAR(result.anchors[1568].x_center, 0.5f / 14, kTolerance);
  // The merged 7x7 map starts at 1960 with 6 anchors a cell; row 1, column 2 is cell 9 -> 1960 + 54.
  for (int i = 1960 + 54; i < 1960 + 60; ++i) {
    EXPECT_NEAR(result.anchors[i].x_center, 2.5f / 7, kTolerance) << i;
    EXPECT_NEAR(result.anchors[i].y_center, 1.5f / 7, kTolerance) << i;
  }
  EXPECT_NEAR(result.anchors.back().x_center, 6.5f / 7, kTolerance);
  EXPECT_NEAR(result.anchors.back().y_center, 6.5f / 7, kTolerance);
}

TEST(Anchors, PalmDetectorHas2016) {
  // Strides 8, 16 x3 on 192: 24x24 x 2 + 12x12 x 6 = 1152 + 864.
  const AnchorsResult result = generate_anchors(palm_detector_anchor_options());
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.anchors.size(), 2016u);
  EXPECT_NEAR(result.anchors[0].x_center, 0.5f / 24, kTolerance);
  EXPECT_NEAR(result.anchors[1152].x_center, 0.5f / 12, kTolerance);
  EXPECT_NEAR(result.anchors[1152 + 5].x_center, 0.5f / 12, kTolerance);
  EXPECT_NEAR(result.anchors[1152 + 6].x_center, 1.5f / 12, kTolerance);
  EXPECT_NEAR(result.anchors.back().x_center, 11.5f / 12, kTolerance);
  EXPECT_NEAR(result.anchors.back().y_center, 11.5f / 12, kTolerance);
}

TEST(Anchors, SizesFollowScalesAndAspectRatios) {
  // Two layers, scales 0.2 and 0.8 (min, max); layer 0's interpolated scale sqrt(0.2 * 0.8) = 0.4,
  // the last layer's sqrt(0.8 * 1.0). Aspect ratio 4: w = s * 2, h = s / 2.
  SsdAnchorOptions options;
  options.input_width = 32;
  options.input_height = 16;
  options.min_scale = 0.2f;
  options.max_scale = 0.8f;
  options.num_layers = 2;
  options.strides = {16, 32};
  options.aspect_ratios = {1.0f, 4.0f};
  const AnchorsResult result = generate_anchors(options);
  ASSERT_TRUE(result.ok()) << result.error;
  // Layer 0: 1 row x 2 columns x 3 anchors; layer 1: 1 x 1 x 3.
  ASSERT_EQ(result.anchors.size(), 9u);
  EXPECT_NEAR(result.anchors[0].width, 0.2f, kTolerance);
  EXPECT_NEAR(result.anchors[1].width, 0.4f, kTolerance);
  EXPECT_NEAR(result.anchors[1].height, 0.1f, kTolerance);
  EXPECT_NEAR(result.anchors[2].width, 0.4f, kTolerance);
  EXPECT_NEAR(result.anchors[3].x_center, 0.75f, kTolerance);  // Second column of 2.
  EXPECT_NEAR(result.anchors[3].y_center, 0.5f, kTolerance);
  EXPECT_NEAR(result.anchors[6].width, 0.8f, kTolerance);
  EXPECT_NEAR(result.anchors[8].width, std::sqrt(0.8f), kTolerance);
}

TEST(Anchors, RefusesStridesNotMatchingLayers) {
  SsdAnchorOptions options = pose_detector_anchor_options();
  options.num_layers = 4;
  const AnchorsResult result = generate_anchors(options);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.anchors.empty());
  EXPECT_NE(result.error.find("num_layers 4"), std::string::npos) << result.error;
}

// One keypoint, XYWH, scales 100: 4 + 2 = 6 coords.
DetectionDecodeOptions small_options() {
  DetectionDecodeOptions options;
  options.num_coords = 6;
  options.keypoint_coord_offset = 4;
  options.num_keypoints = 1;
  options.reverse_output_order = true;
  options.x_scale = options.y_scale = options.w_scale = options.h_scale = 100.0f;
  options.has_score_clipping = true;
  options.score_clipping_threshold = 100.0f;
  options.has_min_score = true;
  options.min_score_threshold = 0.5f;
  return options;
}

TEST(DecodeDetections, DecodesBoxKeypointAndScore) {
  const std::vector<Anchor> anchors = {{0.5f, 0.5f, 1.0f, 1.0f}, {0.25f, 0.75f, 0.5f, 0.5f}};
  // Anchor 0: center (10/100 + 0.5, -20/100 + 0.5) = (0.6, 0.3), size (0.3, 0.4), keypoint (0.55, 0.56).
  // Anchor 1: center (0.25 + 20/100 * 0.5, 0.75) = (0.35, 0.75), size (0.1, 0.2), keypoint (0.25, 0.7).
  const std::vector<float> boxes = {10, -20, 30, 40, 5, 6, 20, 0, 20, 40, 0, -10};
  // sigmoid(0) = 0.5 passes min 0.5 (only a lower score is dropped); 1000 clips to 100: sigmoid 1.
  for (const auto& [raw_score, expected] : {std::pair{0.0f, 0.5f}, std::pair{1000.0f, 1.0f}}) {
    const std::vector<float> scores = {raw_score, 2.0f};
    const DetectionsResult result = decode_detections(boxes, scores, anchors, small_options());
    ASSERT_TRUE(result.ok()) << result.error;
    ASSERT_EQ(result.detections.size(), 2u);
    const Detection& first = result.detections[0];
    EXPECT_NEAR(first.score, expected, kTolerance);
    EXPECT_NEAR(first.box.xmin, 0.45f, kTolerance);
    EXPECT_NEAR(first.box.ymin, 0.1f, kTolerance);
    EXPECT_NEAR(first.box.width, 0.3f, kTolerance);
    EXPECT_NEAR(first.box.height, 0.4f, kTolerance);
    ASSERT_EQ(first.keypoints.size(), 1u);
    EXPECT_NEAR(first.keypoints[0].x, 0.55f, kTolerance);
    EXPECT_NEAR(first.keypoints[0].y, 0.56f, kTolerance);
    const Detection& second = result.detections[1];
    EXPECT_NEAR(second.score, 0.880797f, 1e-5f);  // 1 / (1 + e^-2).
    EXPECT_NEAR(second.box.xmin, 0.30f, kTolerance);
    EXPECT_NEAR(second.box.ymin, 0.65f, kTolerance);
    EXPECT_NEAR(second.keypoints[0].x, 0.25f, kTolerance);
    EXPECT_NEAR(second.keypoints[0].y, 0.70f, kTolerance);
  }
}

TEST(DecodeDetections, YxhwOrderSwapsAxes) {
  DetectionDecodeOptions options = small_options();
  options.reverse_output_order = false;
  const std::vector<Anchor> anchors = {{0.5f, 0.5f, 1.0f, 1.0f}};
  // (y, x, h, w) = (-20, 10, 40, 30), keypoint (y, x) = (6, 5): the same detection as above.
  const std::vector<float> boxes = {-20, 10, 40, 30, 6, 5};
  const DetectionsResult result = decode_detections(boxes, std::vector<float>{3.0f}, anchors, options);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.detections.size(), 1u);
  EXPECT_NEAR(result.detections[0].box.xmin, 0.45f, kTolerance);
  EXPECT_NEAR(result.detections[0].box.height, 0.4f, kTolerance);
  EXPECT_NEAR(result.detections[0].keypoints[0].x, 0.55f, kTolerance);
  EXPECT_NEAR(result.detections[0].keypoints[0].y, 0.56f, kTolerance);
}

TEST(DecodeDetections, DropsLowScoresAndNegativeSizes) {
  const std::vector<Anchor> anchors = {{0.5f, 0.5f, 1.0f, 1.0f}, {0.5f, 0.5f, 1.0f, 1.0f}};
  const std::vector<float> boxes = {0, 0, 10, 10, 0, 0, 0, 0, -10, 10, 0, 0};
  // sigmoid(-1) = 0.27 < 0.5; the second box has width -0.1.
  const DetectionsResult result = decode_detections(boxes, std::vector<float>{-1.0f, 5.0f}, anchors, small_options());
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.detections.empty());
}

TEST(DecodeDetections, SizeMismatchIsAnErrorNotARead) {
  const std::vector<Anchor> anchors(3);
  const std::vector<float> boxes(3 * 6 - 1);
  const std::vector<float> scores(3);
  const DetectionsResult short_boxes = decode_detections(boxes, scores, anchors, small_options());
  EXPECT_FALSE(short_boxes.ok());
  EXPECT_NE(short_boxes.error.find("17 floats, expected 3 anchors x 6 coords"), std::string::npos)
      << short_boxes.error;
  const DetectionsResult short_scores =
      decode_detections(std::vector<float>(18), std::vector<float>(2), anchors, small_options());
  EXPECT_FALSE(short_scores.ok());
  DetectionDecodeOptions too_many_keypoints = small_options();
  too_many_keypoints.num_keypoints = 2;
  EXPECT_FALSE(decode_detections(std::vector<float>(18), scores, anchors, too_many_keypoints).ok());
}

TEST(DecodeDetections, PoseOptionsAcceptPoseTensorSizes) {
  const AnchorsResult anchors = generate_anchors(pose_detector_anchor_options());
  const std::vector<float> boxes(2254 * 12, 0.0f);
  const std::vector<float> scores(2254, -50.0f);
  const DetectionsResult result = decode_detections(boxes, scores, anchors.anchors, pose_detector_decode_options());
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_TRUE(result.detections.empty());
}

Detection box_detection(float score, float xmin, float ymin, float size, Point2 keypoint) {
  return Detection{score, RelativeBox{xmin, ymin, size, size}, {keypoint}};
}

TEST(WeightedNms, MergesOverlappingBoxesIntoTheScoreWeightedMean) {
  // A and B overlap: intersection 0.3 x 0.3 = 0.09, union 0.16 + 0.16 - 0.09 = 0.23, IoU 0.39 > 0.3.
  // Weights 0.9 and 0.6 (total 1.5): xmin (0.1 * 0.9 + 0.2 * 0.6) / 1.5 = 0.14, xmax (0.5 * 0.9 +
  // 0.6 * 0.6) / 1.5 = 0.54 -> width 0.4; keypoint x (0.3 * 0.9 + 0.4 * 0.6) / 1.5 = 0.34.
  // C is disjoint and stays as it is; D overlaps A by IoU 0.01 / 0.31 = 0.03 and stays too.
  const std::vector<Detection> detections = {
      box_detection(0.6f, 0.2f, 0.2f, 0.4f, {0.4f, 0.4f}),  // B
      box_detection(0.8f, 0.7f, 0.7f, 0.2f, {0.8f, 0.8f}),  // C
      box_detection(0.9f, 0.1f, 0.1f, 0.4f, {0.3f, 0.3f}),  // A
      box_detection(0.7f, 0.4f, 0.4f, 0.4f, {0.6f, 0.6f}),  // D: overlaps B by 0.04 / 0.28 = 0.14.
  };
  const std::vector<Detection> kept = weighted_nms(detections, 0.3f);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
  EXPECT_NEAR(kept[0].box.xmin, 0.14f, kTolerance);
  EXPECT_NEAR(kept[0].box.ymin, 0.14f, kTolerance);
  EXPECT_NEAR(kept[0].box.width, 0.4f, kTolerance);
  EXPECT_NEAR(kept[0].box.height, 0.4f, kTolerance);
  EXPECT_NEAR(kept[0].keypoints[0].x, 0.34f, kTolerance);
  EXPECT_NEAR(kept[0].keypoints[0].y, 0.34f, kTolerance);
  EXPECT_FLOAT_EQ(kept[1].score, 0.8f);
  EXPECT_FLOAT_EQ(kept[1].box.xmin, 0.7f);
  EXPECT_FLOAT_EQ(kept[1].keypoints[0].x, 0.8f);
  EXPECT_FLOAT_EQ(kept[2].score, 0.7f);
  EXPECT_FLOAT_EQ(kept[2].box.xmin, 0.4f);
}

TEST(WeightedNms, IouOfHandWorkedBoxes) {
  EXPECT_NEAR(box_iou({0.1f, 0.1f, 0.4f, 0.4f}, {0.2f, 0.2f, 0.4f, 0.4f}), 0.09f / 0.23f, 1e-6f);
  EXPECT_EQ(box_iou({0.1f, 0.1f, 0.1f, 0.1f}, {0.5f, 0.5f, 0.1f, 0.1f}), 0.0f);
  EXPECT_EQ(box_iou({0.1f, 0.1f, -0.1f, 0.1f}, {0.1f, 0.1f, 0.1f, 0.1f}), 0.0f);  // Empty box.
}

TEST(WeightedNms, EmptyInputAndZeroAreaTop) {
  EXPECT_TRUE(weighted_nms({}, 0.3f).empty());
  // A zero-area best box overlaps nothing, itself included: MediaPipe emits it and stops.
  const std::vector<Detection> detections = {box_detection(0.9f, 0.1f, 0.1f, 0.0f, {0.1f, 0.1f}),
                                             box_detection(0.8f, 0.5f, 0.5f, 0.2f, {0.6f, 0.6f})};
  const std::vector<Detection> kept = weighted_nms(detections, 0.3f);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);
}

}  // namespace
}  // namespace posestream::vision
