// Palm detection as tasks-vision's HandDetectorGraph: letterboxed 192x192 crop, 2016 SSD anchors, weighted NMS.
#include "hands/palm_detector.h"

#include <algorithm>
#include <string>

#include "hands/hand_association.h"
#include "hands/hands.h"
#include "hands/shape_checks.h"
#include "vision/rects.h"

namespace posestream::hands {
namespace {

constexpr int kInputSide = 192;
constexpr int32_t kAnchorCount = 2016;
constexpr int32_t kBoxCoordinates = 18;
// hand_detector_graph.cc ConfigureNonMaxSuppressionCalculator.
constexpr float kNmsIouThreshold = 0.3f;

vision::CropOptions crop_options() {
  vision::CropOptions options;
  options.output_width = kInputSide;
  options.output_height = kInputSide;
  options.keep_aspect_ratio = true;
  options.border_mode = vision::BorderMode::zero;
  options.value_range = {0.0f, 1.0f};
  return options;
}

std::vector<vision::Anchor> palm_anchors() {
  vision::AnchorsResult result = vision::generate_anchors(vision::palm_detector_anchor_options());
  if (!result.ok() || result.anchors.size() != static_cast<size_t>(kAnchorCount)) {
    throw HandError("palm detector: anchors: " +
                    (result.ok() ? std::to_string(result.anchors.size()) + " anchors, expected 2016" : result.error));
  }
  return std::move(result.anchors);
}

}  // namespace

PalmDetector::PalmDetector(std::shared_ptr<const engine::Model> model, const engine::RuntimeOptions& threading)
    : runtime_(model, threading), anchors_(palm_anchors()) {
  const std::string& name = runtime_.model().name();
  if (runtime_.input_count() != 1 || runtime_.output_count() != 2) {
    throw HandError(name + ": palm detector needs 1 input and 2 outputs, has " +
                    std::to_string(runtime_.input_count()) + " and " + std::to_string(runtime_.output_count()));
  }
  expect_shape(name, "input", runtime_.input_tensor(0), {1, kInputSide, kInputSide, 3});
  if (has_shape(runtime_.output_tensor(0), {1, kAnchorCount, 1})) {
    boxes_output_ = 1;
    scores_output_ = 0;
  }
  expect_shape(name, "boxes output", runtime_.output_tensor(boxes_output_), {1, kAnchorCount, kBoxCoordinates});
  expect_shape(name, "scores output", runtime_.output_tensor(scores_output_), {1, kAnchorCount, 1});
}

std::vector<vision::Detection> PalmDetector::detect(const vision::Image& image, float min_score,
                                                    vision::CropScratch& scratch) {
  const vision::CropResult crop = vision::crop_whole_image_to_tensor(image, crop_options(), runtime_.input(0), scratch);
  if (!crop.ok()) {
    throw HandError("palm detector: " + crop.error);
  }
  runtime_.invoke();
  vision::DetectionDecodeOptions decode = vision::palm_detector_decode_options();
  decode.has_min_score = true;
  decode.min_score_threshold = min_score;
  vision::DetectionsResult decoded =
      vision::decode_detections(runtime_.output(boxes_output_), runtime_.output(scores_output_), anchors_, decode);
  if (!decoded.ok()) {
    throw HandError("palm detector: " + decoded.error);
  }
  std::vector<vision::Detection> palms = vision::weighted_nms(decoded.detections, kNmsIouThreshold);
  for (vision::Detection& palm : palms) {
    palm = vision::remove_letterbox(palm, crop.padding);
  }
  return palms;
}

std::optional<vision::NormalizedRect> hand_roi_from_palm(const vision::Detection& palm, vision::ImageSize image,
                                                         float rotation_target_radians) {
  // Center of the wrist -> MCP of the middle finger (hand_detector_graph.cc ConfigureDetectionsToRects).
  const std::optional<vision::NormalizedRect> palm_rect =
      vision::rect_from_detection_box(palm, image, 0, 2, rotation_target_radians);
  if (!palm_rect) {
    return std::nullopt;
  }
  vision::RectTransformOptions expand;
  expand.scale_x = 2.6f;
  expand.scale_y = 2.6f;
  expand.shift_y = -0.5f;
  expand.square_long = true;
  return vision::transform_rect(*palm_rect, image, expand);
}

std::vector<vision::NormalizedRect> hand_rois_from_palms(std::span<const vision::Detection> palms,
                                                         vision::ImageSize image, int max_count,
                                                         float rotation_target_radians) {
  std::vector<vision::NormalizedRect> rois;
  const size_t count = std::min(palms.size(), static_cast<size_t>(std::max(max_count, 0)));
  for (const vision::Detection& palm : palms.first(count)) {
    std::optional<vision::NormalizedRect> roi = hand_roi_from_palm(palm, image, rotation_target_radians);
    if (roi && is_usable_roi(*roi)) {
      rois.push_back(*roi);
    }
  }
  return rois;
}

}  // namespace posestream::hands
