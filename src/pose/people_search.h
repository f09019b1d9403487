// The newcomer search of multi-person VIDEO tracking (people.h): which views of the frame the pose detector
// sees when it looks for people not tracked yet (the whole frame, then a zoom where it half-saw someone
// and zoomed tiles in turn), and their detections as ROIs of the whole frame. The tile geometry is plain
// functions, tested without models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pose/people.h"
#include "pose/pose_detector.h"
#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::pose {

// Why tiles: the detector sees its input letterboxed to 224x224, so on a 640x480 frame a person is
// shrunk 2.9x. Measured on a non-golden photo (PETS 2009, tests/pose/test_people_search.cpp: 7 people
// 36-72 px tall in 576x432): the whole image finds none of them, windows of 0.3 of it (seen at ~1.4x) 6.
// A tile of half the frame's long side is seen twice as large as the whole frame.
inline constexpr float kSearchTileZoom = 2.0f;

// One view of a tile search, normalized to the frame.
struct SearchTile {
  vision::RelativeBox view;  // What the detector sees: a square of 1/kSearchTileZoom of the long side
                             // (cut to the short side if the frame is narrower than that).
  vision::RelativeBox core;  // The part of the frame this tile answers for: tiles overlap by about half
                             // a tile, and the cores (split at the midpoints between neighbouring
                             // tiles' centres) cover the frame without overlapping.
};

// The tiles of a frame of `size`, row by row: along each side as many as it takes for neighbours to
// overlap by at least half a tile, spread evenly from edge to edge (640x480: 3 x 2 tiles of 320x320).
// Empty for an empty size. Never more than 3 x 3 for any size (the side is half the long one).
std::vector<SearchTile> search_tiles(vision::ImageSize size);

// Whether a detection found on `tile` (normalized to the frame) is kept: its ROI's centre lies in the
// tile's core (a person cut by the tile's inner edge is found whole, with a sound ROI, by the neighbour
// whose core holds them), and the two keypoints its ROI is made of, mid-hip and the body's extent
// (vision::pose_roi_from_detection), lie in the tile's view: the detector saw them rather than guessed
// them beyond the tile's edge, where a cut body's would be. The ROI itself may be larger than the tile:
// it is 2.5 times the hip-to-extent distance, so a whole body of up to about half the tile has an ROI
// wider than the tile. Detections with fewer than 2 keypoints are not kept.
bool tile_keeps(const SearchTile& tile, const PoseDetection& detection);

// The zoom on a hint: a view of a tile's size (search_tiles) centred on `centre` (normalized), moved
// inside the frame, whose core is the whole view (no neighbour answers for any of it). Empty for an
// empty size.
SearchTile zoom_tile(vision::ImageSize size, vision::Point2 centre);

// Faint whole-frame detections (below the detector's confidence threshold) score at least this to aim a
// zoom. The zoom only chooses where the search's next detector run looks (a tile would run otherwise), so
// the floor trades nothing but a possibly wasted run: it keeps out the near-zero boxes every frame has.
inline constexpr float kZoomHintMinScore = 0.1f;

// Where the whole frame half-saw someone untracked: a zoom_tile on the box centre of the best `faint`
// detection (detect_poses_and_faint, best first) whose ROI overlaps no tracked ROI (select_newcomers,
// min_tracking_iou); nullopt when there is none.
std::optional<SearchTile> zoom_hint(vision::ImageSize size, const std::vector<PoseDetection>& faint,
                                    std::span<const vision::NormalizedRect> tracked_rois, float min_tracking_iou);

struct NewcomerSearchTimes {
  double detector_ms = 0;
  int detector_runs = 0;
};

// The due searches of one VIDEO frame with `tracked_rois` tracked (this frame's ROIs of the people
// tracked), at most `max_new` newcomers, each overlapping no tracked ROI nor an earlier newcomer
// (select_newcomers, options.min_tracking_iou):
// - the whole frame when detector_due() says so (every frame with nobody tracked);
// - then, when that found no newcomer (or did not run), the whole frame's zoom_hint when it has one and
//   options.newcomer_tile_runs tiles of search_tiles(), continuing where the last tile search stopped,
//   at most once per options.detector_interval_ms, only with num_poses > 1 (num_poses 1 is track_pose's
//   policy exactly), newcomer_tile_runs > 0 and an interval > 0 (0 is MediaPipe's policy exactly). This
//   search stops at its first view with a newcomer.
// Every detector invocation is counted in `times`. Updates the schedule in `state` (not its people).
std::vector<vision::NormalizedRect> search_newcomers(const vision::Image& image, int64_t timestamp_us,
                                                     std::span<const vision::NormalizedRect> tracked_rois,
                                                     size_t max_new, PeopleState& state, PoseRuntimes& runtimes,
                                                     const PeopleOptions& options, NewcomerSearchTimes& times);

}  // namespace posestream::pose
