// Landmark tensor decoding and heatmap refinement, reproducing MediaPipe's float arithmetic and quirks.
#include "vision/heatmap.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

namespace posestream::vision {
namespace {

float sigmoid(float value) { return 1.0f / (1.0f + std::exp(-value)); }

LandmarkDecodeOptions decode_options(int num_landmarks, int input_size, float normalize_z, bool sigmoid) {
  LandmarkDecodeOptions options;
  options.num_landmarks = num_landmarks;
  options.input_width = input_size;
  options.input_height = input_size;
  options.normalize_z = normalize_z;
  options.sigmoid_visibility = sigmoid;
  options.sigmoid_presence = sigmoid;
  return options;
}

std::string check_heatmap(size_t landmark_count, size_t heatmap_size, int height, int width, int channels) {
  const std::string shape = std::to_string(height) + "x" + std::to_string(width) + "x" + std::to_string(channels);
  if (height <= 0 || width <= 0 || channels <= 0) {
    return "refine_landmarks_from_heatmap: heatmap shape " + shape + " is not positive";
  }
  const uint64_t cells = static_cast<uint64_t>(height) * static_cast<uint64_t>(width);
  if (heatmap_size % cells != 0 || heatmap_size / cells != static_cast<uint64_t>(channels)) {
    return "refine_landmarks_from_heatmap: heatmap has " + std::to_string(heatmap_size) + " floats, shape " +
           shape + " needs " + std::to_string(cells) + " x " + std::to_string(channels);
  }
  if (landmark_count != static_cast<size_t>(channels)) {
    return "refine_landmarks_from_heatmap: " + std::to_string(landmark_count) + " landmarks for " +
           std::to_string(channels) + " heatmap channels";
  }
  return {};
}

// The window of cells [begin, end) around a landmark, clipped to the heatmap (zero border).
struct Window {
  int begin_row, end_row, begin_col, end_col;
};

// MediaPipe truncates x * width and y * height to int and skips the landmark when the cell is outside
// the heatmap. (The legacy calculator compared the column with the height where it meant the row, so it
// refined a landmark just below the heatmap from the bottom rows; tasks-vision 1.1.0 leaves such a
// landmark as it is, as MediaPipe's golden outputs show: basketball1 heavy, landmark 32 at crop row
// 64.6.) The floats are range-checked before the conversion, which is undefined behaviour out of range.
bool find_window(const Landmark& landmark, int height, int width, int kernel_size, Window& window) {
  const float column = landmark.x * width;
  const float row = landmark.y * height;
  const int offset = (kernel_size - 1) / 2;
  if (std::isnan(column) || std::isnan(row) || column <= -1.0f || column >= static_cast<float>(width) ||
      row <= -1.0f || row >= static_cast<float>(height)) {
    return false;
  }
  const int center_col = static_cast<int>(column);
  const int center_row = static_cast<int>(row);
  window.begin_col = std::max(0, center_col - offset);
  window.end_col = std::min(width, center_col + offset + 1);
  window.begin_row = std::max(0, center_row - offset);
  window.end_row = std::min(height, center_row + offset + 1);
  return true;
}

void refine_one(Landmark& landmark, size_t channel, std::span<const float> heatmap, int height, int width,
                size_t channels, const HeatmapRefineOptions& options) {
  Window window;
  if (!find_window(landmark, height, width, options.kernel_size, window)) {
    return;
  }
  float sum = 0;
  float weighted_col = 0;
  float weighted_row = 0;
  float max_confidence = 0;
  for (int row = window.begin_row; row < window.end_row; ++row) {
    for (int col = window.begin_col; col < window.end_col; ++col) {
      const size_t index = (static_cast<size_t>(row) * static_cast<size_t>(width) + static_cast<size_t>(col)) *
                               channels +
                           channel;
      const float confidence = sigmoid(heatmap[index]);
      sum += confidence;
      max_confidence = std::max(max_confidence, confidence);
      weighted_col += col * confidence;
      weighted_row += row * confidence;
    }
  }
  if (max_confidence >= options.min_confidence_to_refine && sum > 0) {
    landmark.x = weighted_col / width / sum;
    landmark.y = weighted_row / height / sum;
  }
  if (options.refine_presence && sum > 0) {
    landmark.presence = std::min(landmark.presence, max_confidence);
  }
  if (options.refine_visibility && sum > 0) {
    landmark.visibility = std::min(landmark.visibility, max_confidence);
  }
}

}  // namespace

LandmarkDecodeOptions pose_landmark_decode_options() { return decode_options(39, 256, 1.0f, true); }
LandmarkDecodeOptions pose_world_landmark_decode_options() { return decode_options(39, 0, 1.0f, false); }
LandmarkDecodeOptions hand_landmark_decode_options() { return decode_options(21, 224, 0.4f, false); }
LandmarkDecodeOptions hand_world_landmark_decode_options() { return decode_options(21, 0, 1.0f, false); }

LandmarksResult decode_landmarks(std::span<const float> raw, const LandmarkDecodeOptions& options) {
  LandmarksResult result;
  if (options.num_landmarks <= 0 || raw.size() < static_cast<size_t>(options.num_landmarks)) {
    result.error = "decode_landmarks: tensor has " + std::to_string(raw.size()) + " floats for " +
                   std::to_string(options.num_landmarks) + " landmarks";
    return result;
  }
  const size_t dimensions = raw.size() / static_cast<size_t>(options.num_landmarks);
  const bool normalize = options.input_width > 0 && options.input_height > 0;
  for (size_t i = 0; i < static_cast<size_t>(options.num_landmarks); ++i) {
    const std::span<const float> values = raw.subspan(i * dimensions, dimensions);
    Landmark landmark;
    landmark.x = values[0];
    if (dimensions > 1) landmark.y = values[1];
    if (dimensions > 2) landmark.z = values[2];
    if (dimensions > 3) landmark.visibility = options.sigmoid_visibility ? sigmoid(values[3]) : values[3];
    if (dimensions > 4) landmark.presence = options.sigmoid_presence ? sigmoid(values[4]) : values[4];
    if (normalize) {
      landmark.x = landmark.x / options.input_width;
      landmark.y = landmark.y / options.input_height;
      landmark.z = landmark.z / options.input_width / options.normalize_z;
    }
    result.landmarks.push_back(landmark);
  }
  return result;
}

LandmarksResult refine_landmarks_from_heatmap(std::span<const Landmark> landmarks, std::span<const float> heatmap,
                                              int height, int width, int channels,
                                              const HeatmapRefineOptions& options) {
  LandmarksResult result;
  result.landmarks.assign(landmarks.begin(), landmarks.end());
  result.error = check_heatmap(landmarks.size(), heatmap.size(), height, width, channels);
  if (!result.ok()) {
    return result;
  }
  for (size_t i = 0; i < result.landmarks.size(); ++i) {
    refine_one(result.landmarks[i], i, heatmap, height, width, static_cast<size_t>(channels), options);
  }
  return result;
}

}  // namespace posestream::vision
