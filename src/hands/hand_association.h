// Which ROIs a frame runs the landmark model on: tasks-vision's HandAssociation, and hand ROIs from a pose.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "vision/geometry.h"

namespace posestream::vision {
// Declared in vision/rects.h, which is not included here: its vision::hand_roi_from_palm would then be
// found by argument-dependent lookup beside hands::hand_roi_from_palm and make unqualified calls ambiguous.
enum class HandSide;
}  // namespace posestream::vision

namespace posestream::hands {

// HandAssociationCalculator (tasks-vision): every tracked rect is kept, in order; each candidate is
// appended, in order, only if its axis-aligned IoU (vision::rect_iou, rotation ignored) with every rect
// kept so far, earlier candidates included, is <= min_similarity_threshold. The tracked rect wins, the
// opposite of the pose graph's AssociationNormRectCalculator.
std::vector<vision::NormalizedRect> associate_hand_rects(std::span<const vision::NormalizedRect> tracked,
                                                         std::span<const vision::NormalizedRect> candidates,
                                                         float min_similarity_threshold);

// Which candidates HandAssociationCalculator appends (see associate_hand_rects): their indices, in order.
std::vector<size_t> associated_candidates(std::span<const vision::NormalizedRect> tracked,
                                          std::span<const vision::NormalizedRect> candidates,
                                          float min_similarity_threshold);

// A hand ROI from the pose and the wrist it came from.
struct PoseHandRoi {
  vision::HandSide side{};  // Value 0: left.
  vision::NormalizedRect roi;
};

// Hand ROIs from one body's 33 pose landmarks, left wrist first, then right: vision::hand_roi_from_pose
// for each side whose wrist visibility is > 0.1 (MediaPipe's holistic graph), kept if usable and
// overlapping the image (ours: a crop wholly outside the image is edge pixels only). Empty for another
// landmark count.
std::vector<PoseHandRoi> hand_rois_from_pose(std::span<const vision::Landmark> pose_landmarks, vision::ImageSize image);

// Whether the rotated rect shares some area with the image: its axis-aligned bounding box, in pixels,
// overlaps (0, 0)-(width, height) with positive area.
bool rect_overlaps_image(const vision::NormalizedRect& rect, vision::ImageSize image);

// Whether the landmark model can run on `rect`: every field finite, width and height > 0. MediaPipe's
// ImageToTensor skips a 0 x 0 rect (the palm detector's "no palm" sentinel) and would fail the graph on
// the others; a ROI that fails this is dropped instead, so that one degenerate ROI (e.g. from NaN pose
// landmarks, or landmarks collapsed onto one point) can neither stop the frame nor stay tracked.
bool is_usable_roi(const vision::NormalizedRect& rect);

// Whether `point` (normalized) lies inside the rotated rect, measured in pixels.
bool rect_contains(const vision::NormalizedRect& rect, vision::Point2 point, vision::ImageSize image);

// Pose ROIs sorted against the hands tracked from their own landmarks. A pose ROI whose centre (the
// pose's hand centre) lies inside a tracked ROI belongs to that hand: it is not a new hand, but it is
// that hand's fallback should tracking lose it this frame. The others are candidates for new hands.
// (IoU alone lets a pose ROI through for a hand already tracked whenever the two ROIs differ in size, as
// they do: the pose ROI is sized from the pose's wrist -> knuckles distance, the tracked one from the
// hand's own landmarks; that runs the landmark model twice on one hand and can report it twice.)
// Indices into `pose_rois`.
struct PoseRois {
  std::vector<size_t> untracked;
  std::vector<std::optional<size_t>> fallbacks;  // One per tracked ROI, in order.
};
PoseRois sort_pose_rois(std::span<const vision::NormalizedRect> pose_rois,
                        std::span<const vision::NormalizedRect> tracked, vision::ImageSize image);

}  // namespace posestream::hands
