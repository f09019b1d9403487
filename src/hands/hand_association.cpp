// HandAssociation (tracked rects win) and the holistic graph's hand ROIs from pose wrists.
#include "hands/hand_association.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "vision/rects.h"

namespace posestream::hands {

std::vector<vision::NormalizedRect> associate_hand_rects(std::span<const vision::NormalizedRect> tracked,
                                                         std::span<const vision::NormalizedRect> candidates,
                                                         float min_similarity_threshold) {
  std::vector<vision::NormalizedRect> result(tracked.begin(), tracked.end());
  for (const vision::NormalizedRect& candidate : candidates) {
    bool overlaps = false;
    for (const vision::NormalizedRect& kept : result) {
      // rectangle_util.cc DoesRectOverlap: IoU strictly above the threshold.
      if (vision::rect_iou(candidate, kept) > min_similarity_threshold) {
        overlaps = true;
        break;
      }
    }
    if (!overlaps) {
      result.push_back(candidate);
    }
  }
  return result;
}

std::vector<vision::NormalizedRect> hand_rois_from_pose(std::span<const vision::Landmark> pose_landmarks,
                                                        vision::ImageSize image) {
  constexpr size_t kPoseLandmarkCount = 33;
  std::vector<vision::NormalizedRect> rois;
  if (pose_landmarks.size() != kPoseLandmarkCount) {
    return rois;
  }
  for (vision::HandSide side : {vision::HandSide::left, vision::HandSide::right}) {
    std::optional<vision::NormalizedRect> roi = vision::hand_roi_from_pose(pose_landmarks, side, image);
    if (roi && is_usable_roi(*roi)) {
      rois.push_back(*roi);
    }
  }
  return rois;
}

bool is_usable_roi(const vision::NormalizedRect& rect) {
  return std::isfinite(rect.x_center) && std::isfinite(rect.y_center) && std::isfinite(rect.width) &&
         std::isfinite(rect.height) && std::isfinite(rect.rotation) && rect.width > 0.0f && rect.height > 0.0f;
}

bool rect_contains(const vision::NormalizedRect& rect, vision::Point2 point, vision::ImageSize image) {
  const double dx = (static_cast<double>(point.x) - rect.x_center) * image.width;
  const double dy = (static_cast<double>(point.y) - rect.y_center) * image.height;
  // Into the rect's own axes: rotate by -rotation (rotation turns the rect clockwise, y down).
  const double cosine = std::cos(rect.rotation);
  const double sine = std::sin(rect.rotation);
  const double along_width = dx * cosine + dy * sine;
  const double along_height = -dx * sine + dy * cosine;
  return std::abs(along_width) <= rect.width * image.width / 2.0 &&
         std::abs(along_height) <= rect.height * image.height / 2.0;
}

PoseRois sort_pose_rois(std::span<const vision::NormalizedRect> pose_rois,
                        std::span<const vision::NormalizedRect> tracked, vision::ImageSize image) {
  PoseRois sorted;
  sorted.fallbacks.resize(tracked.size());
  for (const vision::NormalizedRect& roi : pose_rois) {
    const vision::Point2 center{roi.x_center, roi.y_center};
    const auto owner = std::find_if(tracked.begin(), tracked.end(), [&](const vision::NormalizedRect& hand) {
      return rect_contains(hand, center, image);
    });
    if (owner == tracked.end()) {
      sorted.untracked.push_back(roi);
    } else if (std::optional<vision::NormalizedRect>& fallback = sorted.fallbacks[owner - tracked.begin()]; !fallback) {
      fallback = roi;
    }
  }
  return sorted;
}

}  // namespace posestream::hands
