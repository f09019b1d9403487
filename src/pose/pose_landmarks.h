// The pose landmark stage: ROI crop -> landmark model -> refined, projected landmarks (Tasks' single-pose
// landmarks detector graph) and the next frame's ROI.
#pragma once

#include <optional>
#include <vector>

#include "engine/engine.h"
#include "vision/crop.h"
#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::pose {

inline constexpr int kLandmarkInputSide = 256;
inline constexpr int kHeatmapSide = 64;
inline constexpr size_t kModelLandmarkCount = 39;  // 33 pose + 2 auxiliary + 4 unused
inline constexpr size_t kAuxiliaryStart = 33;

// The landmark model's outputs by position in the file (tensors 0..4, Tasks' split): landmarks 39x5,
// pose flag, segmentation 256x256 logits, heatmap 64x64x39, world landmarks 39x3.
enum class LandmarkOutput : size_t { landmarks = 0, flag = 1, segmentation = 2, heatmap = 3, world = 4 };

// Checks the landmark model's input and output shapes; throws engine::ModelError naming what differs.
void check_landmark_model(const engine::Model& model);

// The model's output tensor names to compute: all but segmentation unless `segmentation`.
std::vector<std::string> landmark_outputs_to_compute(const engine::Model& model, bool segmentation);

struct PoseLandmarksResult {
  float flag = 0.0f;  // Raw pose flag.
  bool present = false;  // flag > presence threshold (strict, as ThresholdingCalculator).
  // Filled only when present. Normalized to the image, heatmap-refined, unsmoothed.
  std::vector<vision::Landmark> landmarks;  // 33
  std::vector<vision::Landmark> auxiliary;  // 2
  std::vector<vision::Landmark> world;      // 33, rotated by the ROI, visibility/presence copied
  std::vector<float> segmentation;          // kLandmarkInputSide^2 probabilities when computed
};

// Runs the landmark model on `roi` of `image` (stretched to 256x256, replicate border, values [0, 1]).
// nullopt when the ROI cannot be cropped (empty, NaN or infinite: Tasks' ImageToTensor emits nothing
// then, and the pose is simply absent). Throws engine::ModelError when the model's output is unusable.
std::optional<PoseLandmarksResult> run_pose_landmarks(const vision::Image& image, const vision::NormalizedRect& roi,
                                                      engine::Runtime& runtime, vision::CropScratch& scratch,
                                                      float presence_threshold, bool segmentation);

// The next frame's ROI from the raw (unsmoothed) auxiliary landmarks (P19). nullopt unless 2 are given.
std::optional<vision::NormalizedRect> next_frame_roi(const std::vector<vision::Landmark>& auxiliary,
                                                     vision::ImageSize image);

}  // namespace posestream::pose
