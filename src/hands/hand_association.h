// Which ROIs a frame runs the landmark model on: tasks-vision's HandAssociation, and hand ROIs from a pose.
#pragma once

#include <span>
#include <vector>

#include "vision/geometry.h"

namespace posestream::hands {

// HandAssociationCalculator (tasks-vision): every tracked rect is kept, in order; each candidate is
// appended, in order, only if its axis-aligned IoU (vision::rect_iou, rotation ignored) with every rect
// kept so far, earlier candidates included, is <= min_similarity_threshold. The tracked rect wins, the
// opposite of the pose graph's AssociationNormRectCalculator.
std::vector<vision::NormalizedRect> associate_hand_rects(std::span<const vision::NormalizedRect> tracked,
                                                         std::span<const vision::NormalizedRect> candidates,
                                                         float min_similarity_threshold);

// Hand ROIs from one body's 33 pose landmarks, left wrist first, then right: vision::hand_roi_from_pose
// for each side whose wrist visibility is > 0.1 (MediaPipe's holistic graph). Empty for another count.
std::vector<vision::NormalizedRect> hand_rois_from_pose(std::span<const vision::Landmark> pose_landmarks,
                                                        vision::ImageSize image);

}  // namespace posestream::hands
