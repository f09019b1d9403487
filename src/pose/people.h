// Several people per stream: MediaPipe PoseLandmarker's num_poses (IMAGE mode exactly, VIDEO mode with
// posestream's own tracking policy: each person tracked from their own landmarks, the detector on a budget).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pose/pose.h"
#include "vision/image.h"

namespace posestream::pose {

// The most people one stream may ask for: each person is one landmark-model run per frame (plus their
// hands), so the frame's cost grows with it.
inline constexpr int kMaxNumPoses = 8;
// The most zoomed tiles one newcomer search may run the detector on (PeopleOptions::newcomer_tile_runs);
// a frame has at most 9 tiles (people_search.h).
inline constexpr int kMaxNewcomerTileRuns = 9;

struct PeopleOptions {
  // Model, thresholds, smoothing (per person, VIDEO mode only), segmentation, static_image_mode.
  PoseOptions pose;
  // Up to this many people per frame, in [1, kMaxNumPoses]. 1 gives exactly what track_pose gives.
  int num_poses = 1;
  // VIDEO mode, while at least one person and fewer than num_poses are tracked: the detector looks for
  // newcomers at most once per this many milliseconds of stream time (timestamps). With nobody tracked
  // it runs every frame, as track_pose does. 0: every frame while fewer than num_poses are tracked
  // (MediaPipe's own policy, pose_landmarker_graph.cc).
  double detector_interval_ms = 500;
  // VIDEO mode, num_poses > 1: when a search of the whole frame finds nobody new (or is not due), the
  // detector zooms where the whole frame half-saw someone untracked, if it did (people_search.h:
  // zoom_hint), then looks at this many zoomed tiles of the frame (squares of half its long side, seen
  // twice as large), the next ones in turn at each search, at most once per detector_interval_ms; a
  // person too small for the whole frame is found when their tile's turn comes (640x480: 6 tiles, so
  // with 2 every 1.5 s). Each view is one more detector run: a search costs up to 2 + newcomer_tile_runs
  // runs. In [0, kMaxNewcomerTileRuns]; 0: the whole frame only (no zoom either). With
  // detector_interval_ms 0 (MediaPipe's policy) no zoom nor tiles run.
  int newcomer_tile_runs = 2;
  // VIDEO mode: a detection whose ROI overlaps a tracked person's ROI with IoU above this is that person
  // again and is dropped (MediaPipe's AssociationNormRectCalculator uses minTrackingConfidence, 0.5).
  float min_tracking_iou = 0.5f;
  // VIDEO mode: two tracked people whose next-frame ROIs overlap with IoU above this have converged on
  // one body; the one tracked longer (lower id) is kept.
  float merge_iou = 0.5f;
};

// Empty if usable, else a message naming the option and its bad value.
std::optional<std::string> validate(const PeopleOptions& options);

struct Person {
  // Stable while the person is tracked (VIDEO mode); a person lost and found again gets a new id.
  // IMAGE mode numbers the people of each call 1, 2, ... in the detector's order.
  int64_t id = 0;
  Pose pose;
};

// Per stream: everyone tracked, each with their own ROI and filters. A plain value, like PoseState.
struct PeopleState {
  struct TrackedPerson {
    int64_t id = 0;
    PoseState pose;  // pose.previous_roi: this person's ROI for the next frame.
  };
  std::vector<TrackedPerson> people;  // In the order they were first found (so by increasing id).
  int64_t next_id = 1;
  std::optional<int64_t> last_detector_run_us;  // Stream time of the detector's last run (VIDEO mode).
  std::optional<int64_t> last_tile_search_us;   // Stream time of the last tile search (people_search.h).
  size_t next_tile = 0;                         // The tile the next tile search starts at.
  // num_poses 1 only: the filters of the last person lost, handed to the next one found, as track_pose
  // keeps one PoseState across a loss (Tasks' world and visibility filters keep their state). With more
  // people a newcomer is someone else and starts with fresh filters.
  std::optional<PoseState> lost_pose;

  void reset() { *this = PeopleState{}; }
};

struct PeopleTiming {
  double detector_ms = 0;   // All the frame's detector runs.
  double landmarks_ms = 0;  // All the frame's landmark runs.
  double smoothing_ms = 0;  // All the frame's people.
  bool detector_ran = false;
  int detector_runs = 0;  // Detector invocations: the whole frame and each tile count one each.
  int landmark_runs = 0;  // Landmark-model runs: tracked people plus newcomers tried, found or not.
  int merged = 0;         // VIDEO mode: tracks dropped this frame for converging on a lower id's body.
};

// One frame: up to options.num_poses people, in the order they were first found (IMAGE mode: the
// detector's order after its NMS).
// IMAGE mode (options.pose.static_image_mode): Tasks' PoseLandmarker with numPoses N: the detector's
// weighted-NMS detections (IoU 0.5), the N best, the landmark model on each ROI, those whose presence
// fails dropped; `state` is not used.
// VIDEO mode: each tracked person from their own previous landmarks (track_pose's step, smoothing per
// person if on); the detector on the whole frame as detector_due() says (people_association.h), and on
// a zoom and tiles as search_newcomers() says (people_search.h); newcomers are detections overlapping no
// tracked ROI (select_newcomers), up to num_poses in all; people whose presence fails are
// dropped; tracks whose next ROIs overlap are merged (merged_tracks). num_poses 1 gives exactly
// track_pose's poses. Throws std::invalid_argument for invalid options (validate()) or image, and
// engine::ModelError if inference fails, as track_pose.
std::vector<Person> track_people(const vision::Image& image, int64_t timestamp_us, PeopleState& state,
                                 PoseRuntimes& runtimes, const PeopleOptions& options, PeopleTiming* timing = nullptr);

}  // namespace posestream::pose
