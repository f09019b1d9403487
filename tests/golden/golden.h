// Loading MediaPipe's golden results (tasks-vision JSON) and locating the photos and frames they describe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_paths.h"
#include "vision/geometry.h"

namespace posestream::golden {

// tasks-vision's handedness[i][0]: categoryName "Left"/"Right", its score and index.
struct Handedness {
  std::string label;
  float score = 0.0f;
  int index = -1;
};

// One person (pose) or one hand, as MediaPipe reported it. Landmarks carry visibility and presence
// where the task reports them (pose); absent fields read as 0.
struct Person {
  std::vector<vision::Landmark> landmarks;
  std::vector<vision::Landmark> world_landmarks;
  std::optional<Handedness> handedness;  // hands only
};

// One IMAGE-mode result file: results/<image>/<task>_<variant>.json.
struct ImageResult {
  std::string image_file;  // e.g. "messi5.jpg"
  int width = 0;
  int height = 0;
  std::vector<Person> people;
};

struct Frame {
  int index = 0;
  std::string file;  // as recorded, e.g. "seq_gesture_four_06aa/frame_000.jpg"
  int64_t timestamp_ms = -1;  // -1 where the file has none (IMAGE-mode sequences record null)
  std::vector<Person> people;
};

// One per-frame sequence file: tests/data/golden/sequences/<task>_<variant>_video.json (VIDEO mode), or
// ../shared/golden/sequences/<sequence>/<task>_<variant>_{video,image}.json.
struct Sequence {
  std::string name;  // e.g. "seq_gesture_four_06aa"
  std::string mode;  // "VIDEO" or "IMAGE"
  int width = 0;
  int height = 0;
  std::vector<Frame> frames;
};

inline std::filesystem::path golden_dir() { return testing::test_data_dir() / "golden"; }
inline std::filesystem::path results_dir() { return golden_dir() / "results"; }
inline std::filesystem::path sequences_dir() { return golden_dir() / "sequences"; }

namespace detail {

inline nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("golden: cannot open " + path.string());
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& error) {
    throw std::runtime_error("golden: " + path.string() + ": " + error.what());
  }
}

inline vision::Landmark landmark_from(const nlohmann::json& value) {
  vision::Landmark landmark;
  landmark.x = value.at("x").get<float>();
  landmark.y = value.at("y").get<float>();
  landmark.z = value.at("z").get<float>();
  landmark.visibility = value.value("visibility", 0.0f);
  landmark.presence = value.value("presence", 0.0f);
  return landmark;
}

inline std::vector<vision::Landmark> landmarks_from(const nlohmann::json& list) {
  std::vector<vision::Landmark> landmarks;
  for (const auto& value : list) landmarks.push_back(landmark_from(value));
  return landmarks;
}

// tasks-vision's `result` object -> one Person per entry of result.landmarks.
inline std::vector<Person> people_from(const nlohmann::json& result) {
  std::vector<Person> people;
  const auto& landmarks = result.at("landmarks");
  const auto& world = result.at("worldLandmarks");
  for (size_t i = 0; i < landmarks.size(); ++i) {
    Person person;
    person.landmarks = landmarks_from(landmarks[i]);
    if (i < world.size()) person.world_landmarks = landmarks_from(world[i]);
    if (result.contains("handedness") && i < result["handedness"].size() &&
        !result["handedness"][i].empty()) {
      const auto& category = result["handedness"][i][0];
      person.handedness = Handedness{category.at("categoryName").get<std::string>(),
                                     category.at("score").get<float>(), category.value("index", -1)};
    }
    people.push_back(std::move(person));
  }
  return people;
}

}  // namespace detail

inline ImageResult load_image_result(const std::filesystem::path& path) {
  const nlohmann::json json = detail::read_json(path);
  ImageResult result;
  result.image_file = json.at("image").at("file").get<std::string>();
  result.width = json.at("image").at("width").get<int>();
  result.height = json.at("image").at("height").get<int>();
  result.people = detail::people_from(json.at("result"));
  return result;
}

// e.g. load_image_result("messi5", "pose_full").
inline ImageResult load_image_result(const std::string& image_stem, const std::string& task_variant) {
  return load_image_result(results_dir() / image_stem / (task_variant + ".json"));
}

inline Sequence load_sequence(const std::filesystem::path& path) {
  const nlohmann::json json = detail::read_json(path);
  Sequence sequence;
  sequence.name = json.at("sequence").get<std::string>();
  sequence.mode = json.value("mode", "");
  sequence.width = json.at("frameSize").at(0).get<int>();
  sequence.height = json.at("frameSize").at(1).get<int>();
  for (const auto& value : json.at("frames")) {
    Frame frame;
    frame.index = value.at("index").get<int>();
    frame.file = value.at("file").get<std::string>();
    const auto& timestamp = value.at("timestampMs");
    if (timestamp.is_number()) frame.timestamp_ms = timestamp.get<int64_t>();
    frame.people = detail::people_from(value.at("result"));
    sequence.frames.push_back(std::move(frame));
  }
  return sequence;
}

// e.g. load_sequence_named("pose_full_video").
inline Sequence load_sequence_named(const std::string& task_variant_mode) {
  return load_sequence(sequences_dir() / (task_variant_mode + ".json"));
}

// The image stems that have a results folder (sorted), e.g. {"basketball1", "clock_hands", ...}.
inline std::vector<std::string> result_image_stems() {
  std::vector<std::string> stems;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(results_dir(), error)) {
    if (entry.is_directory()) stems.push_back(entry.path().filename().string());
  }
  std::sort(stems.begin(), stems.end());
  return stems;
}

// A golden photo: tests/data/images/NAME (Debian's photos, scripts/fetch-test-images), else
// ../shared/golden/images/NAME (MediaPipe's test data, never committed). nullopt when neither exists.
inline std::optional<std::filesystem::path> find_image(const std::string& file_name) {
  for (const auto& dir : {testing::test_data_dir() / "images", testing::shared_dir() / "golden" / "images"}) {
    const auto path = dir / file_name;
    if (std::filesystem::is_regular_file(path)) return path;
  }
  return std::nullopt;
}

// A sequence frame as recorded in Frame::file ("seq_X/frame_NNN.jpg"): the frames live in
// ../shared/golden/sequences/frames_seq_X/frame_NNN.jpg. nullopt when absent.
inline std::optional<std::filesystem::path> find_sequence_frame(const std::string& recorded_file) {
  const std::filesystem::path recorded(recorded_file);
  const auto folder = "frames_" + recorded.parent_path().filename().string();
  const auto path = testing::shared_dir() / "golden" / "sequences" / folder / recorded.filename();
  if (std::filesystem::is_regular_file(path)) return path;
  return std::nullopt;
}

}  // namespace posestream::golden

// In a TEST body: declares `variable` (std::filesystem::path) for golden photo `file_name`, or skips the
// test saying which photo is missing and where it was looked for.
#define POSESTREAM_GOLDEN_IMAGE_OR_SKIP(variable, file_name)                                            \
  const auto variable##_found = ::posestream::golden::find_image(file_name);                           \
  if (!variable##_found) {                                                                             \
    GTEST_SKIP() << "golden photo " << (file_name) << " not found in tests/data/images (run "          \
                 << "scripts/fetch-test-images) nor in ../shared/golden/images";                       \
  }                                                                                                    \
  const std::filesystem::path variable = *variable##_found
