// The hand landmark stage of tasks-vision's SingleHandLandmarksDetectorGraph: ROI crop, model, decoding, projection.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "vision/crop.h"
#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::hands {

inline constexpr size_t kHandLandmarkCount = 21;

// One run of the landmark model on one ROI, before the presence threshold.
struct HandLandmarksResult {
  float presence = 0.0f;                                       // The hand flag as the model outputs it (no activation).
  float handedness_raw = 0.0f;                                 // The model's handedness output p (no activation).
  std::array<vision::Landmark, kHandLandmarkCount> landmarks;  // Projected to the image.
  std::array<vision::Landmark, kHandLandmarkCount> world_landmarks;  // Rotated by the ROI's rotation.
  vision::NormalizedRect roi;                                        // The ROI the model ran on.
};

// Holds its own runtime over the shared model: one per worker thread, not thread-safe.
class HandLandmarkDetector {
 public:
  // Checks the model's shapes: input [1, 224, 224, 3]; outputs landmarks [1, 63], hand flag [1, 1],
  // handedness [1, 1], world landmarks [1, 63], in that (file) order. Throws HandError on a mismatch.
  HandLandmarkDetector(std::shared_ptr<const engine::Model> model, const engine::RuntimeOptions& threading);

  // Crops `roi` (stretched to 224x224, edges replicated, values in [0, 1]), runs the model and maps
  // its landmarks back to the image (z / 224 / 0.4, then LandmarkProjection: z * roi width) and its
  // world landmarks (WorldLandmarkProjection). Throws HandError if the ROI cannot be cropped (empty,
  // NaN), engine::ModelError if the runtime fails.
  HandLandmarksResult detect(const vision::Image& image, const vision::NormalizedRect& roi,
                             vision::CropScratch& scratch);

 private:
  engine::Runtime runtime_;
};

// tasks-vision's handedness (TensorsToClassification, binary, label items {0: "Right", 1: "Left"},
// top 1): "Right" with score p when p > 1 - p, else "Left" with 1 - p. The legacy solutions' label
// order (handedness.txt: Left, Right) is the reverse.
struct Handedness {
  std::string label;
  float score = 0.0f;
};
Handedness handedness_from_raw(float raw);

}  // namespace posestream::hands
