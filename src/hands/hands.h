// Public API of the hands layer: MediaPipe Tasks' HandLandmarker on our engine, plus a pose-assisted mode.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "hands/hand_landmarks.h"
#include "vision/crop.h"
#include "vision/filters.h"
#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::hands {

// What track_hands does, per call:
//
// Without pose landmarks it reproduces tasks-vision 1.1.0's HandLandmarker
// (tasks/cc/vision/hand_landmarker/hand_landmarker_graph.cc):
//   - static_image_mode (IMAGE): the palm detector runs on every image; its hand ROIs, best palm first,
//     are clipped to max_num_hands; the landmark model runs on each; then deduplication.
//   - otherwise (VIDEO): the palm detector runs unless the previous call tracked >= max_num_hands hands.
//     HandAssociation keeps every ROI tracked from the previous frame's landmarks and adds a palm ROI
//     only if its axis-aligned IoU with every ROI kept so far is <= min_tracking_iou (the tracked ROI
//     wins, the opposite of the pose graph); clip to max_num_hands; landmarks; deduplication. The
//     surviving hands' next-frame ROIs (from their unsmoothed landmarks) are what the next call tracks.
//   - Tasks-only details kept: the palm ROI's rotation target is 90 *radians* (tasks-vision stores 90 in
//     a radians field; the legacy graphs use pi/2); handedness is "Right" with score p for the model's
//     raw output p > 0.5, else "Left" with 1 - p (the reverse of the legacy handedness.txt order);
//     landmark deduplication (HandLandmarksDeduplicationCalculator); no smoothing.
//
// With pose landmarks (the 33 image landmarks of one body, normalized, with visibility, e.g. from our
// PoseTracker) the palm detector never runs: the body tells where the hands are. This departs from
// MediaPipe's hand graph, which runs the palm detector on every frame where fewer than max_num_hands
// hands are tracked (i.e. almost every frame when one hand is in view with max_num_hands 2).
//   - For each wrist whose pose visibility is > 0.1 a ROI is derived from the pose's wrist, index and
//     pinky as MediaPipe's holistic graph does (vision::hand_roi_from_pose; the holistic graph refines it
//     with a re-crop model we do not have). A ROI that does not overlap the image is not tried (ours).
//   - The wrist retry backoff (ours): MediaPipe's holistic graph gates a wrist only on that visibility
//     (hand_visibility_from_hand_landmarks_from_pose.pbtxt, ThresholdingCalculator threshold 0.1) and
//     then runs its re-crop and landmark models on it every frame, hand or not. A wrist resting in view
//     (e.g. at the hip, pose visibility ~0.9) would cost one wasted landmark run per frame. So, per wrist:
//     after k consecutive attempts at its ROI that found no (new) hand, it is tried again
//     min(2^(k-1), pose_wrist_retry_frames) frames later (the next frame, then 2, 4, 8, ... frames on);
//     a hand found there, or the wrist's ROI missing (invisible wrist, off the image, no pose) resets
//     it. So a hand that comes into view at a visible wrist is found within pose_wrist_retry_frames
//     frames (if the landmark model sees it), one lost for a frame is retried at once, and the wasted
//     runs fall to about one per pose_wrist_retry_frames frames. Frames count calls; static_image_mode
//     has no backoff.
//     The fallback of a tracked hand (below) is always tried, and counts as an attempt at its wrist.
//   - Each hand keeps tracking from its own previous landmarks, as above. A pose ROI whose centre lies
//     inside a tracked ROI belongs to that hand: it is not added (IoU alone would let it through, since
//     the two ROIs differ in size, and report the hand twice), but if the tracked ROI loses the hand this
//     frame the landmark model runs once more on the pose ROI, and the hand keeps its place and id.
//   - The other pose ROIs go through the same association as palm ROIs (a tracked ROI wins) while fewer
//     than max_num_hands hands are tracked.
//   - The run budget (ours): new-hand tries only fill the frame's landmark runs up to max_num_hands,
//     counting the tracked hands' runs and the fallbacks of those tracking lost this frame (fallbacks
//     always run). A due wrist left out is not counted as tried and stays due for the next frame. Why:
//     on two cores a frame with a third landmark run (tracked hand, its fallback, a try at the other
//     wrist) took ~60 ms against ~28 for most frames, and set the stream's p99 latency; postponing a
//     try by one frame costs at most one frame's delay in finding a hand the backoff might hold back
//     pose_wrist_retry_frames frames anyway.
// In static_image_mode the pose ROIs are the only ROIs. On the golden sequence this finds the hand in all
// 60 frames (MediaPipe: 28 with lite, 42 with full) without one palm detector run.
//
// Output order: tracked hands first (in the order they were first found), then new ones (palms best
// first, or the pose's left wrist before its right).

enum class HandModel { lite, full };

struct HandOptions {
  HandModel model = HandModel::full;
  int max_num_hands = 2;                  // >= 1.
  float min_detection_confidence = 0.5f;  // Palm score; a palm scoring below it is dropped.
  float min_presence_confidence = 0.5f;   // Hand flag; a hand is kept if its flag is > this.
  // Tasks' minTrackingConfidence: not a score but the IoU above which a new ROI is taken for a hand
  // already tracked. In (0, 1].
  float min_tracking_iou = 0.5f;
  // Pose-assisted mode only: the most frames between two attempts at a wrist whose ROI has held no hand
  // (the backoff described above), i.e. the bound on how late a hand appearing there is found. >= 1;
  // 1 tries every visible wrist every frame, as MediaPipe's holistic graph. 8 frames: 0.27 s at 30 fps.
  int pose_wrist_retry_frames = 8;
  // One Euro smoothing of the returned landmarks (never of the tracking ROIs). Off by default so that
  // results stay comparable with MediaPipe, which does not smooth hands.
  bool smoothing = false;
  bool static_image_mode = false;
};

// Every failure of the hands layer at its boundary: an unreadable model, an invalid image or option, a
// pose landmark list of the wrong size. The message names the stage and the bad value.
class HandError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The two models of one variant, loaded once per process and shared by every worker.
struct HandModels {
  HandModel variant = HandModel::full;
  std::shared_ptr<const engine::Model> palm_detector;  // palm_detection_{lite,full}.tflite
  std::shared_ptr<const engine::Model> landmarks;      // hand_landmark_{lite,full}.tflite
  // The arithmetic each model's runtimes run in (engine::Precision).
  engine::Precision palm_detector_precision = engine::Precision::kFloat32;
  engine::Precision landmarks_precision = engine::Precision::kFloat32;
};

// Loads both files of `variant` from `models_dir`. Throws engine::ModelError (bad file) or HandError
// (a model whose inputs or outputs do not have the shapes this layer reads).
HandModels load_hand_models(const std::filesystem::path& models_dir, HandModel variant,
                            engine::Precision precision = engine::Precision::kFloat32);

// Sets each model's precision for `requested`: with int8, a model runs int8 only if its int8 outputs keep
// MediaPipe's accuracy on the golden tests (docs/PERFORMANCE.md, "int8"); the others stay float32.
void set_precision(HandModels& models, engine::Precision requested);

class PalmDetector;
class HandLandmarkDetector;

// Per worker thread: the two XNNPACK runtimes (run in turn, their intermediates in one shared
// engine::Workspace), the crop scratch and the palm anchors. Not thread-safe;
// holds no per-stream state, so any stream's HandState can be processed with any worker's runtimes.
class HandRuntimes {
 public:
  // Throws engine::ModelError, HandError. `workspace`: the arena of both runtimes' intermediates, shared
  // with other runtimes that never run at the same time as these; nullptr: one of their own.
  explicit HandRuntimes(const HandModels& models, int threads = 1,
                        std::shared_ptr<engine::Workspace> workspace = nullptr);
  // Both runtimes on `pool`, shared with other workers' runtimes (engine::ThreadPool); nullptr: this thread.
  HandRuntimes(const HandModels& models, std::shared_ptr<engine::ThreadPool> pool,
               std::shared_ptr<engine::Workspace> workspace = nullptr);
  ~HandRuntimes();
  HandRuntimes(HandRuntimes&&) noexcept;
  HandRuntimes& operator=(HandRuntimes&&) noexcept;

  HandModel variant() const { return variant_; }
  PalmDetector& palm_detector() { return *palm_detector_; }
  HandLandmarkDetector& landmark_detector() { return *landmark_detector_; }
  vision::CropScratch& scratch() { return scratch_; }

 private:
  HandModel variant_;
  std::unique_ptr<PalmDetector> palm_detector_;
  std::unique_ptr<HandLandmarkDetector> landmark_detector_;
  vision::CropScratch scratch_;
};

// Per stream: what the previous call tracked, and the optional smoothers. A plain value: it moves
// between workers with its stream.
struct HandState {
  struct TrackedHand {
    int64_t id = 0;              // Stable while the hand is tracked; keys its smoothers.
    vision::NormalizedRect roi;  // The ROI this hand's landmarks give for the next frame.
  };
  std::vector<TrackedHand> tracked;
  int64_t next_id = 1;
  struct Smoothers {
    vision::LandmarksSmoother landmarks;
    vision::LandmarksSmoother world_landmarks;
  };
  std::map<int64_t, Smoothers> smoothers;
  // Pose-assisted mode: the call count (the backoff's clock) and the backoff of each pose wrist.
  struct WristRetry {
    int empty_attempts = 0;       // Consecutive attempts at this wrist's ROI that found no new hand.
    int64_t next_attempt = 0;     // The first frame on which its ROI may be tried again as a new hand.
  };
  int64_t frame = 0;
  std::array<WristRetry, 2> wrists;  // Indexed by vision::HandSide: left, right.

  void reset() { *this = HandState{}; }
  // Forgets the tracked hands (and their smoothers); the next call finds hands anew. The call count and
  // the wrists' backoff stay.
  void drop_tracked() {
    tracked.clear();
    smoothers.clear();
  }
};

struct Hand {
  std::string handedness;                            // "Left" | "Right", as tasks-vision reports it (see above).
  float score = 0.0f;                                // Handedness score, max(p, 1 - p).
  float presence = 0.0f;                             // The hand flag that passed min_presence_confidence.
  std::array<vision::Landmark, 21> landmarks;        // Normalized to the image; z has x's scale.
  std::array<vision::Landmark, 21> world_landmarks;  // Metres, origin near the hand's centre.
  vision::NormalizedRect roi;                        // The ROI the landmarks were found in.
};

struct HandTiming {
  double palm_detector_ms = 0;  // Crop, invoke and decoding, accumulated over calls.
  double landmarks_ms = 0;
  int palm_detector_runs = 0;
  int landmark_runs = 0;
  // Of landmark_runs, those on a tracked hand's pose ROI after its own ROI lost it (pose-assisted mode).
  int fallback_runs = 0;
};

// The landmark model's runs on the ROIs tracked from the previous frame: the first step of a tracking
// frame and the only one that needs no pose landmarks, so a caller can run it alongside the pose (on
// other runtimes) and hand it to finish_hands. A plain value, valid only for the state it came from.
struct TrackedHandRuns {
  // One per tracked ROI the frame runs (state.tracked, clipped to max_num_hands; none in
  // static_image_mode), in order, or only the first few (finish_hands runs the rest): the model's result,
  // or nullopt if the hand flag did not pass.
  std::vector<std::optional<HandLandmarksResult>> results;
  HandTiming timing;   // These runs' share; finish_hands adds it into its `timing`.
  int64_t frame = -1;  // HandState::frame when they ran: finish_hands refuses runs of another frame.
};

// Runs the landmark model on the tracked ROIs of `state`, the first `max_runs` of them at most (does not
// change `state`). Throws HandError (an invalid image or options, runtimes of the other variant) or
// engine::ModelError.
TrackedHandRuns run_tracked_hands(const vision::Image& image, const HandState& state, HandRuntimes& runtimes,
                                  const HandOptions& options, size_t max_runs = SIZE_MAX);

// The rest of track_hands after run_tracked_hands(image, state, runtimes, options, ...) gave
// `tracked_runs` for this very state: the tracked ROIs it left out, palm or pose ROIs, fallbacks,
// association, deduplication, smoothing, the state update. Same results as track_hands; same errors,
// plus HandError for runs of another frame.
std::vector<Hand> finish_hands(const vision::Image& image, int64_t timestamp_us, HandState& state,
                               HandRuntimes& runtimes, const HandOptions& options, TrackedHandRuns tracked_runs,
                               std::span<const vision::Landmark> pose_landmarks = {}, HandTiming* timing = nullptr);

// One frame of one stream; see the behaviour described at the top. `timestamp_us` matters only to the
// smoothing (MediaPipe's VIDEO timestamps: milliseconds x 1000). `pose_landmarks`: empty, or exactly 33
// landmarks. `timing`, if given, is accumulated into. Throws HandError on an invalid image, options or
// pose list, engine::ModelError if XNNPACK fails; `state` is unchanged then. run_tracked_hands, then
// finish_hands.
std::vector<Hand> track_hands(const vision::Image& image, int64_t timestamp_us, HandState& state,
                              HandRuntimes& runtimes, const HandOptions& options,
                              std::span<const vision::Landmark> pose_landmarks = {}, HandTiming* timing = nullptr);

// One stream on one thread: runtimes, state and options together.
class HandTracker {
 public:
  HandTracker(const HandModels& models, HandOptions options, int threads = 1);

  std::vector<Hand> process(const vision::Image& image, int64_t timestamp_us,
                            std::span<const vision::Landmark> pose_landmarks = {}, HandTiming* timing = nullptr) {
    return track_hands(image, timestamp_us, state_, runtimes_, options_, pose_landmarks, timing);
  }
  void reset() { state_.reset(); }
  const HandOptions& options() const { return options_; }

 private:
  HandOptions options_;
  HandRuntimes runtimes_;
  HandState state_;
};

}  // namespace posestream::hands
