// The newcomer search of multi-person VIDEO tracking: the zoomed tiles, which detections they keep, and
// the schedule of whole-frame and tile runs (people_search.h).
#include "pose/people_search.h"

#include <algorithm>
#include <chrono>
#include <cmath>
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

bool inside(const vision::RelativeBox& box, float x, float y) {
  return x >= box.xmin && x <= box.xmin + box.width && y >= box.ymin && y <= box.ymin + box.height;
}

// One detector run on `tile`: its kept detections' ROIs, counted in `times`.
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
    if (tile_keeps(tile, detection.roi)) rois.push_back(detection.roi);
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

// The tile search: up to newcomer_tile_runs tiles from state.next_tile on, stopping at the first with a
// newcomer. Each tile's detections are checked against the tracked people and the newcomers found so far.
std::vector<vision::NormalizedRect> search_tiles_in_turn(const vision::Image& image,
                                                         std::span<const vision::NormalizedRect> tracked_rois,
                                                         size_t max_new, PeopleState& state, PoseRuntimes& runtimes,
                                                         const PeopleOptions& options, NewcomerSearchTimes& times) {
  const std::vector<SearchTile> tiles = search_tiles({image.width, image.height});
  const int runs = std::min(options.newcomer_tile_runs, static_cast<int>(tiles.size()));
  for (int run = 0; run < runs; ++run) {
    const SearchTile& tile = tiles[state.next_tile % tiles.size()];
    state.next_tile = (state.next_tile + 1) % tiles.size();
    std::vector<vision::NormalizedRect> found =
        newcomers_among(detect_on_tile(image, tile, runtimes, options, times), tracked_rois, max_new, options);
    if (!found.empty()) return found;
  }
  return {};
}

}  // namespace

std::vector<SearchTile> search_tiles(vision::ImageSize size) {
  if (size.width <= 0 || size.height <= 0) return {};
  const double width = size.width, height = size.height;
  const double side = std::max(width, height) / kSearchTileZoom;
  const double tile_width = std::min(side, width), tile_height = std::min(side, height);
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

bool tile_keeps(const SearchTile& tile, const vision::NormalizedRect& roi) {
  return inside(tile.core, roi.x_center, roi.y_center) && roi.width <= tile.view.width &&
         roi.height <= tile.view.height;
}

std::vector<vision::NormalizedRect> search_newcomers(const vision::Image& image, int64_t timestamp_us,
                                                     std::span<const vision::NormalizedRect> tracked_rois,
                                                     size_t max_new, PeopleState& state, PoseRuntimes& runtimes,
                                                     const PeopleOptions& options, NewcomerSearchTimes& times) {
  const size_t tracked = state.people.size();
  if (detector_due(tracked, options.num_poses, options.detector_interval_ms, state.last_detector_run_us,
                   timestamp_us)) {
    state.last_detector_run_us = timestamp_us;
    const auto start = std::chrono::steady_clock::now();
    const std::vector<PoseDetection> detections = detect_poses(
        image, runtimes.detector(), runtimes.anchors(), runtimes.scratch(), options.pose.min_detection_confidence);
    times.detector_ms += milliseconds_since(start);
    ++times.detector_runs;
    std::vector<vision::NormalizedRect> rois;
    for (const PoseDetection& detection : detections) rois.push_back(detection.roi);
    std::vector<vision::NormalizedRect> found = newcomers_among(rois, tracked_rois, max_new, options);
    if (!found.empty()) {
      state.last_tile_search_us = timestamp_us;  // This interval's search has found someone.
      return found;
    }
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
  return search_tiles_in_turn(image, tracked_rois, max_new, state, runtimes, options, times);
}

}  // namespace posestream::pose
