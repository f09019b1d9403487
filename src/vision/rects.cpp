// ROI geometry reproducing MediaPipe's rect calculators, including their float/double mix and quirks.
#include "vision/rects.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>

#include "vision/ssd.h"

namespace posestream::vision {
namespace {

// MediaPipe stores `M_PI * degrees / 180.f` and `M_PI * 0.5f` in float members.
constexpr float kNinetyDegrees = static_cast<float>(std::numbers::pi * 0.5f);

// Where the hand landmark subset of hand_landmark_landmarks_to_roi.pbtxt sits in the 21 landmarks.
constexpr std::array<size_t, 12> kHandRectSubset = {0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18};

Point2 to_point(const Landmark& landmark) { return Point2{landmark.x, landmark.y}; }

RectTransformOptions options_of(float scale, float shift_y) {
  RectTransformOptions options;
  options.scale_x = scale;
  options.scale_y = scale;
  options.shift_y = shift_y;
  options.square_long = true;
  return options;
}

}  // namespace

float normalize_radians(float angle) {
  constexpr double pi = std::numbers::pi;
  return static_cast<float>(angle - 2 * pi * std::floor((angle - (-pi)) / (2 * pi)));
}

NormalizedRect transform_rect(const NormalizedRect& rect, ImageSize image, const RectTransformOptions& options) {
  NormalizedRect out = rect;
  float width = rect.width;
  float height = rect.height;
  const float rotation = rect.rotation;
  const int image_width = image.width;
  const int image_height = image.height;
  if (rotation == 0.f) {
    out.x_center = rect.x_center + width * options.shift_x;
    out.y_center = rect.y_center + height * options.shift_y;
  } else {
    const float x_shift = (image_width * width * options.shift_x * std::cos(rotation) -
                           image_height * height * options.shift_y * std::sin(rotation)) /
                          image_width;
    const float y_shift = (image_width * width * options.shift_x * std::sin(rotation) +
                           image_height * height * options.shift_y * std::cos(rotation)) /
                          image_height;
    out.x_center = rect.x_center + x_shift;
    out.y_center = rect.y_center + y_shift;
  }
  if (options.square_long) {
    const float long_side = std::max(width * image_width, height * image_height);
    width = long_side / image_width;
    height = long_side / image_height;
  } else if (options.square_short) {
    const float short_side = std::min(width * image_width, height * image_height);
    width = short_side / image_width;
    height = short_side / image_height;
  }
  out.width = width * options.scale_x;
  out.height = height * options.scale_y;
  return out;
}

float rotation_from_points(Point2 start, Point2 end, ImageSize image, float target_angle_radians) {
  const float x0 = start.x * image.width;
  const float y0 = start.y * image.height;
  const float x1 = end.x * image.width;
  const float y1 = end.y * image.height;
  return normalize_radians(target_angle_radians - std::atan2(-(y1 - y0), x1 - x0));
}

NormalizedRect rect_from_alignment_points(Point2 center, Point2 scale_point, ImageSize image,
                                          float target_angle_radians) {
  const float x_center = center.x * image.width;
  const float y_center = center.y * image.height;
  const float x_scale = scale_point.x * image.width;
  const float y_scale = scale_point.y * image.height;
  const float box_size = static_cast<float>(
      std::sqrt((x_scale - x_center) * (x_scale - x_center) + (y_scale - y_center) * (y_scale - y_center)) * 2.0);
  NormalizedRect rect;
  rect.x_center = x_center / image.width;
  rect.y_center = y_center / image.height;
  rect.width = box_size / image.width;
  rect.height = box_size / image.height;
  rect.rotation = rotation_from_points(center, scale_point, image, target_angle_radians);
  return rect;
}

NormalizedRect rect_from_detection_box(const Detection& detection) {
  const RelativeBox& box = detection.box;
  NormalizedRect rect;
  rect.x_center = box.xmin + box.width / 2;
  rect.y_center = box.ymin + box.height / 2;
  rect.width = box.width;
  rect.height = box.height;
  return rect;
}

std::optional<NormalizedRect> rect_from_detection_box(const Detection& detection, ImageSize image,
                                                      size_t start_keypoint, size_t end_keypoint,
                                                      float target_angle_radians) {
  if (start_keypoint >= detection.keypoints.size() || end_keypoint >= detection.keypoints.size()) {
    return std::nullopt;
  }
  NormalizedRect rect = rect_from_detection_box(detection);
  rect.rotation = rotation_from_points(detection.keypoints[start_keypoint], detection.keypoints[end_keypoint],
                                       image, target_angle_radians);
  return rect;
}

std::optional<NormalizedRect> pose_roi_from_detection(const Detection& detection, ImageSize image) {
  if (detection.keypoints.size() < 2) {
    return std::nullopt;
  }
  const NormalizedRect raw =
      rect_from_alignment_points(detection.keypoints[0], detection.keypoints[1], image, kNinetyDegrees);
  return transform_rect(raw, image, options_of(1.25f, 0.0f));
}

NormalizedRect pose_roi_from_auxiliary_landmarks(const Landmark& start, const Landmark& end, ImageSize image) {
  const NormalizedRect raw = rect_from_alignment_points(to_point(start), to_point(end), image, kNinetyDegrees);
  return transform_rect(raw, image, options_of(1.25f, 0.0f));
}

std::optional<NormalizedRect> hand_roi_from_palm(const Detection& detection, ImageSize image) {
  const std::optional<NormalizedRect> raw = rect_from_detection_box(detection, image, 0, 2, kNinetyDegrees);
  if (!raw) {
    return std::nullopt;
  }
  return transform_rect(*raw, image, options_of(2.6f, -0.5f));
}

namespace {

// HandLandmarksToRectCalculator's ComputeRotation over the subset: its indices 4, 6, 8 are landmarks
// 5, 9, 13 (the calculator names them PIP joints; they are MCPs).
float hand_rotation(std::span<const Landmark, 12> subset, ImageSize image) {
  const float x0 = subset[0].x * image.width;
  const float y0 = subset[0].y * image.height;
  float x1 = (subset[4].x + subset[8].x) / 2.f;
  float y1 = (subset[4].y + subset[8].y) / 2.f;
  x1 = (x1 + subset[6].x) / 2.f * image.width;
  y1 = (y1 + subset[6].y) / 2.f * image.height;
  return normalize_radians(kNinetyDegrees - std::atan2(-(y1 - y0), x1 - x0));
}

struct Bounds {
  // MediaPipe starts the maxima at numeric_limits<float>::min(), the smallest positive float, not the
  // lowest: a maximum below it stays there. Reproduced.
  float min_x = std::numeric_limits<float>::max();
  float min_y = std::numeric_limits<float>::max();
  float max_x = std::numeric_limits<float>::min();
  float max_y = std::numeric_limits<float>::min();
  void add(float x, float y) {
    max_x = std::max(max_x, x);
    max_y = std::max(max_y, y);
    min_x = std::min(min_x, x);
    min_y = std::min(min_y, y);
  }
};

}  // namespace

std::optional<NormalizedRect> hand_rect_from_landmarks(std::span<const Landmark> landmarks, ImageSize image) {
  if (landmarks.size() <= kHandRectSubset.back()) {
    return std::nullopt;
  }
  std::array<Landmark, 12> subset;
  for (size_t i = 0; i < subset.size(); ++i) {
    subset[i] = landmarks[kHandRectSubset[i]];
  }
  const float rotation = hand_rotation(subset, image);
  const float reverse_angle = normalize_radians(-rotation);

  Bounds axis_aligned;
  for (const Landmark& landmark : subset) {
    axis_aligned.add(landmark.x, landmark.y);
  }
  const float center_x = (axis_aligned.max_x + axis_aligned.min_x) / 2.f;
  const float center_y = (axis_aligned.max_y + axis_aligned.min_y) / 2.f;

  Bounds rotated;
  for (const Landmark& landmark : subset) {
    const float original_x = (landmark.x - center_x) * image.width;
    const float original_y = (landmark.y - center_y) * image.height;
    rotated.add(original_x * std::cos(reverse_angle) - original_y * std::sin(reverse_angle),
                original_x * std::sin(reverse_angle) + original_y * std::cos(reverse_angle));
  }
  const float projected_center_x = (rotated.max_x + rotated.min_x) / 2.f;
  const float projected_center_y = (rotated.max_y + rotated.min_y) / 2.f;
  const float rect_center_x = projected_center_x * std::cos(rotation) - projected_center_y * std::sin(rotation) +
                              image.width * center_x;
  const float rect_center_y = projected_center_x * std::sin(rotation) + projected_center_y * std::cos(rotation) +
                              image.height * center_y;
  NormalizedRect rect;
  rect.x_center = rect_center_x / image.width;
  rect.y_center = rect_center_y / image.height;
  rect.width = (rotated.max_x - rotated.min_x) / image.width;
  rect.height = (rotated.max_y - rotated.min_y) / image.height;
  rect.rotation = rotation;
  return rect;
}

std::optional<NormalizedRect> hand_roi_from_landmarks(std::span<const Landmark> landmarks, ImageSize image) {
  const std::optional<NormalizedRect> raw = hand_rect_from_landmarks(landmarks, image);
  if (!raw) {
    return std::nullopt;
  }
  return transform_rect(*raw, image, options_of(2.0f, -0.1f));
}

std::optional<NormalizedRect> hand_roi_from_pose(std::span<const Landmark> pose_landmarks, HandSide side,
                                                 ImageSize image) {
  const size_t wrist_index = side == HandSide::left ? 15 : 16;
  const size_t pinky_index = wrist_index + 2;
  const size_t index_index = wrist_index + 4;
  if (pose_landmarks.size() <= index_index) {
    return std::nullopt;
  }
  // ThresholdingCalculator compares in double.
  if (!(static_cast<double>(pose_landmarks[wrist_index].visibility) > 0.1)) {
    return std::nullopt;
  }
  const float x_wrist = pose_landmarks[wrist_index].x * image.width;
  const float y_wrist = pose_landmarks[wrist_index].y * image.height;
  const float x_index = pose_landmarks[index_index].x * image.width;
  const float y_index = pose_landmarks[index_index].y * image.height;
  const float x_pinky = pose_landmarks[pinky_index].x * image.width;
  const float y_pinky = pose_landmarks[pinky_index].y * image.height;
  const float x_middle = (2.f * x_index + x_pinky) / 3.f;
  const float y_middle = (2.f * y_index + y_pinky) / 3.f;
  const float box_size = static_cast<float>(
      std::sqrt((x_middle - x_wrist) * (x_middle - x_wrist) + (y_middle - y_wrist) * (y_middle - y_wrist)) * 2.0);
  NormalizedRect raw;
  raw.x_center = x_middle / image.width;
  raw.y_center = y_middle / image.height;
  raw.width = box_size / image.width;
  raw.height = box_size / image.height;
  raw.rotation = normalize_radians(kNinetyDegrees - std::atan2(-(y_middle - y_wrist), x_middle - x_wrist));
  return transform_rect(raw, image, options_of(2.7f, -0.1f));
}

std::optional<LetterboxPadding> letterbox_padding(float roi_width_pixels, float roi_height_pixels, int tensor_width,
                                                  int tensor_height, bool keep_aspect_ratio) {
  if (!(roi_width_pixels > 0 && roi_height_pixels > 0 && tensor_width > 0 && tensor_height > 0)) {
    return std::nullopt;
  }
  if (!keep_aspect_ratio) {
    return LetterboxPadding{};
  }
  const float tensor_aspect_ratio = static_cast<float>(tensor_height) / tensor_width;
  const float roi_aspect_ratio = roi_height_pixels / roi_width_pixels;
  float vertical = 0.0f;
  float horizontal = 0.0f;
  if (tensor_aspect_ratio > roi_aspect_ratio) {
    vertical = (1.0f - roi_aspect_ratio / tensor_aspect_ratio) / 2.0f;
  } else {
    horizontal = (1.0f - tensor_aspect_ratio / roi_aspect_ratio) / 2.0f;
  }
  return LetterboxPadding{horizontal, vertical, horizontal, vertical};
}

Detection remove_letterbox(const Detection& detection, const LetterboxPadding& padding) {
  const float left_and_right = padding.left + padding.right;
  const float top_and_bottom = padding.top + padding.bottom;
  Detection out = detection;
  out.box.xmin = (detection.box.xmin - padding.left) / (1.0f - left_and_right);
  out.box.ymin = (detection.box.ymin - padding.top) / (1.0f - top_and_bottom);
  out.box.width = detection.box.width / (1.0f - left_and_right);
  out.box.height = detection.box.height / (1.0f - top_and_bottom);
  for (Point2& keypoint : out.keypoints) {
    keypoint.x = (keypoint.x - padding.left) / (1.0f - left_and_right);
    keypoint.y = (keypoint.y - padding.top) / (1.0f - top_and_bottom);
  }
  return out;
}

std::vector<Landmark> remove_letterbox(std::span<const Landmark> landmarks, const LetterboxPadding& padding) {
  const float left_and_right = padding.left + padding.right;
  const float top_and_bottom = padding.top + padding.bottom;
  std::vector<Landmark> out(landmarks.begin(), landmarks.end());
  for (Landmark& landmark : out) {
    landmark.x = (landmark.x - padding.left) / (1.0f - left_and_right);
    landmark.y = (landmark.y - padding.top) / (1.0f - top_and_bottom);
    landmark.z = landmark.z / (1.0f - left_and_right);
  }
  return out;
}

std::vector<Landmark> project_landmarks(std::span<const Landmark> landmarks, const NormalizedRect& roi) {
  std::vector<Landmark> out(landmarks.begin(), landmarks.end());
  const float angle = roi.rotation;
  for (Landmark& landmark : out) {
    const float x = landmark.x - 0.5f;
    const float y = landmark.y - 0.5f;
    const float rotated_x = std::cos(angle) * x - std::sin(angle) * y;
    const float rotated_y = std::sin(angle) * x + std::cos(angle) * y;
    landmark.x = rotated_x * roi.width + roi.x_center;
    landmark.y = rotated_y * roi.height + roi.y_center;
    landmark.z = landmark.z * roi.width;
  }
  return out;
}

std::vector<Landmark> project_world_landmarks(std::span<const Landmark> landmarks, const NormalizedRect& roi) {
  std::vector<Landmark> out(landmarks.begin(), landmarks.end());
  const float cosine = std::cos(roi.rotation);
  const float sine = std::sin(roi.rotation);
  for (Landmark& landmark : out) {
    const float x = landmark.x;
    const float y = landmark.y;
    landmark.x = cosine * x - sine * y;
    landmark.y = sine * x + cosine * y;
  }
  return out;
}

float rect_iou(const NormalizedRect& a, const NormalizedRect& b) {
  // AssociationNormRectCalculator::GetRectangle computes the corner in double, stores it in float.
  const auto box_of = [](const NormalizedRect& rect) {
    return RelativeBox{static_cast<float>(rect.x_center - rect.width / 2.0),
                       static_cast<float>(rect.y_center - rect.height / 2.0), rect.width, rect.height};
  };
  return box_iou(box_of(a), box_of(b));
}

std::vector<NormalizedRect> associate_rects(std::span<const std::vector<NormalizedRect>> lists_by_priority,
                                            float min_similarity_threshold) {
  std::vector<NormalizedRect> kept;
  for (const std::vector<NormalizedRect>& list : lists_by_priority) {
    for (const NormalizedRect& rect : list) {
      std::erase_if(kept, [&](const NormalizedRect& previous) {
        return rect_iou(rect, previous) > min_similarity_threshold;
      });
      kept.push_back(rect);
    }
  }
  return kept;
}

}  // namespace posestream::vision
