// Drawing a frame's pose skeleton, hand skeletons and handedness labels onto a BGR image (OpenCV imgproc).
#pragma once

#include <opencv2/core.hpp>

#include <array>
#include <span>
#include <utility>

#include "hands/hands.h"
#include "pose/pose.h"

namespace posestream::app {

// MediaPipe's POSE_CONNECTIONS (python/solutions/pose_connections.py): 35 pairs of the 33 landmarks.
inline constexpr std::array<std::pair<int, int>, 35> kPoseConnections = {{
    {0, 1},   {1, 2},   {2, 3},   {3, 7},   {0, 4},   {4, 5},   {5, 6},   {6, 8},   {9, 10},
    {11, 12}, {11, 13}, {13, 15}, {15, 17}, {15, 19}, {15, 21}, {17, 19}, {12, 14}, {14, 16},
    {16, 18}, {16, 20}, {16, 22}, {18, 20}, {11, 23}, {12, 24}, {23, 24}, {23, 25}, {24, 26},
    {25, 27}, {26, 28}, {27, 29}, {28, 30}, {29, 31}, {30, 32}, {27, 31}, {28, 32},
}};

// MediaPipe's HAND_CONNECTIONS (python/solutions/hands_connections.py): palm, then each finger.
inline constexpr std::array<std::pair<int, int>, 21> kHandConnections = {{
    {0, 1}, {0, 5},  {9, 13},  {13, 17}, {5, 9},   {0, 17},  {1, 2},   {2, 3},   {3, 4},   {5, 6},   {6, 7},
    {7, 8}, {9, 10}, {10, 11}, {11, 12}, {13, 14}, {14, 15}, {15, 16}, {17, 18}, {18, 19}, {19, 20},
}};

// Pose landmarks whose visibility or presence is below this are not drawn, nor their connections
// (MediaPipe's drawing_utils uses 0.5 for both).
inline constexpr float kDrawThreshold = 0.5f;

// Draws onto `bgr` (8-bit, 3 channels; landmarks are normalized to its size): the pose's connections and
// points if `pose` is non-null, then each hand's connections, points and a "Left"/"Right" label with its
// score beside the wrist. Line widths scale with the image. Does not retain anything.
void draw_result(cv::Mat& bgr, const pose::Pose* pose, std::span<const hands::Hand> hands);

}  // namespace posestream::app
