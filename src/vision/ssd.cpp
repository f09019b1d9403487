// SSD anchors, detection decoding and weighted NMS, reproducing MediaPipe's calculators' float arithmetic.
#include "vision/ssd.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <utility>

namespace posestream::vision {
namespace {

// ssd_anchors_calculator.cc CalculateScale: the interpolation runs in double, the result is a float.
float layer_scale(float min_scale, float max_scale, int stride_index, int num_strides) {
  if (num_strides == 1) {
    return (min_scale + max_scale) * 0.5f;
  }
  return static_cast<float>(min_scale + (max_scale - min_scale) * 1.0 * stride_index / (num_strides - 1.0f));
}

std::string check_anchor_options(const SsdAnchorOptions& options) {
  if (options.input_width <= 0 || options.input_height <= 0) {
    return "generate_anchors: input size " + std::to_string(options.input_width) + "x" +
           std::to_string(options.input_height) + " must be positive";
  }
  if (options.num_layers <= 0 || options.strides.size() != static_cast<size_t>(options.num_layers)) {
    return "generate_anchors: " + std::to_string(options.strides.size()) + " strides for num_layers " +
           std::to_string(options.num_layers);
  }
  for (size_t i = 0; i < options.strides.size(); ++i) {
    if (options.strides[i] <= 0) {
      return "generate_anchors: stride #" + std::to_string(i) + " is " + std::to_string(options.strides[i]);
    }
  }
  return {};
}

// The (width, height) of each anchor in one cell of the feature map shared by layers
// [first_layer, end_layer), in MediaPipe's order: per layer its aspect ratios, then the interpolated one.
std::vector<std::pair<float, float>> cell_anchor_sizes(const SsdAnchorOptions& options, int first_layer,
                                                       int end_layer) {
  const int num_strides = static_cast<int>(options.strides.size());
  std::vector<float> aspect_ratios;
  std::vector<float> scales;
  for (int layer = first_layer; layer < end_layer; ++layer) {
    const float scale = layer_scale(options.min_scale, options.max_scale, layer, num_strides);
    if (layer == 0 && options.reduce_boxes_in_lowest_layer) {
      aspect_ratios.insert(aspect_ratios.end(), {1.0f, 2.0f, 0.5f});
      scales.insert(scales.end(), {0.1f, scale, scale});
      continue;
    }
    for (const float aspect_ratio : options.aspect_ratios) {
      aspect_ratios.push_back(aspect_ratio);
      scales.push_back(scale);
    }
    if (options.interpolated_scale_aspect_ratio > 0.0f) {
      const float next_scale = layer == num_strides - 1
                                   ? 1.0f
                                   : layer_scale(options.min_scale, options.max_scale, layer + 1, num_strides);
      scales.push_back(std::sqrt(scale * next_scale));
      aspect_ratios.push_back(options.interpolated_scale_aspect_ratio);
    }
  }
  std::vector<std::pair<float, float>> sizes;
  for (size_t i = 0; i < aspect_ratios.size(); ++i) {
    const float ratio_sqrt = std::sqrt(aspect_ratios[i]);
    sizes.emplace_back(scales[i] * ratio_sqrt, scales[i] / ratio_sqrt);
  }
  return sizes;
}

void append_layer_anchors(const SsdAnchorOptions& options, int stride,
                          const std::vector<std::pair<float, float>>& sizes, std::vector<Anchor>& anchors) {
  const int rows = static_cast<int>(std::ceil(1.0f * options.input_height / stride));
  const int columns = static_cast<int>(std::ceil(1.0f * options.input_width / stride));
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < columns; ++x) {
      for (const auto& [width, height] : sizes) {
        Anchor anchor;
        anchor.x_center = (x + options.anchor_offset_x) * 1.0f / columns;
        anchor.y_center = (y + options.anchor_offset_y) * 1.0f / rows;
        anchor.width = options.fixed_anchor_size ? 1.0f : width;
        anchor.height = options.fixed_anchor_size ? 1.0f : height;
        anchors.push_back(anchor);
      }
    }
  }
}

std::string check_decode_sizes(size_t boxes_size, size_t scores_size, size_t anchor_count,
                               const DetectionDecodeOptions& options) {
  if (options.num_coords <= 0 || options.num_classes <= 0 || options.num_keypoints < 0 ||
      options.values_per_keypoint != 2 || options.box_coord_offset < 0 || options.keypoint_coord_offset < 0) {
    return "decode_detections: unsupported options (num_coords " + std::to_string(options.num_coords) +
           ", num_classes " + std::to_string(options.num_classes) + ", values_per_keypoint " +
           std::to_string(options.values_per_keypoint) + ")";
  }
  const int box_end = options.box_coord_offset + 4;
  const int keypoints_end = options.keypoint_coord_offset + options.num_keypoints * options.values_per_keypoint;
  if (options.num_keypoints * options.values_per_keypoint + 4 != options.num_coords || box_end > options.num_coords ||
      (options.num_keypoints > 0 && keypoints_end > options.num_coords)) {
    return "decode_detections: num_coords " + std::to_string(options.num_coords) + " does not hold a box at " +
           std::to_string(options.box_coord_offset) + " and " + std::to_string(options.num_keypoints) +
           " keypoints at " + std::to_string(options.keypoint_coord_offset);
  }
  const size_t coords = static_cast<size_t>(options.num_coords);
  const size_t classes = static_cast<size_t>(options.num_classes);
  if (boxes_size != anchor_count * coords) {
    return "decode_detections: raw boxes has " + std::to_string(boxes_size) + " floats, expected " +
           std::to_string(anchor_count) + " anchors x " + std::to_string(coords) + " coords";
  }
  if (scores_size != anchor_count * classes) {
    return "decode_detections: raw scores has " + std::to_string(scores_size) + " floats, expected " +
           std::to_string(anchor_count) + " anchors x " + std::to_string(classes) + " classes";
  }
  return {};
}

// The best class score of one anchor (TensorsToDetectionsCalculator::ProcessCPU).
float best_score(std::span<const float> class_scores, const DetectionDecodeOptions& options) {
  float max_score = -std::numeric_limits<float>::max();
  for (float score : class_scores) {
    if (options.sigmoid_score) {
      if (options.has_score_clipping) {
        const float limit = options.score_clipping_threshold;
        score = score < -limit ? -limit : score;
        score = score > limit ? limit : score;
      }
      score = 1.0f / (1.0f + std::exp(-score));
    }
    max_score = std::max(max_score, score);
  }
  return max_score;
}

// DecodeBoxes + ConvertToDetection for one anchor's row of raw coordinates.
Detection decode_one(std::span<const float> raw, const Anchor& anchor, const DetectionDecodeOptions& options) {
  const std::span<const float> box = raw.subspan(static_cast<size_t>(options.box_coord_offset), 4);
  const bool xywh = options.reverse_output_order;
  float x_center = xywh ? box[0] : box[1];
  float y_center = xywh ? box[1] : box[0];
  float w = xywh ? box[2] : box[3];
  float h = xywh ? box[3] : box[2];
  x_center = x_center / options.x_scale * anchor.width + anchor.x_center;
  y_center = y_center / options.y_scale * anchor.height + anchor.y_center;
  if (options.apply_exponential_on_box_size) {
    h = std::exp(h / options.h_scale) * anchor.height;
    w = std::exp(w / options.w_scale) * anchor.width;
  } else {
    h = h / options.h_scale * anchor.height;
    w = w / options.w_scale * anchor.width;
  }
  const float ymin = y_center - h / 2.f;
  const float xmin = x_center - w / 2.f;
  const float ymax = y_center + h / 2.f;
  const float xmax = x_center + w / 2.f;

  Detection detection;
  detection.box = RelativeBox{xmin, ymin, xmax - xmin, ymax - ymin};
  for (int k = 0; k < options.num_keypoints; ++k) {
    const size_t offset = static_cast<size_t>(options.keypoint_coord_offset + k * options.values_per_keypoint);
    const float raw_x = xywh ? raw[offset] : raw[offset + 1];
    const float raw_y = xywh ? raw[offset + 1] : raw[offset];
    detection.keypoints.push_back(Point2{raw_x / options.x_scale * anchor.width + anchor.x_center,
                                         raw_y / options.y_scale * anchor.height + anchor.y_center});
  }
  return detection;
}

// Rectangle_f's Width()/Height(): max - min, which in float need not equal the stored width.
struct Corners {
  float xmin, ymin, xmax, ymax;
  explicit Corners(const RelativeBox& box)
      : xmin(box.xmin), ymin(box.ymin), xmax(box.xmin + box.width), ymax(box.ymin + box.height) {}
  bool empty() const { return xmin > xmax || ymin > ymax; }
  float area() const { return (xmax - xmin) * (ymax - ymin); }
};

}  // namespace

SsdAnchorOptions pose_detector_anchor_options() {
  SsdAnchorOptions options;
  options.input_width = 224;
  options.input_height = 224;
  options.min_scale = 0.1484375f;
  options.max_scale = 0.75f;
  options.num_layers = 5;
  options.strides = {8, 16, 32, 32, 32};
  options.aspect_ratios = {1.0f};
  options.fixed_anchor_size = true;
  return options;
}

SsdAnchorOptions palm_detector_anchor_options() {
  SsdAnchorOptions options;
  options.input_width = 192;
  options.input_height = 192;
  options.min_scale = 0.1484375f;
  options.max_scale = 0.75f;
  options.num_layers = 4;
  options.strides = {8, 16, 16, 16};
  options.aspect_ratios = {1.0f};
  options.fixed_anchor_size = true;
  return options;
}

AnchorsResult generate_anchors(const SsdAnchorOptions& options) {
  AnchorsResult result;
  result.error = check_anchor_options(options);
  if (!result.ok()) {
    return result;
  }
  int layer = 0;
  while (layer < options.num_layers) {
    int end_layer = layer;
    while (end_layer < options.num_layers && options.strides[end_layer] == options.strides[layer]) {
      ++end_layer;
    }
    append_layer_anchors(options, options.strides[layer], cell_anchor_sizes(options, layer, end_layer),
                         result.anchors);
    layer = end_layer;
  }
  return result;
}

DetectionDecodeOptions pose_detector_decode_options() {
  DetectionDecodeOptions options;
  options.num_coords = 12;
  options.keypoint_coord_offset = 4;
  options.num_keypoints = 4;
  options.reverse_output_order = true;
  options.x_scale = options.y_scale = options.w_scale = options.h_scale = 224.0f;
  options.has_score_clipping = true;
  options.score_clipping_threshold = 100.0f;
  options.has_min_score = true;
  options.min_score_threshold = 0.5f;
  return options;
}

DetectionDecodeOptions palm_detector_decode_options() {
  DetectionDecodeOptions options = pose_detector_decode_options();
  options.num_coords = 18;
  options.num_keypoints = 7;
  options.x_scale = options.y_scale = options.w_scale = options.h_scale = 192.0f;
  return options;
}

DetectionsResult decode_detections(std::span<const float> raw_boxes, std::span<const float> raw_scores,
                                   std::span<const Anchor> anchors, const DetectionDecodeOptions& options) {
  DetectionsResult result;
  result.error = check_decode_sizes(raw_boxes.size(), raw_scores.size(), anchors.size(), options);
  if (!result.ok()) {
    return result;
  }
  const size_t coords = static_cast<size_t>(options.num_coords);
  const size_t classes = static_cast<size_t>(options.num_classes);
  for (size_t i = 0; i < anchors.size(); ++i) {
    const float score = best_score(raw_scores.subspan(i * classes, classes), options);
    if (options.has_min_score && score < options.min_score_threshold) {
      continue;
    }
    Detection detection = decode_one(raw_boxes.subspan(i * coords, coords), anchors[i], options);
    const RelativeBox& box = detection.box;
    // Models can predict negative sizes; MediaPipe drops them (b/171391719).
    if (box.width < 0 || box.height < 0 || std::isnan(box.width) || std::isnan(box.height)) {
      continue;
    }
    detection.score = score;
    result.detections.push_back(std::move(detection));
  }
  return result;
}

float box_iou(const RelativeBox& a, const RelativeBox& b) {
  const Corners first(a);
  const Corners second(b);
  if (first.empty() || second.empty() || second.xmax < first.xmin || first.xmax < second.xmin ||
      second.ymax < first.ymin || first.ymax < second.ymin) {
    return 0.0f;
  }
  const float intersection = (std::min(first.xmax, second.xmax) - std::max(first.xmin, second.xmin)) *
                             (std::min(first.ymax, second.ymax) - std::max(first.ymin, second.ymin));
  const float normalization = first.area() + second.area() - intersection;
  return normalization > 0.0f ? intersection / normalization : 0.0f;
}

namespace {

using IndexedScores = std::vector<std::pair<size_t, float>>;

Detection merge_candidates(const Detection& top, const IndexedScores& candidates,
                           std::span<const Detection> detections) {
  const size_t keypoint_count = top.keypoints.size();
  std::vector<float> keypoint_sums(keypoint_count * 2, 0.0f);
  float xmin = 0.0f, ymin = 0.0f, xmax = 0.0f, ymax = 0.0f, total_score = 0.0f;
  for (const auto& [index, score] : candidates) {
    const Detection& candidate = detections[index];
    total_score += score;
    xmin += candidate.box.xmin * score;
    ymin += candidate.box.ymin * score;
    xmax += (candidate.box.xmin + candidate.box.width) * score;
    ymax += (candidate.box.ymin + candidate.box.height) * score;
    const size_t shared = std::min(keypoint_count, candidate.keypoints.size());
    for (size_t k = 0; k < shared; ++k) {
      keypoint_sums[k * 2] += candidate.keypoints[k].x * score;
      keypoint_sums[k * 2 + 1] += candidate.keypoints[k].y * score;
    }
  }
  Detection merged = top;
  merged.box.xmin = xmin / total_score;
  merged.box.ymin = ymin / total_score;
  merged.box.width = xmax / total_score - merged.box.xmin;
  merged.box.height = ymax / total_score - merged.box.ymin;
  for (size_t k = 0; k < keypoint_count; ++k) {
    merged.keypoints[k] = Point2{keypoint_sums[k * 2] / total_score, keypoint_sums[k * 2 + 1] / total_score};
  }
  return merged;
}

}  // namespace

std::vector<Detection> weighted_nms(std::span<const Detection> detections, float min_suppression_threshold) {
  IndexedScores remaining;
  for (size_t i = 0; i < detections.size(); ++i) {
    // A NaN score would break the sort's ordering; it ranks last instead.
    const float score = detections[i].score;
    remaining.emplace_back(i, std::isnan(score) ? -std::numeric_limits<float>::infinity() : score);
  }
  std::stable_sort(remaining.begin(), remaining.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  std::vector<Detection> output;
  IndexedScores candidates;
  IndexedScores rest;
  while (!remaining.empty()) {
    const Detection& top = detections[remaining.front().first];
    candidates.clear();
    rest.clear();
    for (const auto& entry : remaining) {
      const float similarity = box_iou(detections[entry.first].box, top.box);
      (similarity > min_suppression_threshold ? candidates : rest).push_back(entry);
    }
    output.push_back(candidates.empty() ? top : merge_candidates(top, candidates, detections));
    // A top box that does not overlap itself (empty or NaN) ends the loop, as in MediaPipe.
    if (rest.size() == remaining.size()) {
      break;
    }
    remaining.swap(rest);
  }
  return output;
}

}  // namespace posestream::vision
