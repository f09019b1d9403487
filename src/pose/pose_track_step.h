// The per-person half of one pose frame (landmarks on a chosen ROI, then that person's tracking state
// and smoothing), shared by track_pose and track_people so that a person is tracked by one code path.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "pose/pose.h"
#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::pose {

inline double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// Throws std::invalid_argument naming the size when `image` is not a valid image (both entry points'
// first check).
void check_pose_image(const vision::Image& image);

// Runs the landmark model on `roi` (nullopt: no run, no pose) and returns the pose if its flag passes
// options.min_tracking_confidence. VIDEO mode (not options.static_image_mode) also updates `state`:
// previous_roi becomes the next frame's ROI from the raw auxiliary landmarks, or, without a pose, the
// track is lost (ROI and image-landmark filter reset, world and visibility filters kept, as Tasks);
// with options.smoothing the pose is smoothed with `state`'s filters. IMAGE mode leaves `state` alone.
// `roi` is a copy on purpose: callers pass the state's own previous_roi, which this overwrites.
// Sets times.landmarks_ms and times.smoothing_ms; leaves the detector fields alone.
std::optional<Pose> track_roi(const vision::Image& image, std::optional<vision::NormalizedRect> roi,
                              int64_t timestamp_us, PoseState& state, PoseRuntimes& runtimes,
                              const PoseOptions& options, PoseTiming& times);

}  // namespace posestream::pose
