// Landmark tensor post-processing as MediaPipe: decoding raw landmark tensors and heatmap refinement.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "vision/geometry.h"

namespace posestream::vision {

// MediaPipe's TensorsToLandmarksCalculatorOptions (no flips: our graphs do not use them).
struct LandmarkDecodeOptions {
  int num_landmarks = 0;
  // When both are positive, x and y are divided by them and z by input_width * normalize_z (image
  // landmarks); when zero, values are kept as they are (world landmarks, metres).
  int input_width = 0;
  int input_height = 0;
  float normalize_z = 1.0f;
  bool sigmoid_visibility = false;  // Activation of the 4th value (else kept raw).
  bool sigmoid_presence = false;    // Activation of the 5th value.
};

// Pose landmarks (tensors_to_pose_landmarks_and_segmentation.pbtxt): 39 x 5 in 256-pixel units,
// sigmoid on visibility and presence.
LandmarkDecodeOptions pose_landmark_decode_options();
// Pose world landmarks: 39 x 3 (or more) in metres, no normalization.
LandmarkDecodeOptions pose_world_landmark_decode_options();
// Hand landmarks (hand_landmark_cpu.pbtxt): 21 x 3 in 224-pixel units, z / 224 / 0.4.
LandmarkDecodeOptions hand_landmark_decode_options();
// Hand world landmarks: 21 x 3 in metres.
LandmarkDecodeOptions hand_world_landmark_decode_options();

struct LandmarksResult {
  std::vector<Landmark> landmarks;
  std::string error;  // Empty on success. On error: empty from decoding, the input from refinement.
  bool ok() const noexcept { return error.empty(); }
};

// Splits `raw` into num_landmarks rows of raw.size() / num_landmarks values (x, y, z, visibility,
// presence; missing trailing values stay 0). An error when fewer than one value per landmark.
LandmarksResult decode_landmarks(std::span<const float> raw, const LandmarkDecodeOptions& options);

// MediaPipe's RefineLandmarksFromHeatmapCalculatorOptions; defaults as the pose graph sets them
// (kernel 7; the proto's own default kernel is 9).
struct HeatmapRefineOptions {
  int kernel_size = 7;
  float min_confidence_to_refine = 0.5f;
  bool refine_presence = false;
  bool refine_visibility = false;
};

// RefineLandmarksFromHeatMap: `heatmap` is HWC (height x width x channels, channel i for landmark i,
// raw logits). For each landmark inside the heatmap, takes the kernel_size window around its cell
// (clipped at the edges), applies a sigmoid, and if the window's maximum is >= min_confidence_to_refine
// moves x, y to the confidence-weighted mean cell position divided by width/height. Coordinates stay
// normalized to the same crop. Errors (landmarks unchanged, error set) when heatmap.size() !=
// height * width * channels or channels != landmarks.size(). A landmark whose cell lies outside the
// heatmap is left as it is, as tasks-vision 1.1.0 does (the legacy calculator's bounds check let a
// landmark just below the heatmap refine from its bottom rows).
LandmarksResult refine_landmarks_from_heatmap(std::span<const Landmark> landmarks, std::span<const float> heatmap,
                                              int height, int width, int channels,
                                              const HeatmapRefineOptions& options = {});

}  // namespace posestream::vision
