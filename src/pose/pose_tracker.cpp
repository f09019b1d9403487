// The pose tracker: model loading, per-worker runtimes, and one frame of Tasks' PoseLandmarker graph.
#include <chrono>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "pose/pose.h"
#include "pose/pose_detector.h"
#include "pose/pose_landmarks.h"
#include "pose/pose_track_step.h"

namespace posestream::pose {

namespace {

engine::Runtime make_runtime(std::shared_ptr<const engine::Model> model, const engine::RuntimeOptions& threading,
                             std::vector<std::string> outputs, engine::Precision precision) {
  engine::RuntimeOptions options;
  options.threads = threading.threads;
  options.pool = threading.pool;
  options.workspace = threading.workspace;
  options.outputs = std::move(outputs);
  options.precision = precision;
  return engine::Runtime(std::move(model), std::move(options));
}

const std::shared_ptr<const engine::Model>& checked_detector(const PoseModels& models) {
  if (!models.detector) throw engine::ModelError("pose: no pose detector model loaded");
  check_detector_model(*models.detector);
  return models.detector;
}

const std::shared_ptr<const engine::Model>& checked_landmarks(const PoseModels& models) {
  if (!models.landmarks) throw engine::ModelError("pose: no pose landmark model loaded");
  check_landmark_model(*models.landmarks);
  return models.landmarks;
}

std::vector<vision::Anchor> pose_anchors() {
  vision::AnchorsResult result = vision::generate_anchors(vision::pose_detector_anchor_options());
  if (!result.ok() || result.anchors.size() != kDetectorAnchorCount) {
    throw engine::ModelError("pose: detector anchors: " +
                             (result.ok() ? std::to_string(result.anchors.size()) + " anchors" : result.error));
  }
  return std::move(result.anchors);
}

// A frame without a pose: tracking restarts from the detector. Only the image-landmark One Euro filter
// resets (its image-size input still ticks in Tasks); the world and visibility filters see no packet and
// keep their state for when the pose comes back (tasks_facts P24).
void lose_track(PoseState& state) {
  state.previous_roi.reset();
  state.landmarks.reset();
}

// vision::OneEuroFilter, like MediaPipe's stored one_euro_filter.cc, starts with a last time of 0, so a
// first frame at t = 0 is "not after the last one" and passes through without initialising the filters.
// tasks-vision 1.1.0 does initialise them on a t = 0 first frame: its VIDEO golden matches frame 1 to
// 3e-4 that way and misses by 7e-3 (lite, mean 2D) otherwise. Shifting every smoothing timestamp by 1 us
// keeps all time differences, hence every frequency and output, and only makes the first frame count.
constexpr int64_t kSmoothingTimestampShiftUs = 1;

// Tasks' smoothing chain for the one pose (P22): visibility low-pass, then One Euro with the object scale
// of the next-frame ROI from the raw auxiliary landmarks; world landmarks the same with their own filters.
void smooth(PoseState& state, PoseLandmarksResult& result, int64_t timestamp_us, vision::ImageSize size,
            const std::optional<vision::NormalizedRect>& object_scale_roi) {
  const int64_t filter_time_us =
      timestamp_us < std::numeric_limits<int64_t>::max() ? timestamp_us + kSmoothingTimestampShiftUs : timestamp_us;
  result.landmarks = state.landmarks.apply(state.visibility.apply(result.landmarks), filter_time_us, size,
                                           object_scale_roi);
  result.world = state.world_landmarks.apply_absolute(state.world_visibility.apply(result.world), filter_time_us);
}

Pose make_pose(PoseLandmarksResult&& result, const vision::NormalizedRect& roi) {
  Pose pose;
  pose.score = result.flag;
  pose.roi = roi;
  for (size_t i = 0; i < kPoseLandmarkCount; ++i) {
    pose.landmarks[i] = result.landmarks[i];
    pose.world_landmarks[i] = result.world[i];
  }
  pose.angles = joint_angles(pose.world_landmarks);
  pose.segmentation_mask = std::move(result.segmentation);
  return pose;
}

// The ROI for this frame: the previous frame's in VIDEO mode, else the detector's best.
std::optional<vision::NormalizedRect> frame_roi(const vision::Image& image, const PoseState& state,
                                                PoseRuntimes& runtimes, const PoseOptions& options,
                                                PoseTiming& timing) {
  if (!options.static_image_mode && state.previous_roi) return state.previous_roi;
  const auto start = std::chrono::steady_clock::now();
  const std::vector<PoseDetection> detections = detect_poses(image, runtimes.detector(), runtimes.anchors(),
                                                             runtimes.scratch(), options.min_detection_confidence);
  timing.detector_ms = milliseconds_since(start);
  timing.detector_ran = true;
  if (detections.empty()) return std::nullopt;
  return detections.front().roi;  // numPoses 1: the top weighted-NMS detection.
}

}  // namespace

const char* model_name(PoseModel model) noexcept {
  switch (model) {
    case PoseModel::lite: return "lite";
    case PoseModel::full: return "full";
    case PoseModel::heavy: return "heavy";
  }
  return "unknown";
}

std::optional<PoseModel> parse_pose_model(std::string_view name) noexcept {
  for (const PoseModel model : {PoseModel::lite, PoseModel::full, PoseModel::heavy}) {
    if (name == model_name(model)) return model;
  }
  return std::nullopt;
}

void set_precision(PoseModels& models, PoseModel /*variant*/, engine::Precision /*requested*/) {
  // No pose model keeps MediaPipe's accuracy in int8 (docs/PERFORMANCE.md, "int8"). On the golden photos,
  // with only the detector in int8 the world landmarks moved 0.9-14 cm (gate: 1 cm) and image landmarks up
  // to 0.077 (gate: 0.02), its box alone moving the landmark ROI enough; with only the landmark model in
  // int8, 1.6-19 cm and 0.16. Both stay float32.
  models.detector_precision = engine::Precision::kFloat32;
  models.landmarks_precision = engine::Precision::kFloat32;
}

PoseModels load_pose_models(const std::filesystem::path& models_dir, PoseModel model, engine::Precision precision) {
  PoseModels models;
  models.detector = engine::Model::load(models_dir / "pose_detection.tflite");
  models.landmarks = engine::Model::load(models_dir / ("pose_landmark_" + std::string(model_name(model)) + ".tflite"));
  set_precision(models, model, precision);
  return models;
}

PoseRuntimes::PoseRuntimes(const PoseModels& models, int threads, bool segmentation,
                           std::shared_ptr<engine::Workspace> workspace)
    : PoseRuntimes(models,
                   engine::RuntimeOptions{.threads = threads,
                                          .workspace = engine::own_if_null(std::move(workspace))},
                   segmentation) {}

PoseRuntimes::PoseRuntimes(const PoseModels& models, std::shared_ptr<engine::ThreadPool> pool, bool segmentation,
                           std::shared_ptr<engine::Workspace> workspace)
    : PoseRuntimes(models,
                   engine::RuntimeOptions{.pool = std::move(pool),
                                          .workspace = engine::own_if_null(std::move(workspace))},
                   segmentation) {}

PoseRuntimes::PoseRuntimes(const PoseModels& models, const engine::RuntimeOptions& threading, bool segmentation)
    : detector_(make_runtime(checked_detector(models), threading, {}, models.detector_precision)),
      landmarks_(make_runtime(checked_landmarks(models), threading,
                              landmark_outputs_to_compute(*models.landmarks, segmentation), models.landmarks_precision)),
      anchors_(pose_anchors()),
      segmentation_(segmentation) {}

std::optional<Pose> track_roi(const vision::Image& image, std::optional<vision::NormalizedRect> roi,
                              int64_t timestamp_us, PoseState& state, PoseRuntimes& runtimes,
                              const PoseOptions& options, PoseTiming& times) {
  const bool video = !options.static_image_mode;
  const vision::ImageSize size{image.width, image.height};
  auto start = std::chrono::steady_clock::now();
  std::optional<PoseLandmarksResult> result;
  if (roi) {
    result = run_pose_landmarks(image, *roi, runtimes.landmarks(), runtimes.scratch(), options.min_tracking_confidence,
                                options.segmentation && runtimes.computes_segmentation());
  }
  times.landmarks_ms = milliseconds_since(start);
  times.landmarks_ran = result.has_value();  // run_pose_landmarks gives nothing only when it ran nothing.
  if (video) state.last_timestamp_us = timestamp_us;
  if (!result || !result->present) {
    if (video) lose_track(state);
    return std::nullopt;
  }

  const std::optional<vision::NormalizedRect> next_roi = next_frame_roi(result->auxiliary, size);
  if (video) {
    state.previous_roi = next_roi;
    if (options.smoothing) {
      start = std::chrono::steady_clock::now();
      smooth(state, *result, timestamp_us, size, next_roi);
      times.smoothing_ms = milliseconds_since(start);
    }
  }
  return make_pose(std::move(*result), *roi);
}

void check_pose_image(const vision::Image& image) {
  if (!image.is_valid()) {
    throw std::invalid_argument("pose: invalid image " + std::to_string(image.width) + "x" +
                                std::to_string(image.height) + " with " + std::to_string(image.pixels.size()) +
                                " bytes");
  }
}

std::optional<Pose> track_pose(const vision::Image& image, int64_t timestamp_us, PoseState& state,
                               PoseRuntimes& runtimes, const PoseOptions& options, PoseTiming* timing) {
  check_pose_image(image);
  PoseTiming local_timing;
  PoseTiming& times = timing != nullptr ? *timing : local_timing;
  times = PoseTiming{};
  const std::optional<vision::NormalizedRect> roi = frame_roi(image, state, runtimes, options, times);
  return track_roi(image, roi, timestamp_us, state, runtimes, options, times);
}

}  // namespace posestream::pose
