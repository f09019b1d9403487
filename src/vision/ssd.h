// SSD detector post-processing: anchor generation, raw tensor decoding and weighted NMS, as MediaPipe.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "vision/geometry.h"

namespace posestream::vision {

// MediaPipe's SsdAnchorsCalculatorOptions (calculators/tflite/ssd_anchors_calculator.proto), the
// strides form only (no explicit feature map sizes, no multiscale generation). Defaults are the proto's.
struct SsdAnchorOptions {
  int input_width = 0;
  int input_height = 0;
  float min_scale = 0.0f;
  float max_scale = 0.0f;
  float anchor_offset_x = 0.5f;  // Fraction of a feature-map cell.
  float anchor_offset_y = 0.5f;
  int num_layers = 0;
  std::vector<int> strides;  // One per layer; consecutive equal strides share one feature map.
  std::vector<float> aspect_ratios;
  bool reduce_boxes_in_lowest_layer = false;
  float interpolated_scale_aspect_ratio = 1.0f;  // 0 disables the extra interpolated-scale anchor.
  bool fixed_anchor_size = false;                // Every anchor 1 x 1 (the models predict sizes).
};

// modules/pose_detection/pose_detection_cpu.pbtxt: 2254 anchors.
SsdAnchorOptions pose_detector_anchor_options();
// modules/palm_detection/palm_detection_cpu.pbtxt: 2016 anchors.
SsdAnchorOptions palm_detector_anchor_options();

// Normalized to the model's input tensor.
struct Anchor {
  float x_center = 0.0f;
  float y_center = 0.0f;
  float width = 0.0f;
  float height = 0.0f;
};

struct AnchorsResult {
  std::vector<Anchor> anchors;
  std::string error;  // Empty on success.
  bool ok() const noexcept { return error.empty(); }
};

// Anchors in the order the model's output rows use: layer groups, then rows, columns, anchors per cell.
// Refuses options MediaPipe would CHECK-fail on (strides count != num_layers, sizes <= 0).
AnchorsResult generate_anchors(const SsdAnchorOptions& options);

// MediaPipe's TensorsToDetectionsCalculatorOptions for a model without built-in post-processing
// (two tensors: raw boxes [num_anchors, num_coords] and raw scores [num_anchors, num_classes]).
struct DetectionDecodeOptions {
  int num_classes = 1;
  int num_coords = 0;
  int box_coord_offset = 0;
  int keypoint_coord_offset = 0;
  int num_keypoints = 0;
  int values_per_keypoint = 2;
  bool reverse_output_order = false;  // true: box is (x, y, w, h) and keypoints (x, y); false: y first.
  float x_scale = 0.0f;               // Raw values are divided by these, then scaled by the anchor.
  float y_scale = 0.0f;
  float w_scale = 0.0f;
  float h_scale = 0.0f;
  bool apply_exponential_on_box_size = false;
  bool sigmoid_score = true;
  bool has_score_clipping = false;  // Clip raw scores to +-score_clipping_threshold before the sigmoid.
  float score_clipping_threshold = 0.0f;
  bool has_min_score = false;  // Drop detections scoring below min_score_threshold.
  float min_score_threshold = 0.0f;
};

// num_coords 12, 4 keypoints, XYWH, scales 224, sigmoid of raw clipped to +-100, min score 0.5.
DetectionDecodeOptions pose_detector_decode_options();
// num_coords 18, 7 keypoints, XYWH, scales 192, sigmoid of raw clipped to +-100, min score 0.5.
DetectionDecodeOptions palm_detector_decode_options();

struct DetectionsResult {
  std::vector<Detection> detections;
  std::string error;  // Empty on success; detections is empty on error.
  bool ok() const noexcept { return error.empty(); }
};

// Decodes every anchor's box, keypoints and best class score; keeps those passing min_score_threshold
// with a non-negative, non-NaN box size, in anchor order. Output is normalized to the model's input
// tensor (letterbox included). Tensor sizes are checked against anchors.size() x num_coords (and
// x num_classes) and the options' offsets against num_coords before anything is read: a mismatch is an
// error naming the sizes, never an out-of-bounds read. Does not retain its arguments.
DetectionsResult decode_detections(std::span<const float> raw_boxes, std::span<const float> raw_scores,
                                   std::span<const Anchor> anchors, const DetectionDecodeOptions& options);

// MediaPipe's IoU for two relative boxes (0 when they do not intersect or either is empty).
float box_iou(const RelativeBox& a, const RelativeBox& b);

// MediaPipe's NonMaxSuppressionCalculator with algorithm WEIGHTED and overlap INTERSECTION_OVER_UNION:
// repeatedly takes the best-scoring remaining detection and every remaining detection overlapping it
// by more than `min_suppression_threshold` (itself included), and emits one detection with the best
// score whose box corners and keypoints are the score-weighted means of the group. Output is in
// descending score order. Ties keep input order (MediaPipe's unstable sort leaves them unspecified).
// Detections are expected to carry equal keypoint counts (decode_detections guarantees it); the group
// averages the best detection's keypoints, and a candidate lacking one adds nothing to that sum (where
// MediaPipe would read out of range).
std::vector<Detection> weighted_nms(std::span<const Detection> detections, float min_suppression_threshold);

}  // namespace posestream::vision
