// The newcomer search of multi-person VIDEO tracking (people.h): which views of the frame the pose detector
// sees when it looks for people not tracked yet (the whole frame, then zoomed tiles in turn), and their
// detections as ROIs of the whole frame. The tile geometry is plain functions, tested without models.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "pose/people.h"
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

// Whether a detection found on `tile` is kept: its ROI's centre lies in the tile's core (a person cut by
// the tile's inner edge is found whole, with a sound ROI, by the neighbour whose core holds them) and the
// ROI is no wider or taller than the tile's view (someone that large is the whole frame's to find; on a
// tile they are a part of a body).
bool tile_keeps(const SearchTile& tile, const vision::NormalizedRect& roi);

struct NewcomerSearchTimes {
  double detector_ms = 0;
  int detector_runs = 0;
};

// The due searches of one VIDEO frame with `tracked_rois` tracked (this frame's ROIs of the people
// tracked), at most `max_new` newcomers, each overlapping no tracked ROI nor an earlier newcomer
// (select_newcomers, options.min_tracking_iou):
// - the whole frame when detector_due() says so (every frame with nobody tracked);
// - then, when that found no newcomer (or did not run), options.newcomer_tile_runs tiles of
//   search_tiles(), continuing where the last tile search stopped, at most once per
//   options.detector_interval_ms, only with num_poses > 1 (num_poses 1 is track_pose's policy exactly)
//   and an interval > 0 (0 is MediaPipe's policy exactly). A tile search stops at its first tile with a
//   newcomer.
// Every detector invocation is counted in `times`. Updates the schedule in `state` (not its people).
std::vector<vision::NormalizedRect> search_newcomers(const vision::Image& image, int64_t timestamp_us,
                                                     std::span<const vision::NormalizedRect> tracked_rois,
                                                     size_t max_new, PeopleState& state, PoseRuntimes& runtimes,
                                                     const PeopleOptions& options, NewcomerSearchTimes& times);

}  // namespace posestream::pose
