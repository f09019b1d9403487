// Joint angles of one pose from its 33 world landmarks: elbows, shoulders, hips and knees.
#pragma once

#include <span>

#include "vision/geometry.h"

namespace posestream::pose {

// Inner angles in degrees, 0..180, measured at the joint between its two limb segments in 3D world
// coordinates (metres, so the camera's perspective does not distort them). "left" and "right" are the
// person's own sides, as MediaPipe names the landmarks. An angle is NaN when a segment has zero length
// or the landmarks are missing (fewer than 33); nlohmann-json writes NaN as null.
struct JointAngles {
  float left_elbow = 0.0f;      // shoulder 11 - elbow 13 - wrist 15
  float right_elbow = 0.0f;     // shoulder 12 - elbow 14 - wrist 16
  float left_shoulder = 0.0f;   // hip 23 - shoulder 11 - elbow 13
  float right_shoulder = 0.0f;  // hip 24 - shoulder 12 - elbow 14
  float left_hip = 0.0f;        // shoulder 11 - hip 23 - knee 25
  float right_hip = 0.0f;       // shoulder 12 - hip 24 - knee 26
  float left_knee = 0.0f;       // hip 23 - knee 25 - ankle 27
  float right_knee = 0.0f;      // hip 24 - knee 26 - ankle 28
};

// The angle at `joint` between the segments to `first` and `second`, in degrees (NaN if either
// segment has zero length). Uses x, y, z only.
float angle_at_joint_degrees(const vision::Landmark& first, const vision::Landmark& joint,
                             const vision::Landmark& second);

// All eight angles from MediaPipe's 33 pose world landmarks (image landmarks work too, but their z is a
// relative depth, not metres).
JointAngles joint_angles(std::span<const vision::Landmark> world_landmarks);

}  // namespace posestream::pose
