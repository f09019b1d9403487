// Joint angles from hand-made world landmarks with hand-worked answers.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <vector>

#include "pose/joint_angles.h"

namespace posestream::pose {
namespace {

vision::Landmark at(float x, float y, float z) { return vision::Landmark{x, y, z, 1.0f, 1.0f}; }

TEST(AngleAtJoint, RightAngle) {
  EXPECT_NEAR(angle_at_joint_degrees(at(1, 0, 0), at(0, 0, 0), at(0, 1, 0)), 90.0f, 1e-4f);
}

TEST(AngleAtJoint, StraightAndFolded) {
  EXPECT_NEAR(angle_at_joint_degrees(at(-1, 0, 0), at(0, 0, 0), at(2, 0, 0)), 180.0f, 1e-4f);
  EXPECT_NEAR(angle_at_joint_degrees(at(1, 0, 0), at(0, 0, 0), at(3, 0, 0)), 0.0f, 1e-4f);
}

TEST(AngleAtJoint, UsesDepthAndIgnoresSegmentLengths) {
  // (1, 0, 0) and (0, 0, 5) from a joint at (1, 1, 1): vectors (0, -1, -1) and (-1, -1, 4);
  // cos = (0 + 1 - 4) / (sqrt(2) * sqrt(18)) = -3 / 6 = -0.5 -> 120 degrees.
  EXPECT_NEAR(angle_at_joint_degrees(at(1, 0, 0), at(1, 1, 1), at(0, 0, 5)), 120.0f, 1e-4f);
  // 60 degrees in the x-z plane, limbs of very different lengths.
  EXPECT_NEAR(angle_at_joint_degrees(at(10, 0, 0), at(0, 0, 0), at(0.05f, 0, 0.05f * std::sqrt(3.0f))), 60.0f, 1e-3f);
}

TEST(AngleAtJoint, ZeroLengthSegmentIsNan) {
  EXPECT_TRUE(std::isnan(angle_at_joint_degrees(at(0, 0, 0), at(0, 0, 0), at(1, 0, 0))));
  EXPECT_TRUE(std::isnan(angle_at_joint_degrees(at(1, 0, 0), at(2, 2, 2), at(2, 2, 2))));
}

// A person standing in metres (y down as in MediaPipe's world frame): left arm raised sideways to
// shoulder height and bent up 90 degrees at the elbow, right arm hanging straight, left knee bent at a
// right angle with the thigh horizontal forward (-z), right leg straight.
std::vector<vision::Landmark> standing_person() {
  std::vector<vision::Landmark> landmarks(33, at(0, 0, 0));
  landmarks[11] = at(0.2f, -0.5f, 0);    // left shoulder
  landmarks[12] = at(-0.2f, -0.5f, 0);   // right shoulder
  landmarks[13] = at(0.5f, -0.5f, 0);    // left elbow: straight out sideways
  landmarks[15] = at(0.5f, -0.8f, 0);    // left wrist: up
  landmarks[14] = at(-0.2f, -0.2f, 0);   // right elbow: down
  landmarks[16] = at(-0.2f, 0.1f, 0);    // right wrist: down
  landmarks[23] = at(0.1f, 0, 0);        // left hip
  landmarks[24] = at(-0.1f, 0, 0);       // right hip
  landmarks[25] = at(0.1f, 0, -0.4f);    // left knee: thigh forward
  landmarks[27] = at(0.1f, 0.4f, -0.4f);  // left ankle: shin down
  landmarks[26] = at(-0.1f, 0.45f, 0);   // right knee
  landmarks[28] = at(-0.1f, 0.9f, 0);    // right ankle
  return landmarks;
}

TEST(JointAngles, StandingPersonHandWorked) {
  const JointAngles angles = joint_angles(standing_person());
  EXPECT_NEAR(angles.left_elbow, 90.0f, 1e-3f);
  EXPECT_NEAR(angles.right_elbow, 180.0f, 1e-3f);
  // Left shoulder: hip (0.1, 0, 0) - shoulder (0.2, -0.5, 0) = (-0.1, 0.5, 0); elbow - shoulder = (0.3, 0, 0);
  // cos = -0.03 / (sqrt(0.26) * 0.3) -> acos(-0.196116) = 101.3099 degrees.
  EXPECT_NEAR(angles.left_shoulder, 101.3099f, 1e-3f);
  // Right shoulder: hip - shoulder = (0.1, 0.5, 0); elbow - shoulder = (0, 0.3, 0);
  // cos = 0.15 / (sqrt(0.26) * 0.3) = 0.980581 -> 11.3099 degrees.
  EXPECT_NEAR(angles.right_shoulder, 11.3099f, 1e-3f);
  // Left hip: shoulder - hip = (0.1, -0.5, 0); knee - hip = (0, 0, -0.4): perpendicular.
  EXPECT_NEAR(angles.left_hip, 90.0f, 1e-3f);
  // Right hip: shoulder - hip = (-0.1, -0.5, 0); knee - hip = (0, 0.45, 0);
  // cos = -0.225 / (sqrt(0.26) * 0.45) = -0.980581 -> 168.6901 degrees.
  EXPECT_NEAR(angles.right_hip, 168.6901f, 1e-3f);
  EXPECT_NEAR(angles.left_knee, 90.0f, 1e-3f);
  EXPECT_NEAR(angles.right_knee, 180.0f, 1e-3f);
}

TEST(JointAngles, SidesUseTheirOwnLandmarks) {
  // Bending only the right elbow changes only right_elbow.
  std::vector<vision::Landmark> landmarks = standing_person();
  const JointAngles before = joint_angles(landmarks);
  landmarks[16] = at(0.1f, -0.2f, 0);  // right wrist moved across: forearm horizontal
  const JointAngles after = joint_angles(landmarks);
  EXPECT_NEAR(after.right_elbow, 90.0f, 1e-3f);
  EXPECT_EQ(after.left_elbow, before.left_elbow);
  EXPECT_EQ(after.right_shoulder, before.right_shoulder);
  EXPECT_EQ(after.right_knee, before.right_knee);
}

TEST(JointAngles, TooFewLandmarksGiveNan) {
  const std::vector<vision::Landmark> landmarks(32, at(0, 0, 0));
  const JointAngles angles = joint_angles(landmarks);
  for (const float angle : {angles.left_elbow, angles.right_elbow, angles.left_shoulder, angles.right_shoulder,
                            angles.left_hip, angles.right_hip, angles.left_knee, angles.right_knee}) {
    EXPECT_TRUE(std::isnan(angle));
  }
}

}  // namespace
}  // namespace posestream::pose
