// The pose detector stage: whole image -> SSD detections -> pose ROIs.
#include "pose/pose_detector.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "vision/rects.h"

namespace posestream::pose {

namespace {

// The detector's tensor names are read from the model's graph by position: the file orders its outputs
// boxes (Identity) then scores (Identity_1).
constexpr size_t kBoxesOutput = 0;
constexpr size_t kScoresOutput = 1;

int64_t element_count(const engine::Tensor& tensor) {
  int64_t count = 1;
  for (const int32_t dimension : tensor.shape) count *= dimension;
  return count;
}

void expect_elements(const engine::Model& model, const engine::Tensor& tensor, const char* role, int64_t expected) {
  if (element_count(tensor) != expected) {
    throw engine::ModelError(model.name() + ": pose detector " + role + " tensor '" + tensor.name + "' has " +
                             std::to_string(element_count(tensor)) + " elements, expected " +
                             std::to_string(expected));
  }
}

// A detection normalized to `region` (a rectangle normalized to the image) -> normalized to the image.
vision::Detection to_region(vision::Detection detection, const vision::RelativeBox& region) {
  detection.box.xmin = region.xmin + detection.box.xmin * region.width;
  detection.box.ymin = region.ymin + detection.box.ymin * region.height;
  detection.box.width *= region.width;
  detection.box.height *= region.height;
  for (vision::Point2& keypoint : detection.keypoints) {
    keypoint.x = region.xmin + keypoint.x * region.width;
    keypoint.y = region.ymin + keypoint.y * region.height;
  }
  return detection;
}

}  // namespace

void check_detector_model(const engine::Model& model) {
  const engine::Graph& graph = model.graph();
  if (graph.inputs.size() != 1 || graph.outputs.size() < 2) {
    throw engine::ModelError(model.name() + ": pose detector needs 1 input and 2 outputs, the model has " +
                             std::to_string(graph.inputs.size()) + " and " + std::to_string(graph.outputs.size()));
  }
  expect_elements(model, graph.tensors[graph.inputs[0]], "input", int64_t{kDetectorInputSide} * kDetectorInputSide * 3);
  expect_elements(model, graph.tensors[graph.outputs[kBoxesOutput]], "boxes",
                  int64_t{kDetectorAnchorCount} * kDetectorCoordinates);
  expect_elements(model, graph.tensors[graph.outputs[kScoresOutput]], "scores", int64_t{kDetectorAnchorCount});
}

namespace {

// Weighted NMS over `raw` (normalized to the letterboxed input), then each detection mapped to `region`
// of the image with its ROI.
std::vector<PoseDetection> suppress_and_map(std::span<const vision::Detection> raw,
                                            const vision::LetterboxPadding& padding,
                                            const vision::RelativeBox& region, vision::ImageSize size) {
  std::vector<PoseDetection> poses;
  for (const vision::Detection& kept : vision::weighted_nms(raw, kDetectorNmsThreshold)) {
    PoseDetection pose;
    pose.detection = to_region(vision::remove_letterbox(kept, padding), region);
    const std::optional<vision::NormalizedRect> roi = vision::pose_roi_from_detection(pose.detection, size);
    if (!roi) continue;  // Fewer than 2 keypoints: cannot happen with 12 coordinates, never read past.
    pose.roi = *roi;
    poses.push_back(std::move(pose));
  }
  return poses;
}

// The detector on `crop` (pixels of `image`), its detections mapped to `region` (the same rectangle,
// normalized to the image): a detection at (x, y) of the crop is at region.xmin + x * region.width, ...
// Anchors scoring min_score or more make `detections`, exactly as with no faint floor (the threshold
// applies before the NMS, as MediaPipe's); those in [faint_min_score, min_score) are suppressed apart.
PoseDetectorRun detect_in(const vision::Image& image, const vision::RotatedRect& crop_rect,
                          const vision::RelativeBox& region, engine::Runtime& runtime,
                          std::span<const vision::Anchor> anchors, vision::CropScratch& scratch, float min_score,
                          float faint_min_score) {
  vision::CropOptions crop;
  crop.output_width = kDetectorInputSide;
  crop.output_height = kDetectorInputSide;
  crop.keep_aspect_ratio = true;
  crop.border_mode = vision::BorderMode::zero;
  crop.value_range = {-1.0f, 1.0f};
  const vision::CropResult cropped = vision::crop_to_tensor(image, crop_rect, crop, runtime.input(0), scratch);
  if (!cropped.ok()) {
    throw std::invalid_argument("pose detector: input crop: " + cropped.error);
  }
  runtime.invoke();

  vision::DetectionDecodeOptions decode = vision::pose_detector_decode_options();
  decode.min_score_threshold = std::min(min_score, faint_min_score);
  vision::DetectionsResult decoded =
      vision::decode_detections(runtime.output(kBoxesOutput), runtime.output(kScoresOutput), anchors, decode);
  if (!decoded.ok()) {
    throw engine::ModelError(runtime.model().name() + ": pose detector decoding: " + decoded.error);
  }
  // Stable: each side keeps the anchor order decode_detections gave, so the confident side reaches the NMS
  // exactly as without a faint floor.
  std::vector<vision::Detection>& raw = decoded.detections;
  const auto faint = std::stable_partition(raw.begin(), raw.end(),
                                           [min_score](const vision::Detection& d) { return d.score >= min_score; });
  const vision::ImageSize size{image.width, image.height};
  return {suppress_and_map({raw.begin(), faint}, cropped.padding, region, size),
          suppress_and_map({faint, raw.end()}, cropped.padding, region, size)};
}

}  // namespace

std::vector<vision::NormalizedRect> rois_of(std::span<const PoseDetection> detections) {
  std::vector<vision::NormalizedRect> rois;
  rois.reserve(detections.size());
  for (const PoseDetection& detection : detections) rois.push_back(detection.roi);
  return rois;
}

std::vector<PoseDetection> detect_poses(const vision::Image& image, engine::Runtime& runtime,
                                        std::span<const vision::Anchor> anchors, vision::CropScratch& scratch,
                                        float min_score) {
  return detect_poses_and_faint(image, runtime, anchors, scratch, min_score, min_score).detections;
}

PoseDetectorRun detect_poses_and_faint(const vision::Image& image, engine::Runtime& runtime,
                                       std::span<const vision::Anchor> anchors, vision::CropScratch& scratch,
                                       float min_score, float faint_min_score) {
  // The whole image is region {0, 0, 1, 1}: the mapping multiplies by 1 and adds 0, exact in float.
  return detect_in(image, vision::whole_image_rect(image.width, image.height), vision::RelativeBox{0, 0, 1, 1},
                   runtime, anchors, scratch, min_score, faint_min_score);
}

std::vector<PoseDetection> detect_poses_in_region(const vision::Image& image, const vision::RelativeBox& region,
                                                  engine::Runtime& runtime, std::span<const vision::Anchor> anchors,
                                                  vision::CropScratch& scratch, float min_score) {
  if (!(region.width > 0 && region.height > 0)) {
    throw std::invalid_argument("pose detector: region " + std::to_string(region.width) + "x" +
                                std::to_string(region.height) + " is empty");
  }
  const vision::NormalizedRect rect{region.xmin + 0.5f * region.width, region.ymin + 0.5f * region.height,
                                    region.width, region.height, 0.0f};
  return detect_in(image, vision::pixel_rect(rect, image.width, image.height), region, runtime, anchors, scratch,
                   min_score, min_score)
      .detections;
}

}  // namespace posestream::pose
