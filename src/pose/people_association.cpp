// The pure rules of multi-person tracking: newcomers among detections, merged tracks, detector schedule.
#include "pose/people_association.h"

#include <algorithm>

#include "vision/rects.h"

namespace posestream::pose {

namespace {

bool overlaps_any(const vision::NormalizedRect& rect, std::span<const vision::NormalizedRect> others, float iou) {
  return std::any_of(others.begin(), others.end(),
                     [&](const vision::NormalizedRect& other) { return vision::rect_iou(rect, other) > iou; });
}

}  // namespace

std::vector<size_t> select_newcomers(std::span<const vision::NormalizedRect> tracked,
                                     std::span<const vision::NormalizedRect> detections, float min_tracking_iou,
                                     size_t max_new) {
  std::vector<size_t> chosen;
  std::vector<vision::NormalizedRect> chosen_rois;
  for (size_t i = 0; i < detections.size() && chosen.size() < max_new; ++i) {
    if (overlaps_any(detections[i], tracked, min_tracking_iou)) continue;
    if (overlaps_any(detections[i], chosen_rois, min_tracking_iou)) continue;
    chosen.push_back(i);
    chosen_rois.push_back(detections[i]);
  }
  return chosen;
}

std::vector<bool> merged_tracks(std::span<const std::optional<vision::NormalizedRect>> rois, float merge_iou) {
  std::vector<bool> merged(rois.size(), false);
  for (size_t later = 0; later < rois.size(); ++later) {
    if (!rois[later]) continue;
    for (size_t earlier = 0; earlier < later; ++earlier) {
      if (merged[earlier] || !rois[earlier]) continue;
      if (vision::rect_iou(*rois[earlier], *rois[later]) > merge_iou) {
        merged[later] = true;
        break;
      }
    }
  }
  return merged;
}

bool detector_due(size_t tracked, int num_poses, double interval_ms, std::optional<int64_t> last_run_us,
                  int64_t now_us) {
  if (tracked == 0) return true;
  if (num_poses <= 0 || tracked >= static_cast<size_t>(num_poses)) return false;
  if (!last_run_us || now_us < *last_run_us) return true;
  // In double: an interval of hours in microseconds stays exact, and no int64 overflow on the difference
  // of two far-apart timestamps.
  return static_cast<double>(now_us) - static_cast<double>(*last_run_us) >= interval_ms * 1000.0;
}

}  // namespace posestream::pose
