// The newcomer search of multi-person VIDEO tracking: the zoomed tiles and the zoom on a faint detection,
// which detections they keep, and the schedule of whole-frame, zoom and tile runs (people_search.h).
#include "pose/people_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include "pose/people_association.h"
#include "pose/pose_detector.h"
#include "pose/pose_track_step.h"

namespace posestream::pose {

namespace {

// Tiles along one side of `length` pixels, each `side` long (side <= length): their starts, spread
// evenly from 0 to length - side, as many as it takes for neighbours to overlap by half a tile or more.
std::vector<double> tile_starts(double length, double side) {
  const int count = 1 + static_cast<int>(std::ceil((length - side) / (0.5 * side) - 1e-9));
  std::vector<double> starts;
  for (int i = 0; i < count; ++i) starts.push_back(count == 1 ? 0.0 : (length - side) * i / (count - 1));
  return starts;
}

// The core of tile `i` along one side, normalized: from the midpoint with the previous tile's centre (0 for
// the first) to the midpoint with the next one's (1 for the last).
std::pair<float, float> core_span(const std::vector<double>& starts, size_t i, double side, double length) {
  const auto centre = [&](size_t k) { return (starts[k] + 0.5 * side) / length; };
  const double low = i == 0 ? 0.0 : 0.5 * (centre(i - 1) + centre(i));
  const double high = i + 1 == starts.size() ? 1.0 : 0.5 * (centre(i) + centre(i + 1));
  return {static_cast<float>(low), static_cast<float>(high)};
}

// The tiles' side in pixels: half the long side, cut to each side of a frame narrower than that.
std::pair<double, double> tile_size(vision::ImageSize size) {
  const double side = std::max(size.width, size.height) / kSearchTileZoom;
  return {std::min<double>(side, size.width), std::min<double>(side, size.height)};
}

bool inside(const vision::RelativeBox& box, float x, float y) {
  return x >= box.xmin && x <= box.xmin + box.width && y >= box.ymin && y <= box.ymin + box.height;
}

// One detector run on `tile` (a zoom view is a tile whose core is its whole view): its kept detections'
// ROIs, counted in `times`.
std::vector<vision::NormalizedRect> detect_on_tile(const vision::Image& image, const SearchTile& tile,
                                                   PoseRuntimes& runtimes, const PeopleOptions& options,
                                                   NewcomerSearchTimes& times) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<PoseDetection> detections =
      detect_poses_in_region(image, tile.view, runtimes.detector(), runtimes.anchors(), runtimes.scratch(),
                             options.pose.min_detection_confidence);
  times.detector_ms += milliseconds_since(start);
  ++times.detector_runs;
  std::vector<vision::NormalizedRect> rois;
  for (const PoseDetection& detection : detections) {
    if (tile_keeps(tile, detection)) rois.push_back(detection.roi);
  }
  return rois;
}

// The newcomers among `detections`, as select_newcomers chooses them.
std::vector<vision::NormalizedRect> newcomers_among(const std::vector<vision::NormalizedRect>& detections,
                                                    std::span<const vision::NormalizedRect> tracked_rois,
                                                    size_t max_new, const PeopleOptions& options) {
  std::vector<vision::NormalizedRect> chosen;
  for (const size_t index : select_newcomers(tracked_rois, detections, options.min_tracking_iou, max_new)) {
    chosen.push_back(detections[index]);
  }
  return chosen;
}

// The tile search: the zoom on `hint` when there is one, then up to newcomer_tile_runs tiles from
// state.next_tile on, stopping at the first view with a newcomer. Each view's detections are checked
// against the tracked people.
std::vector<vision::NormalizedRect> search_tiles_in_turn(const vision::Image& image,
                                                         std::span<const vision::NormalizedRect> tracked_rois,
                                                         size_t max_new, const std::optional<SearchTile>& hint,
                                                         PeopleState& state, PoseRuntimes& runtimes,
                                                         const PeopleOptions& options, NewcomerSearchTimes& times) {
  const std::vector<SearchTile> tiles = search_tiles({image.width, image.height});
  const int runs = std::min(options.newcomer_tile_runs, static_cast<int>(tiles.size()));
  const auto newcomers_on = [&](const SearchTile& view) {
    return newcomers_among(detect_on_tile(image, view, runtimes, options, times), tracked_rois, max_new, options);
  };
  if (hint) {
    std::vector<vision::NormalizedRect> found = newcomers_on(*hint);
    if (!found.empty()) return found;
  }
  for (int run = 0; run < runs; ++run) {
    const SearchTile& tile = tiles[state.next_tile % tiles.size()];
    state.next_tile = (state.next_tile + 1) % tiles.size();
    std::vector<vision::NormalizedRect> found = newcomers_on(tile);
    if (!found.empty()) return found;
  }
  return {};
}

}  // namespace

std::vector<SearchTile> search_tiles(vision::ImageSize size) {
  if (size.width <= 0 || size.height <= 0) return {};
  const double width = size.width, height = size.height;
  const auto [tile_width, tile_height] = tile_size(size);
  const std::vector<double> xs = tile_starts(width, tile_width), ys = tile_starts(height, tile_height);
  std::vector<SearchTile> tiles;
  for (size_t row = 0; row < ys.size(); ++row) {
    for (size_t column = 0; column < xs.size(); ++column) {
      SearchTile tile;
      tile.view = {static_cast<float>(xs[column] / width), static_cast<float>(ys[row] / height),
                   static_cast<float>(tile_width / width), static_cast<float>(tile_height / height)};
      const auto [left, right] = core_span(xs, column, tile_width, width);
      const auto [top, bottom] = core_span(ys, row, tile_height, height);
      tile.core = {left, top, right - left, bottom - top};
      tiles.push_back(tile);
    }
  }
  return tiles;
}

bool tile_keeps(const SearchTile& tile, const PoseDetection& detection) {
  const std::vector<vision::Point2>& keypoints = detection.detection.keypoints;
  if (keypoints.size() < 2) return false;
  return inside(tile.core, detection.roi.x_center, detection.roi.y_center) &&
         inside(tile.view, keypoints[0].x, keypoints[0].y) && inside(tile.view, keypoints[1].x, keypoints[1].y);
}

SearchTile zoom_tile(vision::ImageSize size, vision::Point2 centre) {
  if (size.width <= 0 || size.height <= 0) return {};
  const auto [tile_width, tile_height] = tile_size(size);
  const auto width = static_cast<float>(tile_width / size.width);
  const auto height = static_cast<float>(tile_height / size.height);
  const vision::RelativeBox view{std::clamp(centre.x - 0.5f * width, 0.0f, 1.0f - width),
                                 std::clamp(centre.y - 0.5f * height, 0.0f, 1.0f - height), width, height};
  return {view, view};
}

std::optional<SearchTile> zoom_hint(vision::ImageSize size, const std::vector<PoseDetection>& faint,
                                    std::span<const vision::NormalizedRect> tracked_rois, float min_tracking_iou) {
  const std::vector<vision::NormalizedRect> rois = rois_of(faint);
  const std::vector<size_t> untracked = select_newcomers(tracked_rois, rois, min_tracking_iou, 1);
  if (untracked.empty()) return std::nullopt;
  const vision::RelativeBox& box = faint[untracked.front()].detection.box;
  return zoom_tile(size, {box.xmin + 0.5f * box.width, box.ymin + 0.5f * box.height});
}

std::vector<vision::NormalizedRect> search_newcomers(const vision::Image& image, int64_t timestamp_us,
                                                     std::span<const vision::NormalizedRect> tracked_rois,
                                                     size_t max_new, PeopleState& state, PoseRuntimes& runtimes,
                                                     const PeopleOptions& options, NewcomerSearchTimes& times) {
  const size_t tracked = state.people.size();
  std::optional<SearchTile> hint;  // Where the whole frame half-saw someone untracked.
  if (detector_due(tracked, options.num_poses, options.detector_interval_ms, state.last_detector_run_us,
                   timestamp_us)) {
    state.last_detector_run_us = timestamp_us;
    const auto start = std::chrono::steady_clock::now();
    const PoseDetectorRun run =
        detect_poses_and_faint(image, runtimes.detector(), runtimes.anchors(), runtimes.scratch(),
                               options.pose.min_detection_confidence, kZoomHintMinScore);
    times.detector_ms += milliseconds_since(start);
    ++times.detector_runs;
    std::vector<vision::NormalizedRect> found =
        newcomers_among(rois_of(run.detections), tracked_rois, max_new, options);
    if (!found.empty()) {
      state.last_tile_search_us = timestamp_us;  // This interval's search has found someone.
      return found;
    }
    hint = zoom_hint({image.width, image.height}, run.faint, tracked_rois, options.min_tracking_iou);
  }
  // Tiles on the same budget as the whole frame's newcomer runs (one search per interval), counted from
  // 1 tracked so that with nobody tracked they do not run on every frame as the whole frame does.
  // Interval 0 asks for MediaPipe's policy, the whole frame on every frame and nothing else.
  if (options.num_poses == 1 || options.newcomer_tile_runs == 0 || options.detector_interval_ms == 0 ||
      max_new == 0 ||
      !detector_due(std::max<size_t>(tracked, 1), options.num_poses, options.detector_interval_ms,
                    state.last_tile_search_us, timestamp_us)) {
    return {};
  }
  state.last_tile_search_us = timestamp_us;
  return search_tiles_in_turn(image, tracked_rois, max_new, hint, state, runtimes, options, times);
}

}  // namespace posestream::pose
