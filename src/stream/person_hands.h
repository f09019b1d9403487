// Hands across people: which person's hand a hand is when two people's wrists reach the same hand.
#pragma once

#include <vector>

#include "stream/frame_pipeline.h"
#include "vision/geometry.h"

namespace posestream::stream {

// Pose landmark indices of the wrists (MediaPipe's BlazePose topology).
inline constexpr int kPoseLeftWrist = 15;
inline constexpr int kPoseRightWrist = 16;

// Each person's wrists look for hands on their own (frame_pipeline_people.cpp), so two people standing
// close can both find one hand. A hand whose landmarks repeat another person's hand (the criterion of
// hands::deduplicate_hands) is kept only for the person whose pose wrist is nearer its wrist landmark
// (pixels); the other copy is removed. Hands of one person are left alone (their tracker deduplicated
// them already). Pure: no models.
void drop_hands_repeated_across_people(std::vector<PersonResult>& people, vision::ImageSize image);

// Pixels from `hand`'s wrist landmark to the nearer of `pose`'s two wrists.
float wrist_distance_px(const hands::Hand& hand, const pose::Pose& pose, vision::ImageSize image);

}  // namespace posestream::stream
