// Public API of the pose layer: MediaPipe Tasks' PoseLandmarker (one pose) in IMAGE and VIDEO modes.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "pose/joint_angles.h"
#include "vision/crop.h"
#include "vision/filters.h"
#include "vision/geometry.h"
#include "vision/image.h"
#include "vision/ssd.h"

namespace posestream::pose {

inline constexpr size_t kPoseLandmarkCount = 33;
// The segmentation mask's side in pixels of the ROI crop (the landmark model's input size).
inline constexpr int kSegmentationSide = 256;

enum class PoseModel { lite, full, heavy };

const char* model_name(PoseModel model) noexcept;  // "lite", "full", "heavy"
std::optional<PoseModel> parse_pose_model(std::string_view name) noexcept;

struct PoseOptions {
  PoseModel model = PoseModel::full;
  // Pose detector score threshold (Tasks' minPoseDetectionConfidence): a detection scoring below it is
  // dropped.
  float min_detection_confidence = 0.5f;
  // Pose-flag (presence) threshold: a pose is reported only when the landmark model's flag is above
  // it, and in VIDEO mode the detector runs again on the frame after one where it was not. Tasks calls
  // it minPosePresenceConfidence (Tasks' own minTrackingConfidence has no effect with one pose).
  float min_tracking_confidence = 0.5f;
  bool smoothing = true;  // VIDEO mode only (static_image_mode never smooths), as Tasks.
  // Also compute the segmentation mask. Takes effect only with runtimes created with segmentation.
  bool segmentation = false;
  // IMAGE mode: every call is an unrelated image (detector every time, no tracking, no smoothing).
  // Otherwise VIDEO mode: the previous frame's landmarks give this frame's ROI.
  bool static_image_mode = false;
};

// The two models of one variant, loaded once per process and shared by every worker's runtimes.
struct PoseModels {
  std::shared_ptr<const engine::Model> detector;
  std::shared_ptr<const engine::Model> landmarks;
  // The arithmetic each model's runtimes run in (engine::Precision).
  engine::Precision detector_precision = engine::Precision::kFloat32;
  engine::Precision landmarks_precision = engine::Precision::kFloat32;
};

// Sets each model's precision for `requested`: with int8, a model runs int8 only if its int8 outputs keep
// MediaPipe's accuracy on the golden tests (docs/PERFORMANCE.md, "int8"); the others stay float32.
void set_precision(PoseModels& models, PoseModel variant, engine::Precision requested);

// Loads models_dir/pose_detection.tflite and models_dir/pose_landmark_<variant>.tflite, at `precision`
// (set_precision). Throws engine::ModelError naming the file.
PoseModels load_pose_models(const std::filesystem::path& models_dir, PoseModel model,
                            engine::Precision precision = engine::Precision::kFloat32);

// Per worker thread: the engine runtimes of both models (which run in turn, so their intermediate tensors
// share one engine::Workspace), the crop scratch and the detector's anchors.
// Not thread-safe; holds no per-stream state, so any stream may run on any worker's runtimes.
class PoseRuntimes {
 public:
  // `threads` is each runtime's own pool size (1 = the calling thread only). `segmentation` false skips
  // the landmark model's segmentation head (about a third of its cost). Throws engine::ModelError when
  // the models' inputs or outputs do not have the shapes the pose graph needs. `workspace`: the arena of
  // both runtimes' intermediates, shared with other runtimes that never run at the same time as these
  // (e.g. the same worker's hands); nullptr: one of their own.
  PoseRuntimes(const PoseModels& models, int threads = 1, bool segmentation = false,
               std::shared_ptr<engine::Workspace> workspace = nullptr);
  // The same with both runtimes on `pool`, shared with other workers' runtimes (see engine::ThreadPool;
  // the runtimes keep it alive). nullptr: the calling thread only.
  PoseRuntimes(const PoseModels& models, std::shared_ptr<engine::ThreadPool> pool, bool segmentation = false,
               std::shared_ptr<engine::Workspace> workspace = nullptr);

  bool computes_segmentation() const noexcept { return segmentation_; }

  // Stage access for the pose layer's own stages (pose_detector.h, pose_landmarks.h).
  engine::Runtime& detector() noexcept { return detector_; }
  engine::Runtime& landmarks() noexcept { return landmarks_; }
  std::span<const vision::Anchor> anchors() const noexcept { return anchors_; }
  vision::CropScratch& scratch() noexcept { return scratch_; }

 private:
  // `threading`: its threads and pool; its outputs are ignored.
  PoseRuntimes(const PoseModels& models, const engine::RuntimeOptions& threading, bool segmentation);

  engine::Runtime detector_;
  engine::Runtime landmarks_;
  std::vector<vision::Anchor> anchors_;
  vision::CropScratch scratch_;
  bool segmentation_ = false;
};

// Per stream: what tracking carries from one frame to the next. Default-constructible and movable, so a
// stream's state can move between workers between frames.
struct PoseState {
  std::optional<vision::NormalizedRect> previous_roi;  // From the last frame's raw auxiliary landmarks.
  vision::VisibilitySmoother visibility{0.1f};
  vision::VisibilitySmoother world_visibility{0.1f};
  vision::LandmarksSmoother landmarks{vision::pose_landmark_smoothing_options()};
  vision::LandmarksSmoother world_landmarks{vision::pose_world_landmark_smoothing_options()};
  std::optional<int64_t> last_timestamp_us;

  void reset() { *this = PoseState{}; }
};

struct Pose {
  float score = 0.0f;  // The landmark model's pose flag (raw, as Tasks thresholds it).
  // Normalized to the image: x, y in [0, 1] inside it, z with the scale of x (relative depth, hips ~0).
  // visibility is smoothed in VIDEO mode; presence never is.
  std::array<vision::Landmark, kPoseLandmarkCount> landmarks{};
  // Metres, origin between the hips; visibility and presence copied from `landmarks`.
  std::array<vision::Landmark, kPoseLandmarkCount> world_landmarks{};
  JointAngles angles;
  // Empty unless requested. Otherwise kSegmentationSide^2 probabilities (sigmoid of the model's
  // logits), row-major, in the ROI crop: pixel (u, v) covers the point of `roi` at normalized
  // (u + 0.5, v + 0.5) / kSegmentationSide, i.e. the same frame the landmark model saw. Tasks warps it
  // to image size; we leave that to whoever draws it, since it costs a full-image warp per frame.
  std::vector<float> segmentation_mask;
  vision::NormalizedRect roi;  // The ROI the landmarks were computed in (rotation in radians).
};

struct PoseTiming {
  double detector_ms = 0;
  double landmarks_ms = 0;
  double smoothing_ms = 0;
  bool detector_ran = false;
  bool landmarks_ran = false;  // The landmark model ran (there was a croppable ROI), whether or not it found a pose.
};

// One frame. IMAGE mode (static_image_mode) runs the detector every call and never smooths. VIDEO mode
// follows Tasks' tracking gate: the detector runs only when the previous frame gave no pose, otherwise
// the ROI comes from the previous frame's landmarks; smoothing (if on) filters landmarks and world
// landmarks with One Euro filters keyed by `timestamp_us` (microseconds, expected to increase; a
// non-increasing one returns unsmoothed values and leaves the filters as they were).
// Returns nullopt when no pose was found. Throws engine::ModelError if inference fails, and
// std::invalid_argument (naming the stage and value) for an invalid image.
std::optional<Pose> track_pose(const vision::Image& image, int64_t timestamp_us, PoseState& state,
                               PoseRuntimes& runtimes, const PoseOptions& options, PoseTiming* timing = nullptr);

// One stream with its own runtimes, for the CLI and tests.
class PoseTracker {
 public:
  PoseTracker(const PoseModels& models, const PoseOptions& options, int threads = 1)
      : runtimes_(models, threads, options.segmentation), options_(options) {}
  PoseTracker(const PoseModels& models, const PoseOptions& options, std::shared_ptr<engine::ThreadPool> pool)
      : runtimes_(models, std::move(pool), options.segmentation), options_(options) {}

  std::optional<Pose> process(const vision::Image& image, int64_t timestamp_us, PoseTiming* timing = nullptr) {
    return track_pose(image, timestamp_us, state_, runtimes_, options_, timing);
  }
  void reset() { state_.reset(); }
  const PoseOptions& options() const noexcept { return options_; }
  const PoseState& state() const noexcept { return state_; }

 private:
  PoseRuntimes runtimes_;
  PoseState state_;
  PoseOptions options_;
};

}  // namespace posestream::pose
