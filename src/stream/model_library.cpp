// ModelLibrary: one load per model file per process, with a lock per file.
#include "stream/model_library.h"

#include <string>
#include <utility>

namespace posestream::stream {

const char* hand_model_name(hands::HandModel model) noexcept {
  return model == hands::HandModel::lite ? "lite" : "full";
}

std::optional<hands::HandModel> parse_hand_model(std::string_view name) noexcept {
  if (name == "lite") return hands::HandModel::lite;
  if (name == "full") return hands::HandModel::full;
  return std::nullopt;
}

ModelLibrary::ModelLibrary(std::filesystem::path models_dir, engine::Precision precision)
    : models_dir_(std::move(models_dir)), precision_(precision) {}

pose::PoseModels ModelLibrary::pose(pose::PoseModel variant) {
  pose::PoseModels models;
  models.detector = model("pose_detection.tflite");
  models.landmarks = model(std::string("pose_landmark_") + pose::model_name(variant) + ".tflite");
  pose::set_precision(models, variant, precision_);
  return models;
}

hands::HandModels ModelLibrary::hands(hands::HandModel variant) {
  const std::string suffix = hand_model_name(variant);
  hands::HandModels models;
  models.variant = variant;
  models.palm_detector = model("palm_detection_" + suffix + ".tflite");
  models.landmarks = model("hand_landmark_" + suffix + ".tflite");
  hands::set_precision(models, precision_);
  return models;
}

std::shared_ptr<const engine::Model> ModelLibrary::model(const std::string& file_name) {
  std::shared_ptr<Entry> entry;
  {
    const std::lock_guard lock(mutex_);
    auto& slot = entries_[file_name];
    if (slot == nullptr) slot = std::make_shared<Entry>();
    entry = slot;
  }
  const std::lock_guard lock(entry->mutex);
  if (entry->model == nullptr) entry->model = engine::Model::load(models_dir_ / file_name);
  return entry->model;
}

std::size_t ModelLibrary::loaded_count() const {
  const std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (const auto& [name, entry] : entries_) {
    const std::lock_guard entry_lock(entry->mutex);
    if (entry->model != nullptr) ++count;
  }
  return count;
}

}  // namespace posestream::stream
