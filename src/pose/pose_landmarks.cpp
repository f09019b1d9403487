// The pose landmark stage: ROI crop -> landmark model -> refined, projected landmarks and the next ROI.
#include "pose/pose_landmarks.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "vision/heatmap.h"
#include "vision/rects.h"

namespace posestream::pose {

namespace {

constexpr int64_t kSegmentationElements = int64_t{kLandmarkInputSide} * kLandmarkInputSide;
constexpr int64_t kHeatmapElements = int64_t{kHeatmapSide} * kHeatmapSide * kModelLandmarkCount;

struct ExpectedOutput {
  LandmarkOutput output;
  const char* role;
  int64_t elements;
};

constexpr ExpectedOutput kExpectedOutputs[] = {
    {LandmarkOutput::landmarks, "landmarks", int64_t{kModelLandmarkCount} * 5},
    {LandmarkOutput::flag, "pose flag", 1},
    {LandmarkOutput::segmentation, "segmentation", kSegmentationElements},
    {LandmarkOutput::heatmap, "heatmap", kHeatmapElements},
    {LandmarkOutput::world, "world landmarks", int64_t{kModelLandmarkCount} * 3},
};

int64_t element_count(const engine::Tensor& tensor) {
  int64_t count = 1;
  for (const int32_t dimension : tensor.shape) count *= dimension;
  return count;
}

const engine::Tensor& output_tensor(const engine::Model& model, LandmarkOutput output) {
  const engine::Graph& graph = model.graph();
  return graph.tensors[graph.outputs[static_cast<size_t>(output)]];
}

std::span<const float> output_of(const engine::Runtime& runtime, LandmarkOutput output) {
  return runtime.output(output_tensor(runtime.model(), output).name);
}

bool is_croppable(const vision::NormalizedRect& roi) {
  return std::isfinite(roi.x_center) && std::isfinite(roi.y_center) && std::isfinite(roi.rotation) &&
         std::isfinite(roi.width) && std::isfinite(roi.height) && roi.width > 0.0f && roi.height > 0.0f;
}

void crop_roi(const vision::Image& image, const vision::NormalizedRect& roi, engine::Runtime& runtime,
              vision::CropScratch& scratch) {
  vision::CropOptions crop;
  crop.output_width = kLandmarkInputSide;
  crop.output_height = kLandmarkInputSide;
  crop.keep_aspect_ratio = false;  // Tasks stretches; the ROI is square in pixels anyway.
  crop.border_mode = vision::BorderMode::replicate;
  crop.value_range = {0.0f, 1.0f};
  const vision::CropResult cropped = vision::crop_to_tensor(image, roi, crop, runtime.input(0), scratch);
  if (!cropped.ok()) {
    throw std::invalid_argument("pose landmarks: ROI crop: " + cropped.error);
  }
}

std::vector<vision::Landmark> decoded_or_throw(const engine::Runtime& runtime, const vision::LandmarksResult& result,
                                               const char* what) {
  if (!result.ok() || result.landmarks.size() != kModelLandmarkCount) {
    throw engine::ModelError(runtime.model().name() + ": pose " + what + ": " + result.error);
  }
  return result.landmarks;
}

// Landmarks 0..38 normalized to the ROI crop, refined by the heatmap (P14, P15).
std::vector<vision::Landmark> refined_crop_landmarks(const engine::Runtime& runtime) {
  const std::vector<vision::Landmark> raw = decoded_or_throw(
      runtime,
      vision::decode_landmarks(output_of(runtime, LandmarkOutput::landmarks), vision::pose_landmark_decode_options()),
      "landmark decoding");
  return decoded_or_throw(runtime,
                          vision::refine_landmarks_from_heatmap(raw, output_of(runtime, LandmarkOutput::heatmap),
                                                                kHeatmapSide, kHeatmapSide, kModelLandmarkCount),
                          "heatmap refinement");
}

// World landmarks 0..32 with visibility and presence of the refined image landmarks (P16, P17).
std::vector<vision::Landmark> world_landmarks(const engine::Runtime& runtime,
                                              const std::vector<vision::Landmark>& refined,
                                              const vision::NormalizedRect& roi) {
  std::vector<vision::Landmark> world = decoded_or_throw(
      runtime,
      vision::decode_landmarks(output_of(runtime, LandmarkOutput::world), vision::pose_world_landmark_decode_options()),
      "world landmark decoding");
  world.resize(kAuxiliaryStart);
  for (size_t i = 0; i < world.size(); ++i) {
    world[i].visibility = refined[i].visibility;
    world[i].presence = refined[i].presence;
  }
  return vision::project_world_landmarks(world, roi);
}

std::vector<float> segmentation_probabilities(const engine::Runtime& runtime) {
  const std::span<const float> logits = output_of(runtime, LandmarkOutput::segmentation);
  std::vector<float> mask(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) mask[i] = 1.0f / (1.0f + std::exp(-logits[i]));
  return mask;
}

}  // namespace

void check_landmark_model(const engine::Model& model) {
  const engine::Graph& graph = model.graph();
  if (graph.inputs.size() != 1 || graph.outputs.size() < std::size(kExpectedOutputs)) {
    throw engine::ModelError(model.name() + ": pose landmark model needs 1 input and 5 outputs, it has " +
                             std::to_string(graph.inputs.size()) + " and " + std::to_string(graph.outputs.size()));
  }
  const engine::Tensor& input = graph.tensors[graph.inputs[0]];
  if (element_count(input) != int64_t{kLandmarkInputSide} * kLandmarkInputSide * 3) {
    throw engine::ModelError(model.name() + ": pose landmark input '" + input.name + "' has " +
                             std::to_string(element_count(input)) + " elements, expected 256x256x3");
  }
  for (const ExpectedOutput& expected : kExpectedOutputs) {
    const engine::Tensor& tensor = output_tensor(model, expected.output);
    if (element_count(tensor) != expected.elements) {
      throw engine::ModelError(model.name() + ": pose landmark " + expected.role + " output '" + tensor.name +
                               "' has " + std::to_string(element_count(tensor)) + " elements, expected " +
                               std::to_string(expected.elements));
    }
  }
}

std::vector<std::string> landmark_outputs_to_compute(const engine::Model& model, bool segmentation) {
  if (segmentation) return {};  // Everything.
  std::vector<std::string> names;
  for (const ExpectedOutput& expected : kExpectedOutputs) {
    if (expected.output != LandmarkOutput::segmentation) names.push_back(output_tensor(model, expected.output).name);
  }
  return names;
}

std::optional<PoseLandmarksResult> run_pose_landmarks(const vision::Image& image, const vision::NormalizedRect& roi,
                                                      engine::Runtime& runtime, vision::CropScratch& scratch,
                                                      float presence_threshold, bool segmentation) {
  if (!is_croppable(roi)) return std::nullopt;
  crop_roi(image, roi, runtime, scratch);
  runtime.invoke();

  PoseLandmarksResult result;
  result.flag = output_of(runtime, LandmarkOutput::flag)[0];
  result.present = result.flag > presence_threshold;
  if (!result.present) return result;

  const std::vector<vision::Landmark> refined = refined_crop_landmarks(runtime);
  const std::span<const vision::Landmark> all(refined);
  // The landmark crop has no letterbox (stretched), so letterbox removal is the identity here.
  result.landmarks = vision::project_landmarks(all.first(kAuxiliaryStart), roi);
  result.auxiliary = vision::project_landmarks(all.subspan(kAuxiliaryStart, 2), roi);
  result.world = world_landmarks(runtime, refined, roi);
  if (segmentation) result.segmentation = segmentation_probabilities(runtime);
  return result;
}

std::optional<vision::NormalizedRect> next_frame_roi(const std::vector<vision::Landmark>& auxiliary,
                                                     vision::ImageSize image) {
  if (auxiliary.size() != 2) return std::nullopt;
  return vision::pose_roi_from_auxiliary_landmarks(auxiliary[0], auxiliary[1], image);
}

}  // namespace posestream::pose
