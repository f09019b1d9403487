// Hand landmarks as tasks-vision's SingleHandLandmarksDetectorGraph, from the crop to projected landmarks.
#include "hands/hand_landmarks.h"

#include <algorithm>
#include <span>
#include <vector>

#include "hands/hands.h"
#include "hands/shape_checks.h"
#include "vision/heatmap.h"
#include "vision/rects.h"

namespace posestream::hands {
namespace {

constexpr int kInputSide = 224;
constexpr int32_t kCoordinates = static_cast<int32_t>(kHandLandmarkCount) * 3;

// Output positions in the file (SplitTensorVector ranges 0..3 in hand_landmarks_detector_graph.cc).
enum Output : size_t { kLandmarks = 0, kHandFlag = 1, kHandedness = 2, kWorldLandmarks = 3 };

vision::CropOptions crop_options() {
  vision::CropOptions options;
  options.output_width = kInputSide;
  options.output_height = kInputSide;
  options.keep_aspect_ratio = false;  // The ROI is square in pixels already.
  options.border_mode = vision::BorderMode::replicate;
  options.value_range = {0.0f, 1.0f};
  return options;
}

std::array<vision::Landmark, kHandLandmarkCount> to_array(const std::vector<vision::Landmark>& landmarks) {
  std::array<vision::Landmark, kHandLandmarkCount> out{};
  std::copy_n(landmarks.begin(), std::min(landmarks.size(), out.size()), out.begin());
  return out;
}

std::vector<vision::Landmark> decode(std::span<const float> raw, const vision::LandmarkDecodeOptions& options,
                                     const char* what) {
  vision::LandmarksResult decoded = vision::decode_landmarks(raw, options);
  if (!decoded.ok()) {
    throw HandError(std::string("hand landmarks: ") + what + ": " + decoded.error);
  }
  return std::move(decoded.landmarks);
}

}  // namespace

HandLandmarkDetector::HandLandmarkDetector(std::shared_ptr<const engine::Model> model,
                                           const engine::RuntimeOptions& threading)
    : runtime_(model, threading) {
  const std::string& name = runtime_.model().name();
  if (runtime_.input_count() != 1 || runtime_.output_count() != 4) {
    throw HandError(name + ": hand landmark model needs 1 input and 4 outputs, has " +
                    std::to_string(runtime_.input_count()) + " and " + std::to_string(runtime_.output_count()));
  }
  expect_shape(name, "input", runtime_.input_tensor(0), {1, kInputSide, kInputSide, 3});
  expect_shape(name, "landmarks output", runtime_.output_tensor(kLandmarks), {1, kCoordinates});
  expect_shape(name, "hand flag output", runtime_.output_tensor(kHandFlag), {1, 1});
  expect_shape(name, "handedness output", runtime_.output_tensor(kHandedness), {1, 1});
  expect_shape(name, "world landmarks output", runtime_.output_tensor(kWorldLandmarks), {1, kCoordinates});
}

HandLandmarksResult HandLandmarkDetector::detect(const vision::Image& image, const vision::NormalizedRect& roi,
                                                 vision::CropScratch& scratch) {
  const vision::CropResult crop = vision::crop_to_tensor(image, roi, crop_options(), runtime_.input(0), scratch);
  if (!crop.ok()) {
    throw HandError("hand landmarks: " + crop.error);
  }
  runtime_.invoke();
  HandLandmarksResult result;
  result.roi = roi;
  result.presence = runtime_.output(kHandFlag)[0];
  result.handedness_raw = runtime_.output(kHandedness)[0];
  // No letterbox: the crop stretches (padding all zero), so LandmarkLetterboxRemoval is the identity.
  const std::vector<vision::Landmark> landmarks =
      decode(runtime_.output(kLandmarks), vision::hand_landmark_decode_options(), "landmarks");
  result.landmarks = to_array(vision::project_landmarks(landmarks, roi));
  const std::vector<vision::Landmark> world =
      decode(runtime_.output(kWorldLandmarks), vision::hand_world_landmark_decode_options(), "world landmarks");
  result.world_landmarks = to_array(vision::project_world_landmarks(world, roi));
  return result;
}

Handedness handedness_from_raw(float raw) {
  // TensorsToClassification's binary classification: entry 0 {"Right", p}, entry 1 {"Left", 1 - p};
  // top_k 1 by partial_sort keeps entry 0 on a tie.
  const float right = raw;
  const float left = 1.0f - raw;
  if (left > right) {
    return {"Left", left};
  }
  return {"Right", right};
}

}  // namespace posestream::hands
