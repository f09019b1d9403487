// Temporal smoothing as MediaPipe: low-pass and One Euro filters, landmark and visibility smoothers.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "vision/geometry.h"

namespace posestream::vision {

// util/filtering/low_pass_filter.cc: an exponential moving average in float. The first value passes
// through. An alpha outside [0, 1] is ignored, keeping the previous one (1 before any valid one).
class LowPassFilter {
 public:
  explicit LowPassFilter(float alpha);
  float apply(float value);
  float apply_with_alpha(float value, float alpha);
  bool has_last_raw_value() const noexcept { return initialized_; }
  float last_raw_value() const noexcept { return raw_value_; }
  float last_value() const noexcept { return stored_value_; }

 private:
  void set_alpha(float alpha);

  float alpha_ = 1.0f;
  float raw_value_ = 0.0f;
  float stored_value_ = 0.0f;
  bool initialized_ = false;
};

// util/filtering/one_euro_filter.cc. Timestamps are microseconds, converted to nanoseconds as
// absl::Duration does (saturating). The rate comes from the last two timestamps (the constructor's
// `frequency` until then); a timestamp not after the previous one (or <= 0 on the first call) returns
// the value unfiltered and changes nothing. The derivative uses the previous raw value, scaled by
// value_scale. A frequency, min_cutoff or derivate_cutoff <= 1e-6 is ignored, keeping the defaults
// 30 Hz, 1 Hz and 1 Hz (MediaPipe leaves them uninitialized).
class OneEuroFilter {
 public:
  OneEuroFilter(double frequency, double min_cutoff, double beta, double derivate_cutoff);
  double apply(int64_t timestamp_us, double value_scale, double value);

 private:
  double alpha(double cutoff) const;

  double frequency_ = 30.0;
  double min_cutoff_ = 1.0;
  double beta_ = 0.0;
  double derivate_cutoff_ = 1.0;
  LowPassFilter x_;
  LowPassFilter dx_;
  int64_t last_time_ns_ = 0;
};

// LandmarksSmoothingCalculatorOptions::OneEuroFilter. Fields are float as in the proto, so the filters
// see the same double values (0.05f, not 0.05) as MediaPipe's.
struct OneEuroOptions {
  float frequency = 30.0f;  // Hz, the rate assumed until two timestamps give one.
  float min_cutoff = 1.0f;
  float beta = 0.0f;
  float derivate_cutoff = 1.0f;
  float min_allowed_object_scale = 1e-6f;  // A smaller object scale returns landmarks unfiltered.
  bool disable_value_scaling = false;      // Value scale 1 instead of 1 / object scale.
};

// modules/pose_landmark/pose_landmark_filtering.pbtxt.
OneEuroOptions pose_landmark_smoothing_options();            // 0.05, 80, 1.
OneEuroOptions pose_world_landmark_smoothing_options();      // 0.1, 40, 1, value scaling disabled.
OneEuroOptions pose_auxiliary_landmark_smoothing_options();  // 0.01, 10, 1.

// GetObjectScale(NormalizedRect, width, height): the rect's mean side in pixels.
float object_scale(const NormalizedRect& roi, ImageSize image);

// LandmarksSmoothingCalculator's One Euro path: one filter per landmark and axis, created on the first
// list. visibility and presence pass through. An empty list resets the filters and returns empty.
// A list of another length than the filters' restarts them (MediaPipe fails the graph instead).
class LandmarksSmoother {
 public:
  explicit LandmarksSmoother(const OneEuroOptions& options);

  // Image landmarks normalized to `image`, filtered in pixels (x * width, y * height, z * width) and
  // returned normalized. The value scale is 1 / object_scale(*object_scale_roi, image), or without a ROI
  // 1 / the mean side of the landmarks' own bounding box in pixels. The pose graph passes, for both the
  // landmarks and the auxiliary landmarks, rect_from_alignment_points(raw aux 33, raw aux 34, image,
  // pi / 2): unscaled, from this frame's unsmoothed auxiliary landmarks.
  std::vector<Landmark> apply(std::span<const Landmark> landmarks, int64_t timestamp_us, ImageSize image,
                              const std::optional<NormalizedRect>& object_scale_roi);

  // Landmarks in absolute units (world landmarks, metres), filtered as they are. Without an explicit
  // object scale, the landmarks' bounding box gives it (irrelevant when value scaling is disabled).
  std::vector<Landmark> apply_absolute(std::span<const Landmark> landmarks, int64_t timestamp_us,
                                       std::optional<float> object_scale = std::nullopt);

  void reset();

 private:
  std::vector<Landmark> filter(std::span<const Landmark> landmarks, int64_t timestamp_us,
                               std::optional<float> object_scale);

  OneEuroOptions options_;
  std::vector<OneEuroFilter> x_filters_;
  std::vector<OneEuroFilter> y_filters_;
  std::vector<OneEuroFilter> z_filters_;
};

// VisibilitySmoothingCalculator with a low-pass filter (alpha 0.1 in the pose graph): smooths
// visibility only, per landmark, ignoring timestamps. An empty list resets; a list of another length
// restarts the filters.
class VisibilitySmoother {
 public:
  explicit VisibilitySmoother(float alpha = 0.1f);
  std::vector<Landmark> apply(std::span<const Landmark> landmarks);
  void reset() { filters_.clear(); }

 private:
  float alpha_;
  std::vector<LowPassFilter> filters_;
};

}  // namespace posestream::vision
