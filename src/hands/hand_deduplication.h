// tasks-vision's HandLandmarksDeduplicationCalculator: drops a hand whose landmarks repeat an earlier hand's.
#pragma once

#include <array>
#include <span>
#include <vector>

#include "hands/hand_landmarks.h"
#include "vision/geometry.h"

namespace posestream::hands {

using HandLandmarkArray = std::array<vision::Landmark, kHandLandmarkCount>;

// max(|0 - 5|, |5 - 17|, |17 - 0|) in pixels: the hand's size, for relative distances.
float hand_baseline_distance(const HandLandmarkArray& landmarks, vision::ImageSize image);

// Which hands survive, scanning in order: hand i is dropped if an already kept hand j has at least 10 of
// its 21 landmarks closer than 0.2 * max(baseline_i, baseline_j) pixels to hand i's, and the two hands'
// landmark bounding boxes (normalized, unrotated) have IoU > 0.2. keep[i] is true for the survivors.
std::vector<bool> deduplicate_hands(std::span<const HandLandmarkArray> hands, vision::ImageSize image);

}  // namespace posestream::hands
