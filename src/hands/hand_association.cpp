// HandAssociation (tracked rects win) and the holistic graph's hand ROIs from pose wrists.
#include "hands/hand_association.h"

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
    if (std::optional<vision::NormalizedRect> roi = vision::hand_roi_from_pose(pose_landmarks, side, image)) {
      rois.push_back(*roi);
    }
  }
  return rois;
}

}  // namespace posestream::hands
