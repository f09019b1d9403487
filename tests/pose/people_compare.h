// Helpers shared by the multi-person tests: MediaPipe's multi goldens, and matching people as a set.
#pragma once

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "golden/golden.h"
#include "pose/people.h"
#include "pose_compare.h"
#include "test_paths.h"

namespace posestream::pose::testing {

// The gates for every matched person (issue 16: the single-person gates, mean <= 0.005 and
// max <= 0.02 normalized over the landmarks MediaPipe sees, visibility > 0.5), world as pose_compare.h.
inline constexpr double kPeopleMaxMean2d = 0.005;
inline constexpr double kPeopleMaxMax2d = 0.02;
inline constexpr double kPeopleMaxWorldMean3d = kMaxWorldMean3d;
// Landmarks 0-24 (face, arms, hips: not the legs, often out of frame) decide who is who.
inline constexpr size_t kMatchLandmarks = 25;

inline std::filesystem::path multi_dir() { return posestream::testing::shared_dir() / "golden" / "multi"; }

// Mean normalized distance over landmarks 0-24 between our person and MediaPipe's.
inline double match_distance(const Pose& ours, const golden::Person& theirs) {
  double sum = 0;
  for (size_t i = 0; i < kMatchLandmarks; ++i) {
    sum += std::hypot(double{ours.landmarks[i].x} - theirs.landmarks[i].x,
                      double{ours.landmarks[i].y} - theirs.landmarks[i].y);
  }
  return sum / kMatchLandmarks;
}

// The same between two of MediaPipe's people (following its people from frame to frame).
inline double golden_distance(const golden::Person& a, const golden::Person& b) {
  double sum = 0;
  for (size_t i = 0; i < kMatchLandmarks; ++i) {
    sum += std::hypot(double{a.landmarks[i].x} - b.landmarks[i].x, double{a.landmarks[i].y} - b.landmarks[i].y);
  }
  return sum / kMatchLandmarks;
}

// The assignment of MediaPipe's people to ours minimising the total match_distance (every permutation:
// at most kMaxNumPoses! and in practice 4! = 24). pairs[t] = our index for their person t, or nullopt
// when we have fewer people or the best pair is farther than `max_distance`.
inline std::vector<std::optional<size_t>> match_people(const std::vector<Person>& ours,
                                                       const std::vector<golden::Person>& theirs,
                                                       double max_distance) {
  const size_t slots = std::max(ours.size(), theirs.size());
  std::vector<size_t> order(slots);
  std::iota(order.begin(), order.end(), size_t{0});
  std::vector<size_t> best = order;
  double best_cost = std::numeric_limits<double>::infinity();
  const auto cost_of = [&](size_t t, size_t o) {
    // A missing person on either side costs as much as a pair too far apart.
    return t < theirs.size() && o < ours.size() ? std::min(match_distance(ours[o].pose, theirs[t]), max_distance)
                                                : max_distance;
  };
  do {
    double cost = 0;
    for (size_t t = 0; t < slots; ++t) cost += cost_of(t, order[t]);
    if (cost < best_cost) {
      best_cost = cost;
      best = order;
    }
  } while (std::next_permutation(order.begin(), order.end()));
  std::vector<std::optional<size_t>> pairs(theirs.size());
  for (size_t t = 0; t < theirs.size(); ++t) {
    if (best[t] < ours.size() && match_distance(ours[best[t]].pose, theirs[t]) < max_distance) pairs[t] = best[t];
  }
  return pairs;
}

}  // namespace posestream::pose::testing
