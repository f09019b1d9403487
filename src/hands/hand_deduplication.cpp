// Hand deduplication as tasks-vision (hand_landmarks_deduplication_calculator.cc), same thresholds and order.
#include "hands/hand_deduplication.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace posestream::hands {
namespace {

constexpr float kAllowedBaselineDistanceRatio = 0.2f;
constexpr int kMatchedLandmarksToSuppress = 10;  // Of 21.
constexpr float kMinIouToSuppress = 0.2f;

float pixel_distance(const vision::Landmark& a, const vision::Landmark& b, vision::ImageSize image) {
  return std::sqrt(std::pow((a.x - b.x) * image.width, 2) + std::pow((a.y - b.y) * image.height, 2));
}

struct Bounds {
  float left = std::numeric_limits<float>::max();
  float top = std::numeric_limits<float>::max();
  float right = std::numeric_limits<float>::lowest();
  float bottom = std::numeric_limits<float>::lowest();
};

Bounds landmark_bounds(const HandLandmarkArray& landmarks) {
  Bounds bounds;
  for (const vision::Landmark& landmark : landmarks) {
    bounds.left = std::min(bounds.left, landmark.x);
    bounds.top = std::min(bounds.top, landmark.y);
    bounds.right = std::max(bounds.right, landmark.x);
    bounds.bottom = std::max(bounds.bottom, landmark.y);
  }
  return bounds;
}

// landmarks_utils.cc CalculateIOU: 0 when either box is empty.
float bounds_iou(const Bounds& a, const Bounds& b) {
  const float area_a = (a.right - a.left) * (a.bottom - a.top);
  const float area_b = (b.right - b.left) * (b.bottom - b.top);
  if (area_a <= 0 || area_b <= 0) {
    return 0.0f;
  }
  const float intersection = std::max(std::min(a.bottom, b.bottom) - std::max(a.top, b.top), 0.0f) *
                             std::max(std::min(a.right, b.right) - std::max(a.left, b.left), 0.0f);
  return intersection / (area_a + area_b - intersection);
}

bool is_duplicate(const HandLandmarkArray& a, float baseline_a, const Bounds& bounds_a, const HandLandmarkArray& b,
                  float baseline_b, const Bounds& bounds_b, vision::ImageSize image) {
  const float threshold = std::max(baseline_a, baseline_b) * kAllowedBaselineDistanceRatio;
  int matched = 0;
  for (size_t k = 0; k < a.size(); ++k) {
    if (pixel_distance(a[k], b[k], image) < threshold) {
      ++matched;
    }
  }
  return matched >= kMatchedLandmarksToSuppress && bounds_iou(bounds_a, bounds_b) > kMinIouToSuppress;
}

}  // namespace

float hand_baseline_distance(const HandLandmarkArray& landmarks, vision::ImageSize image) {
  constexpr size_t kWrist = 0;
  constexpr size_t kIndexFingerMcp = 5;
  constexpr size_t kPinkyMcp = 17;
  return std::max({pixel_distance(landmarks[kWrist], landmarks[kIndexFingerMcp], image),
                   pixel_distance(landmarks[kIndexFingerMcp], landmarks[kPinkyMcp], image),
                   pixel_distance(landmarks[kPinkyMcp], landmarks[kWrist], image)});
}

std::vector<bool> deduplicate_hands(std::span<const HandLandmarkArray> hands, vision::ImageSize image) {
  std::vector<float> baselines;
  std::vector<Bounds> bounds;
  for (const HandLandmarkArray& hand : hands) {
    baselines.push_back(hand_baseline_distance(hand, image));
    bounds.push_back(landmark_bounds(hand));
  }
  std::vector<bool> keep(hands.size(), false);
  for (size_t i = 0; i < hands.size(); ++i) {
    bool suppressed = false;
    for (size_t j = 0; j < i && !suppressed; ++j) {
      suppressed = keep[j] && is_duplicate(hands[i], baselines[i], bounds[i], hands[j], baselines[j], bounds[j], image);
    }
    keep[i] = !suppressed;
  }
  return keep;
}

}  // namespace posestream::hands
