// ModelLibrary: loads each model file at most once per process, on first use, and shares it read-only.
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "hands/hands.h"
#include "pose/pose.h"

namespace posestream::stream {

// "lite" | "full": the hands layer has no name table of its own, and the protocol needs one.
const char* hand_model_name(hands::HandModel model) noexcept;
std::optional<hands::HandModel> parse_hand_model(std::string_view name) noexcept;

// Thread-safe. Loading is lazy (a variant nobody asks for is never read) and happens once per file:
// pose_detection.tflite is shared by the three pose variants. Each file has its own lock, so a slow
// load (heavy: ~28 MB) does not hold up callers asking for a model that is already loaded. A failed load
// is not remembered: the next call tries again and throws again.
class ModelLibrary {
 public:
  // `precision`: what pose() and hands() ask their models to run in (pose::set_precision,
  // hands::set_precision decide per model).
  explicit ModelLibrary(std::filesystem::path models_dir, engine::Precision precision = engine::Precision::kFloat32);

  const std::filesystem::path& models_dir() const noexcept { return models_dir_; }
  engine::Precision precision() const noexcept { return precision_; }

  // models_dir/pose_detection.tflite + pose_landmark_<variant>.tflite. Throws engine::ModelError
  // naming the file.
  pose::PoseModels pose(pose::PoseModel variant);
  // models_dir/palm_detection_<variant>.tflite + hand_landmark_<variant>.tflite. Throws
  // engine::ModelError naming the file.
  hands::HandModels hands(hands::HandModel variant);

  // One file of models_dir, by name (e.g. "pose_detection.tflite"). Throws engine::ModelError.
  std::shared_ptr<const engine::Model> model(const std::string& file_name);

  // Files loaded so far (successfully), for tests and /healthz.
  std::size_t loaded_count() const;

 private:
  struct Entry {
    std::mutex mutex;  // Held while this one file loads.
    std::shared_ptr<const engine::Model> model;
  };

  std::filesystem::path models_dir_;
  engine::Precision precision_;
  mutable std::mutex mutex_;  // Guards entries_ (the map), not the loads.
  std::map<std::string, std::shared_ptr<Entry>, std::less<>> entries_;
};

}  // namespace posestream::stream
