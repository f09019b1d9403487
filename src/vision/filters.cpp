// Low-pass, One Euro, landmark and visibility smoothing with MediaPipe's float/double arithmetic.
#include "vision/filters.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace posestream::vision {
namespace {

constexpr double kEpsilon = 0.000001;

// absl::Microseconds(us) then ToInt64Nanoseconds: saturates instead of overflowing.
int64_t to_nanoseconds(int64_t microseconds) {
  constexpr int64_t limit = std::numeric_limits<int64_t>::max() / 1000;
  if (microseconds > limit) return std::numeric_limits<int64_t>::max();
  if (microseconds < -limit) return std::numeric_limits<int64_t>::min();
  return microseconds * 1000;
}

OneEuroOptions one_euro(float min_cutoff, float beta, float derivate_cutoff) {
  OneEuroOptions options;
  options.min_cutoff = min_cutoff;
  options.beta = beta;
  options.derivate_cutoff = derivate_cutoff;
  return options;
}

// GetObjectScale(LandmarkList): the mean side of the landmarks' axis-aligned bounding box.
float bounding_box_scale(std::span<const Landmark> landmarks) {
  const auto [min_x, max_x] = std::minmax_element(landmarks.begin(), landmarks.end(),
                                                  [](const Landmark& a, const Landmark& b) { return a.x < b.x; });
  const auto [min_y, max_y] = std::minmax_element(landmarks.begin(), landmarks.end(),
                                                  [](const Landmark& a, const Landmark& b) { return a.y < b.y; });
  return ((max_x->x - min_x->x) + (max_y->y - min_y->y)) / 2.0f;
}

}  // namespace

LowPassFilter::LowPassFilter(float alpha) { set_alpha(alpha); }

float LowPassFilter::apply(float value) {
  float result = value;
  if (initialized_) {
    // (1.0 - alpha_) is a double in MediaPipe, so the sum is computed in double.
    result = static_cast<float>(alpha_ * value + (1.0 - alpha_) * stored_value_);
  } else {
    initialized_ = true;
  }
  raw_value_ = value;
  stored_value_ = result;
  return result;
}

float LowPassFilter::apply_with_alpha(float value, float alpha) {
  set_alpha(alpha);
  return apply(value);
}

void LowPassFilter::set_alpha(float alpha) {
  if (alpha < 0.0f || alpha > 1.0f) {
    return;
  }
  alpha_ = alpha;
}

OneEuroFilter::OneEuroFilter(double frequency, double min_cutoff, double beta, double derivate_cutoff)
    : beta_(beta), x_(1.0f), dx_(1.0f) {
  if (frequency > kEpsilon) frequency_ = frequency;
  if (min_cutoff > kEpsilon) min_cutoff_ = min_cutoff;
  if (derivate_cutoff > kEpsilon) derivate_cutoff_ = derivate_cutoff;
}

double OneEuroFilter::apply(int64_t timestamp_us, double value_scale, double value) {
  const int64_t timestamp_ns = to_nanoseconds(timestamp_us);
  if (last_time_ns_ >= timestamp_ns) {
    return value;
  }
  if (last_time_ns_ != 0 && timestamp_ns != 0) {
    constexpr double kNanosecondsToSeconds = 1e-9;
    frequency_ = 1.0 / ((timestamp_ns - last_time_ns_) * kNanosecondsToSeconds);
  }
  last_time_ns_ = timestamp_ns;

  const double derivative =
      x_.has_last_raw_value() ? (value - x_.last_raw_value()) * value_scale * frequency_ : 0.0;
  const double smoothed_derivative =
      dx_.apply_with_alpha(static_cast<float>(derivative), static_cast<float>(alpha(derivate_cutoff_)));
  const double cutoff = min_cutoff_ + beta_ * std::fabs(smoothed_derivative);
  return x_.apply_with_alpha(static_cast<float>(value), static_cast<float>(alpha(cutoff)));
}

double OneEuroFilter::alpha(double cutoff) const {
  const double te = 1.0 / frequency_;
  const double tau = 1.0 / (2 * std::numbers::pi * cutoff);
  return 1.0 / (1.0 + tau / te);
}

OneEuroOptions pose_landmark_smoothing_options() { return one_euro(0.05f, 80.0f, 1.0f); }

OneEuroOptions pose_world_landmark_smoothing_options() {
  OneEuroOptions options = one_euro(0.1f, 40.0f, 1.0f);
  options.disable_value_scaling = true;
  return options;
}

OneEuroOptions pose_auxiliary_landmark_smoothing_options() { return one_euro(0.01f, 10.0f, 1.0f); }

float object_scale(const NormalizedRect& roi, ImageSize image) {
  const float object_width = roi.width * image.width;
  const float object_height = roi.height * image.height;
  return (object_width + object_height) / 2.0f;
}

LandmarksSmoother::LandmarksSmoother(const OneEuroOptions& options) : options_(options) {}

void LandmarksSmoother::reset() {
  x_filters_.clear();
  y_filters_.clear();
  z_filters_.clear();
}

std::vector<Landmark> LandmarksSmoother::apply(std::span<const Landmark> landmarks, int64_t timestamp_us,
                                               ImageSize image, const std::optional<NormalizedRect>& object_scale_roi) {
  std::vector<Landmark> pixels(landmarks.begin(), landmarks.end());
  for (Landmark& landmark : pixels) {
    landmark.x = landmark.x * image.width;
    landmark.y = landmark.y * image.height;
    landmark.z = landmark.z * image.width;  // z has the scale of x.
  }
  std::optional<float> scale;
  if (object_scale_roi) {
    scale = object_scale(*object_scale_roi, image);
  }
  std::vector<Landmark> filtered = filter(pixels, timestamp_us, scale);
  for (Landmark& landmark : filtered) {
    landmark.x = landmark.x / image.width;
    landmark.y = landmark.y / image.height;
    landmark.z = landmark.z / image.width;
  }
  return filtered;
}

std::vector<Landmark> LandmarksSmoother::apply_absolute(std::span<const Landmark> landmarks, int64_t timestamp_us,
                                                        std::optional<float> object_scale) {
  return filter(landmarks, timestamp_us, object_scale);
}

std::vector<Landmark> LandmarksSmoother::filter(std::span<const Landmark> landmarks, int64_t timestamp_us,
                                                std::optional<float> object_scale) {
  if (landmarks.empty()) {
    reset();
    return {};
  }
  if (x_filters_.size() != landmarks.size()) {
    reset();
    const OneEuroFilter prototype(options_.frequency, options_.min_cutoff, options_.beta, options_.derivate_cutoff);
    x_filters_.assign(landmarks.size(), prototype);
    y_filters_.assign(landmarks.size(), prototype);
    z_filters_.assign(landmarks.size(), prototype);
  }
  std::vector<Landmark> out(landmarks.begin(), landmarks.end());
  float value_scale = 1.0f;
  if (!options_.disable_value_scaling) {
    const float scale = object_scale ? *object_scale : bounding_box_scale(landmarks);
    if (scale < options_.min_allowed_object_scale) {
      return out;
    }
    value_scale = 1.0f / scale;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].x = static_cast<float>(x_filters_[i].apply(timestamp_us, value_scale, landmarks[i].x));
    out[i].y = static_cast<float>(y_filters_[i].apply(timestamp_us, value_scale, landmarks[i].y));
    out[i].z = static_cast<float>(z_filters_[i].apply(timestamp_us, value_scale, landmarks[i].z));
  }
  return out;
}

VisibilitySmoother::VisibilitySmoother(float alpha) : alpha_(alpha) {}

std::vector<Landmark> VisibilitySmoother::apply(std::span<const Landmark> landmarks) {
  if (landmarks.empty()) {
    reset();
    return {};
  }
  if (filters_.size() != landmarks.size()) {
    filters_.assign(landmarks.size(), LowPassFilter(alpha_));
  }
  std::vector<Landmark> out(landmarks.begin(), landmarks.end());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].visibility = filters_[i].apply(landmarks[i].visibility);
  }
  return out;
}

}  // namespace posestream::vision
