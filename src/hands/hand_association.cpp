// HandAssociation (tracked rects win) and the holistic graph's hand ROIs from pose wrists.
#include "hands/hand_association.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "vision/rects.h"

namespace posestream::hands {

std::vector<size_t> associated_candidates(std::span<const vision::NormalizedRect> tracked,
                                          std::span<const vision::NormalizedRect> candidates,
                                          float min_similarity_threshold) {
  std::vector<vision::NormalizedRect> kept_rects(tracked.begin(), tracked.end());
  std::vector<size_t> kept;
  for (size_t i = 0; i < candidates.size(); ++i) {
    // rectangle_util.cc DoesRectOverlap: IoU strictly above the threshold.
    const bool overlaps = std::any_of(kept_rects.begin(), kept_rects.end(), [&](const vision::NormalizedRect& rect) {
      return vision::rect_iou(candidates[i], rect) > min_similarity_threshold;
    });
    if (!overlaps) {
      kept_rects.push_back(candidates[i]);
      kept.push_back(i);
    }
  }
  return kept;
}

std::vector<vision::NormalizedRect> associate_hand_rects(std::span<const vision::NormalizedRect> tracked,
                                                         std::span<const vision::NormalizedRect> candidates,
                                                         float min_similarity_threshold) {
  std::vector<vision::NormalizedRect> result(tracked.begin(), tracked.end());
  for (size_t i : associated_candidates(tracked, candidates, min_similarity_threshold)) {
    result.push_back(candidates[i]);
  }
  return result;
}

std::vector<PoseHandRoi> hand_rois_from_pose(std::span<const vision::Landmark> pose_landmarks,
                                             vision::ImageSize image) {
  constexpr size_t kPoseLandmarkCount = 33;
  std::vector<PoseHandRoi> rois;
  if (pose_landmarks.size() != kPoseLandmarkCount) {
    return rois;
  }
  for (vision::HandSide side : {vision::HandSide::left, vision::HandSide::right}) {
    std::optional<vision::NormalizedRect> roi = vision::hand_roi_from_pose(pose_landmarks, side, image);
    if (roi && is_usable_roi(*roi) && rect_overlaps_image(*roi, image)) {
      rois.push_back({side, *roi});
    }
  }
  return rois;
}

bool rect_overlaps_image(const vision::NormalizedRect& rect, vision::ImageSize image) {
  const double half_width = rect.width * image.width / 2.0;
  const double half_height = rect.height * image.height / 2.0;
  const double cosine = std::abs(std::cos(rect.rotation));
  const double sine = std::abs(std::sin(rect.rotation));
  const double extent_x = half_width * cosine + half_height * sine;
  const double extent_y = half_width * sine + half_height * cosine;
  const double center_x = static_cast<double>(rect.x_center) * image.width;
  const double center_y = static_cast<double>(rect.y_center) * image.height;
  return center_x - extent_x < image.width && center_x + extent_x > 0.0 && center_y - extent_y < image.height &&
         center_y + extent_y > 0.0;
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
  for (size_t i = 0; i < pose_rois.size(); ++i) {
    const vision::Point2 center{pose_rois[i].x_center, pose_rois[i].y_center};
    const auto owner = std::find_if(tracked.begin(), tracked.end(), [&](const vision::NormalizedRect& hand) {
      return rect_contains(hand, center, image);
    });
    if (owner == tracked.end()) {
      sorted.untracked.push_back(i);
    } else if (std::optional<size_t>& fallback = sorted.fallbacks[owner - tracked.begin()]; !fallback) {
      fallback = i;
    }
  }
  return sorted;
}

}  // namespace posestream::hands
