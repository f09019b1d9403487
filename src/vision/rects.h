// ROI geometry as MediaPipe computes it: rect transforms, ROIs from detections and landmarks, letterbox
// removal, projection from ROI to image, and rect association.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "vision/geometry.h"

namespace posestream::vision {

// Every function here is pure: values in, values out, nothing retained. Image sizes are in pixels and
// must be positive (a zero size yields infinities, never undefined behaviour). Functions that read a
// keypoint or landmark by index return std::nullopt when the input has too few, instead of reading out
// of range as MediaPipe would.

// Wraps an angle to [-pi, pi) with MediaPipe's formula (computed in double, returned as float).
float normalize_radians(float angle);

// MediaPipe's RectTransformationCalculatorOptions without the rotation options (unused by our graphs).
struct RectTransformOptions {
  float scale_x = 1.0f;
  float scale_y = 1.0f;
  float shift_x = 0.0f;  // Fractions of the rect's width/height, along the rect's own rotated axes.
  float shift_y = 0.0f;
  bool square_long = false;   // Make it square in pixels with the longer side...
  bool square_short = false;  // ...or the shorter side (ignored when square_long is set).
};

// RectTransformationCalculator on a NORM_RECT, in its order: shift along the rotated axes, square in
// pixels (hence the image size), then scale. The rotation is kept.
NormalizedRect transform_rect(const NormalizedRect& rect, ImageSize image, const RectTransformOptions& options);

// DetectionsToRectsCalculator::ComputeRotation: the angle that turns the vector start -> end (measured
// in pixels, y flipped up) to `target_angle_radians`, normalized.
float rotation_from_points(Point2 start, Point2 end, ImageSize image, float target_angle_radians);

// AlignmentPointsRectsCalculator: centered on `center`, a square in pixels of side 2 * |scale_point -
// center|, rotated by rotation_from_points(center, scale_point, target).
NormalizedRect rect_from_alignment_points(Point2 center, Point2 scale_point, ImageSize image,
                                          float target_angle_radians);

// DetectionsToRectsCalculator on a relative box: the box's own center and size, rotation 0.
NormalizedRect rect_from_detection_box(const Detection& detection);

// The same with rotation_from_points(keypoints[start], keypoints[end], target).
std::optional<NormalizedRect> rect_from_detection_box(const Detection& detection, ImageSize image,
                                                      size_t start_keypoint, size_t end_keypoint,
                                                      float target_angle_radians);

// Pose ROI from a pose detection (pose_detection_to_roi.pbtxt): alignment points keypoint 0 (mid-hip)
// -> keypoint 1, target 90 degrees, then scale 1.25 and square_long. nullopt with fewer than 2 keypoints.
std::optional<NormalizedRect> pose_roi_from_detection(const Detection& detection, ImageSize image);

// Pose ROI for the next frame (pose_landmarks_to_roi.pbtxt): the same from auxiliary landmarks 33 -> 34
// (pass the smoothed ones, as MediaPipe does).
NormalizedRect pose_roi_from_auxiliary_landmarks(const Landmark& start, const Landmark& end, ImageSize image);

// Hand ROI from a palm detection (palm_detection_detection_to_roi.pbtxt): the detection's box, rotation
// keypoint 0 (wrist) -> 2 (middle finger MCP) to 90 degrees, then shift_y -0.5, square_long, scale 2.6.
// nullopt with fewer than 3 keypoints.
std::optional<NormalizedRect> hand_roi_from_palm(const Detection& detection, ImageSize image);

// HandLandmarksToRectCalculator on the 21 hand landmarks: a rect around the subset {0, 1, 2, 3, 5, 6, 9,
// 10, 13, 14, 17, 18} rotated so that wrist -> mean(mean(5, 13), 9) points up, sized by the subset's
// bounding box in that rotated frame. nullopt with fewer than 19 landmarks.
std::optional<NormalizedRect> hand_rect_from_landmarks(std::span<const Landmark> landmarks, ImageSize image);

// The next frame's hand ROI (hand_landmark_landmarks_to_roi.pbtxt): hand_rect_from_landmarks, then
// shift_y -0.1, square_long, scale 2.0.
std::optional<NormalizedRect> hand_roi_from_landmarks(std::span<const Landmark> landmarks, ImageSize image);

enum class HandSide { left, right };

// Hand ROI from pose landmarks, as the holistic graph builds its hand re-crop ROI
// (hand_landmarks_from_pose_to_recrop_roi.pbtxt, HandDetectionsFromPoseToRectsCalculator): pose wrist,
// pinky, index = {15, 17, 19} (left) or {16, 18, 20} (right); nullopt unless the wrist's visibility is
// > 0.1 (hand_visibility_from_hand_landmarks_from_pose.pbtxt) and the list has those landmarks.
// middle = (2 * index + pinky) / 3; center = middle, side = 2 * |middle - wrist| in pixels, rotation
// wrist -> middle to 90 degrees; then shift_y -0.1, square_long, scale 2.7.
std::optional<NormalizedRect> hand_roi_from_pose(std::span<const Landmark> pose_landmarks, HandSide side,
                                                 ImageSize image);

// ImageToTensor's padding (image_to_tensor_utils.cc PadRoi) for an ROI of roi_width x roi_height pixels
// cropped into a tensor_width x tensor_height tensor: with keep_aspect_ratio symmetric, on the two
// sides of the short dimension; without, none (the crop stretches). nullopt unless all four sizes are
// positive. (crop_to_tensor reports the same padding in its CropResult.)
std::optional<LetterboxPadding> letterbox_padding(float roi_width_pixels, float roi_height_pixels, int tensor_width,
                                                  int tensor_height, bool keep_aspect_ratio = true);

// DetectionLetterboxRemovalCalculator: from the padded tensor's frame to the unpadded ROI's frame.
Detection remove_letterbox(const Detection& detection, const LetterboxPadding& padding);
// LandmarkLetterboxRemovalCalculator: x, y as above, z scaled as x; visibility and presence kept.
std::vector<Landmark> remove_letterbox(std::span<const Landmark> landmarks, const LetterboxPadding& padding);

// LandmarkProjectionCalculator with NORM_RECT: landmarks normalized to the (unpadded) ROI crop ->
// normalized to the image: rotate (x - 0.5, y - 0.5) by the ROI's rotation, scale by its width and
// height, add its center; z *= ROI width. Visibility and presence kept.
std::vector<Landmark> project_landmarks(std::span<const Landmark> landmarks, const NormalizedRect& roi);

// WorldLandmarkProjectionCalculator: x, y rotated by the ROI's rotation; z, visibility, presence kept.
std::vector<Landmark> project_world_landmarks(std::span<const Landmark> landmarks, const NormalizedRect& roi);

// IoU of the two rects' axis-aligned boxes, rotation ignored (AssociationNormRectCalculator).
float rect_iou(const NormalizedRect& a, const NormalizedRect& b);

// AssociationNormRectCalculator: walks the lists in increasing priority (the last list wins) and adds
// each rect, first removing every rect already kept whose rect_iou with it exceeds the threshold.
// The legacy hand graph passes {rects from palm detections, rects from the previous frame's landmarks}
// with threshold 0.5.
std::vector<NormalizedRect> associate_rects(std::span<const std::vector<NormalizedRect>> lists_by_priority,
                                            float min_similarity_threshold);

}  // namespace posestream::vision
