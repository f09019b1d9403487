// Joint angles of one pose from its world landmarks.
#include "pose/joint_angles.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace posestream::pose {

namespace {

constexpr size_t kLandmarkCount = 33;

// MediaPipe's pose landmark indices (BlazePose topology).
enum Index : size_t {
  left_shoulder = 11,
  right_shoulder = 12,
  left_elbow = 13,
  right_elbow = 14,
  left_wrist = 15,
  right_wrist = 16,
  left_hip = 23,
  right_hip = 24,
  left_knee = 25,
  right_knee = 26,
  left_ankle = 27,
  right_ankle = 28,
};

}  // namespace

float angle_at_joint_degrees(const vision::Landmark& first, const vision::Landmark& joint,
                             const vision::Landmark& second) {
  // Double keeps acos accurate near 0 and 180 degrees, where float dot products lose the most.
  const double ax = double{first.x} - joint.x, ay = double{first.y} - joint.y, az = double{first.z} - joint.z;
  const double bx = double{second.x} - joint.x, by = double{second.y} - joint.y, bz = double{second.z} - joint.z;
  const double lengths = std::sqrt(ax * ax + ay * ay + az * az) * std::sqrt(bx * bx + by * by + bz * bz);
  if (!(lengths > 0.0)) {
    return std::numeric_limits<float>::quiet_NaN();
  }
  const double cosine = std::clamp((ax * bx + ay * by + az * bz) / lengths, -1.0, 1.0);
  return static_cast<float>(std::acos(cosine) * 180.0 / std::numbers::pi);
}

JointAngles joint_angles(std::span<const vision::Landmark> world_landmarks) {
  if (world_landmarks.size() < kLandmarkCount) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    return JointAngles{nan, nan, nan, nan, nan, nan, nan, nan};
  }
  const auto angle = [&](size_t first, size_t joint, size_t second) {
    return angle_at_joint_degrees(world_landmarks[first], world_landmarks[joint], world_landmarks[second]);
  };
  JointAngles angles;
  angles.left_elbow = angle(left_shoulder, left_elbow, left_wrist);
  angles.right_elbow = angle(right_shoulder, right_elbow, right_wrist);
  angles.left_shoulder = angle(left_hip, left_shoulder, left_elbow);
  angles.right_shoulder = angle(right_hip, right_shoulder, right_elbow);
  angles.left_hip = angle(left_shoulder, left_hip, left_knee);
  angles.right_hip = angle(right_shoulder, right_hip, right_knee);
  angles.left_knee = angle(left_hip, left_knee, left_ankle);
  angles.right_knee = angle(right_hip, right_knee, right_ankle);
  return angles;
}

}  // namespace posestream::pose
