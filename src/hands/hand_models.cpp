// Loading a hand model variant, and the per-worker HandRuntimes and per-stream HandTracker that hold it.
#include <string>
#include <utility>

#include "hands/hand_landmarks.h"
#include "hands/hands.h"
#include "hands/palm_detector.h"

namespace posestream::hands {

HandModels load_hand_models(const std::filesystem::path& models_dir, HandModel variant, engine::Precision precision) {
  const std::string suffix = variant == HandModel::lite ? "lite" : "full";
  HandModels models;
  models.variant = variant;
  models.palm_detector = engine::Model::load(models_dir / ("palm_detection_" + suffix + ".tflite"));
  models.landmarks = engine::Model::load(models_dir / ("hand_landmark_" + suffix + ".tflite"));
  set_precision(models, precision);
  return models;
}

void set_precision(HandModels& models, engine::Precision requested) {
  // Measured on the golden photos and the tracked sequence (docs/PERFORMANCE.md, "int8"). Both landmark
  // models keep every gate in int8 (the full one since only 1x1 convolutions of 96 or more output channels
  // run int8; with all of them it kept a second, spurious hand on one sequence frame). The palm detectors
  // do not: in int8 the lite one lost the hand on sequence frames, the full one flipped a handedness near
  // 0.5 (gesture_rock_18e2) and failed the tracked sequence's gates too.
  const bool int8 = requested == engine::Precision::kInt8;
  models.palm_detector_precision = engine::Precision::kFloat32;
  models.landmarks_precision = int8 ? engine::Precision::kInt8 : engine::Precision::kFloat32;
}

namespace {

engine::RuntimeOptions with_precision(engine::RuntimeOptions options, engine::Precision precision) {
  options.precision = precision;
  return options;
}

void check_models(const HandModels& models) {
  if (models.palm_detector == nullptr || models.landmarks == nullptr) {
    throw HandError("hands: HandModels without a palm detector or landmark model");
  }
}

}  // namespace

HandRuntimes::HandRuntimes(const HandModels& models, int threads, std::shared_ptr<engine::Workspace> workspace)
    : variant_(models.variant) {
  check_models(models);
  if (threads < 1) {
    throw HandError("hands: threads must be >= 1, got " + std::to_string(threads));
  }
  const engine::RuntimeOptions threading{.threads = threads,
                                         .workspace = engine::own_if_null(std::move(workspace))};
  palm_detector_ =
      std::make_unique<PalmDetector>(models.palm_detector, with_precision(threading, models.palm_detector_precision));
  landmark_detector_ =
      std::make_unique<HandLandmarkDetector>(models.landmarks, with_precision(threading, models.landmarks_precision));
}

HandRuntimes::HandRuntimes(const HandModels& models, std::shared_ptr<engine::ThreadPool> pool,
                           std::shared_ptr<engine::Workspace> workspace)
    : variant_(models.variant) {
  check_models(models);
  const engine::RuntimeOptions threading{.pool = std::move(pool),
                                         .workspace = engine::own_if_null(std::move(workspace))};
  palm_detector_ =
      std::make_unique<PalmDetector>(models.palm_detector, with_precision(threading, models.palm_detector_precision));
  landmark_detector_ =
      std::make_unique<HandLandmarkDetector>(models.landmarks, with_precision(threading, models.landmarks_precision));
}

HandRuntimes::~HandRuntimes() = default;
HandRuntimes::HandRuntimes(HandRuntimes&&) noexcept = default;
HandRuntimes& HandRuntimes::operator=(HandRuntimes&&) noexcept = default;

HandTracker::HandTracker(const HandModels& models, HandOptions options, int threads)
    : options_(options), runtimes_(models, threads) {}

}  // namespace posestream::hands
