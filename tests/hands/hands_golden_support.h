// What the hands golden tests share: loading images, matching our hands to MediaPipe's, error figures.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "golden/golden.h"
#include "hands/hands.h"
#include <map>
#include <mutex>
#include <utility>

#include "test_paths.h"
#include "vision/decode.h"

namespace posestream::hands::testing {

// The golden criteria (per matched hand).
inline constexpr double kMaxMeanDistance = 0.01;       // Normalized x, y, mean over the 21 landmarks.
inline constexpr double kMaxMaxDistance = 0.03;        // Normalized x, y, worst landmark.
inline constexpr double kMaxWorldMeanDistance = 0.02;  // Metres, 3D, mean over the 21 landmarks.

// Two hands whose landmarks are this close (mean, normalized x, y) are the same hand.
inline constexpr double kSameHandDistance = 0.03;

struct Gates {
  double mean_2d, max_2d, world_mean_3d;
};
// float32 keeps the criteria above. int8 must stay within issue 15's gates of MediaPipe's own outputs:
// mean landmark error 0.005, worst 0.02 (normalized), world landmarks within 1 cm.
inline Gates gates_for(engine::Precision precision) {
  if (precision == engine::Precision::kInt8) return {0.005, 0.02, 0.01};
  return {kMaxMeanDistance, kMaxMaxDistance, kMaxWorldMeanDistance};
}

// Each variant's models, loaded once per test program (per precision: int8 runs the models that keep
// MediaPipe's accuracy in int8, see load_hand_models).
inline const HandModels& shared_models(HandModel variant,
                                       engine::Precision precision = engine::Precision::kFloat32) {
  static std::map<std::pair<HandModel, engine::Precision>, HandModels> loaded;
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  auto found = loaded.find({variant, precision});
  if (found == loaded.end()) {
    found = loaded.emplace(std::pair{variant, precision},
                           load_hand_models(posestream::testing::models_dir(), variant, precision)).first;
  }
  return found->second;
}

inline const char* variant_name(HandModel variant) { return variant == HandModel::lite ? "lite" : "full"; }

// Throws std::runtime_error when the file cannot be read or decoded.
inline vision::Image read_image(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  vision::DecodeResult decoded = vision::decode_image(bytes);
  if (!decoded.ok()) throw std::runtime_error(path.string() + ": " + decoded.error);
  return std::move(decoded.image);
}

struct HandComparison {
  double mean_2d = 0;
  double max_2d = 0;
  double world_mean_3d = 0;
  bool handedness_matches = false;
  std::string ours_label;
  float ours_score = 0;
  std::string golden_label;
  float golden_score = 0;

  bool within_tolerance() const {
    return mean_2d <= kMaxMeanDistance && max_2d <= kMaxMaxDistance && world_mean_3d <= kMaxWorldMeanDistance;
  }
};

inline HandComparison compare_hand(const Hand& ours, const golden::Person& golden) {
  HandComparison error;
  const size_t count = std::min(ours.landmarks.size(), golden.landmarks.size());
  for (size_t k = 0; k < count; ++k) {
    const double distance =
        std::hypot(ours.landmarks[k].x - golden.landmarks[k].x, ours.landmarks[k].y - golden.landmarks[k].y);
    error.mean_2d += distance / static_cast<double>(count);
    error.max_2d = std::max(error.max_2d, distance);
  }
  const size_t world_count = std::min(ours.world_landmarks.size(), golden.world_landmarks.size());
  for (size_t k = 0; k < world_count; ++k) {
    const vision::Landmark& a = ours.world_landmarks[k];
    const vision::Landmark& b = golden.world_landmarks[k];
    error.world_mean_3d += std::sqrt(std::pow(a.x - b.x, 2.0) + std::pow(a.y - b.y, 2.0) + std::pow(a.z - b.z, 2.0)) /
                           static_cast<double>(world_count);
  }
  if (count == 0 || world_count == 0) error.mean_2d = error.max_2d = error.world_mean_3d = 1e9;
  error.ours_label = ours.handedness;
  error.ours_score = ours.score;
  if (golden.handedness) {
    error.golden_label = golden.handedness->label;
    error.golden_score = golden.handedness->score;
  }
  error.handedness_matches = error.ours_label == error.golden_label;
  return error;
}

inline double mean_distance(const Hand& ours, const golden::Person& golden) {
  return compare_hand(ours, golden).mean_2d;
}

// Pairs each golden hand with one of ours, minimizing the summed mean landmark distance over all
// assignments (at most a handful of hands). result[g] is the index into `ours`, or nullopt when there
// are fewer of ours than golden hands.
inline std::vector<std::optional<size_t>> match_hands(const std::vector<Hand>& ours,
                                                      const std::vector<golden::Person>& golden) {
  std::vector<size_t> order(std::max(ours.size(), golden.size()));
  std::iota(order.begin(), order.end(), 0);
  std::vector<std::optional<size_t>> best(golden.size());
  double best_cost = std::numeric_limits<double>::infinity();
  do {
    double cost = 0;
    std::vector<std::optional<size_t>> assignment(golden.size());
    for (size_t g = 0; g < golden.size(); ++g) {
      if (order[g] < ours.size()) {
        assignment[g] = order[g];
        cost += mean_distance(ours[order[g]], golden[g]);
      } else {
        cost += 1e6;  // Unmatched golden hand.
      }
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = assignment;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  return best;
}

inline std::string describe(const HandComparison& error) {
  std::ostringstream text;
  text << std::scientific << std::setprecision(2) << "mean " << error.mean_2d << " max " << error.max_2d << " world "
       << error.world_mean_3d << " | ours " << error.ours_label << " " << std::fixed << std::setprecision(3)
       << error.ours_score << " golden " << error.golden_label << " " << error.golden_score;
  return text.str();
}

// An independent reference for the sequence: the sequence's frames are one photo moved by a known affine
// per frame (seq_*.affine.json), so MediaPipe's IMAGE-mode hand on that photo (results/<photo>/hand_*.json),
// mapped through each frame's affine, says where the hand is in every frame. Both use continuous pixel
// coordinates (a normalized landmark (x, y) is the point (x * W, y * H)). One Person per frame.
inline std::vector<golden::Person> affine_reference(const std::filesystem::path& affine_json, HandModel variant) {
  std::ifstream in(affine_json);
  if (!in) throw std::runtime_error("cannot open " + affine_json.string());
  const nlohmann::json affine = nlohmann::json::parse(in);
  const std::string photo = std::filesystem::path(affine.at("source").get<std::string>()).stem().string();
  const golden::ImageResult source = golden::load_image_result(photo, std::string("hand_") + variant_name(variant));
  if (source.people.size() != 1) throw std::runtime_error(photo + ": the reference photo must show one hand");
  const double frame_width = affine.at("frame_size").at(0).get<double>();
  const double frame_height = affine.at("frame_size").at(1).get<double>();
  std::vector<golden::Person> reference;
  for (const auto& frame : affine.at("frames")) {
    const auto& m = frame.at("matrix");
    golden::Person person = source.people.front();
    for (vision::Landmark& landmark : person.landmarks) {
      const double x = landmark.x * source.width;
      const double y = landmark.y * source.height;
      landmark.x = static_cast<float>((m[0][0].get<double>() * x + m[0][1].get<double>() * y + m[0][2].get<double>()) /
                                      frame_width);
      landmark.y = static_cast<float>((m[1][0].get<double>() * x + m[1][1].get<double>() * y + m[1][2].get<double>()) /
                                      frame_height);
    }
    reference.push_back(std::move(person));
  }
  return reference;
}

// Mean and max normalized 2D distance between a hand and reference landmarks (no world landmarks).
inline std::pair<double, double> landmark_distance(const Hand& ours, const golden::Person& reference) {
  const HandComparison error = compare_hand(ours, reference);
  return {error.mean_2d, error.max_2d};
}

inline std::vector<vision::Landmark> pose_landmarks_of(const golden::Frame& frame) {
  if (frame.people.empty()) return {};
  return frame.people.front().landmarks;
}

}  // namespace posestream::hands::testing
