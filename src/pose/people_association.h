// The pure rules of multi-person tracking (people.h): which detections are newcomers, which tracks have
// merged, when the detector is due. Plain functions on rects and times, tested without models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vision/geometry.h"

namespace posestream::pose {

// The detections that are people not tracked yet: indices into `detections` (kept in their order, the
// detector's best first) of those whose ROI overlaps no `tracked` ROI and no detection already chosen
// with vision::rect_iou > min_tracking_iou, at most `max_new` of them. rect_iou is
// AssociationNormRectCalculator's IoU (axis-aligned boxes, rotation ignored). Where MediaPipe lets an
// overlapping detection replace the tracked ROI, the tracked one stays: it comes from this person's own
// landmarks a frame ago, the detection from a whole-image model at 224x224. Does not retain its inputs.
std::vector<size_t> select_newcomers(std::span<const vision::NormalizedRect> tracked,
                                     std::span<const vision::NormalizedRect> detections, float min_tracking_iou,
                                     size_t max_new);

// Tracks that converged on one body: `rois` are the tracks' next-frame ROIs in increasing id order
// (nullopt: the track ends anyway and overlaps nothing). Returns, per track, whether it is merged into
// an earlier (lower id) track it overlaps with rect_iou > merge_iou. Greedy in id order, so a track
// merged away never absorbs a later one. Does not retain its input.
std::vector<bool> merged_tracks(std::span<const std::optional<vision::NormalizedRect>> rois, float merge_iou);

// Whether the detector runs on the frame at `now_us` with `tracked` people tracked from the previous
// frame: always with nobody tracked; never with num_poses tracked; otherwise when `interval_ms` of stream
// time have passed since `last_run_us` (or it never ran, or time went backwards, so that a stream whose
// clock restarts is not starved). interval_ms 0: every such frame (MediaPipe's own policy).
bool detector_due(size_t tracked, int num_poses, double interval_ms, std::optional<int64_t> last_run_us,
                  int64_t now_us);

}  // namespace posestream::pose
