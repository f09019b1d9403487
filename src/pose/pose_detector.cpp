// The pose detector stage: whole image -> SSD detections -> pose ROIs.
#include "pose/pose_detector.h"

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

std::vector<PoseDetection> detect_poses(const vision::Image& image, engine::Runtime& runtime,
                                        std::span<const vision::Anchor> anchors, vision::CropScratch& scratch,
                                        float min_score) {
  vision::CropOptions crop;
  crop.output_width = kDetectorInputSide;
  crop.output_height = kDetectorInputSide;
  crop.keep_aspect_ratio = true;
  crop.border_mode = vision::BorderMode::zero;
  crop.value_range = {-1.0f, 1.0f};
  const vision::CropResult cropped = vision::crop_whole_image_to_tensor(image, crop, runtime.input(0), scratch);
  if (!cropped.ok()) {
    throw std::invalid_argument("pose detector: input crop: " + cropped.error);
  }
  runtime.invoke();

  vision::DetectionDecodeOptions decode = vision::pose_detector_decode_options();
  decode.min_score_threshold = min_score;
  const vision::DetectionsResult decoded =
      vision::decode_detections(runtime.output(kBoxesOutput), runtime.output(kScoresOutput), anchors, decode);
  if (!decoded.ok()) {
    throw engine::ModelError(runtime.model().name() + ": pose detector decoding: " + decoded.error);
  }
  const vision::ImageSize size{image.width, image.height};
  std::vector<PoseDetection> poses;
  for (const vision::Detection& raw : vision::weighted_nms(decoded.detections, kDetectorNmsThreshold)) {
    PoseDetection pose;
    pose.detection = vision::remove_letterbox(raw, cropped.padding);
    const std::optional<vision::NormalizedRect> roi = vision::pose_roi_from_detection(pose.detection, size);
    if (!roi) continue;  // Fewer than 2 keypoints: cannot happen with 12 coordinates, never read past.
    pose.roi = *roi;
    poses.push_back(std::move(pose));
  }
  return poses;
}

}  // namespace posestream::pose
