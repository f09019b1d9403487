// Reference RESIZE_BILINEAR with TensorFlow's align_corners, half_pixel_centers and legacy coordinates.
#include <algorithm>
#include <cmath>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

// Where one output row (or column) samples the input: two neighbours and the weight of the upper one.
struct Sample {
  int32_t lower = 0;
  int32_t upper = 0;
  double fraction = 0.0;
};

// TF's CalculateResizeScale and scalers; both neighbours are clamped into the input, which is what
// makes the legacy mode repeat the last row instead of reading past it.
std::vector<Sample> samples(int32_t input_size, int32_t output_size, bool align_corners, bool half_pixel_centers) {
  const double scale = align_corners && output_size > 1 ? double(input_size - 1) / double(output_size - 1)
                                                        : double(input_size) / double(output_size);
  std::vector<Sample> result(static_cast<size_t>(output_size));
  for (int32_t i = 0; i < output_size; ++i) {
    const double position = half_pixel_centers ? (i + 0.5) * scale - 0.5 : i * scale;
    const double below = std::floor(position);
    const auto clamp = [input_size](double value) {
      return static_cast<int32_t>(std::clamp(value, 0.0, double(input_size - 1)));
    };
    result[size_t(i)] = Sample{clamp(below), clamp(below + 1.0), position - below};
  }
  return result;
}

}  // namespace

Tensor resize_bilinear(const Tensor& input, int32_t output_height, int32_t output_width, bool align_corners,
                       bool half_pixel_centers) {
  const std::string op = "RESIZE_BILINEAR";
  detail::check_rank(input, 4, op, "input");
  if (align_corners && half_pixel_centers) detail::fail(op, "align_corners and half_pixel_centers are exclusive");
  if (output_height < 1 || output_width < 1 || input.shape[1] < 1 || input.shape[2] < 1) {
    detail::fail(op, "cannot resize " + detail::shape_string(input.shape) + " to " + std::to_string(output_height) +
                         "x" + std::to_string(output_width));
  }
  const int32_t batch = input.shape[0], width = input.shape[2], channels = input.shape[3];
  const std::vector<Sample> rows = samples(input.shape[1], output_height, align_corners, half_pixel_centers);
  const std::vector<Sample> columns = samples(width, output_width, align_corners, half_pixel_centers);
  Tensor output = detail::zeros({batch, output_height, output_width, channels});
  float* out = output.data.data();
  for (int32_t b = 0; b < batch; ++b) {
    const auto pixel = [&](int32_t y, int32_t x) {
      return &input.data[size_t(((int64_t{b} * input.shape[1] + y) * width + x) * channels)];
    };
    for (const Sample& row : rows) {
      for (const Sample& column : columns) {
        const float* top_left = pixel(row.lower, column.lower);
        const float* top_right = pixel(row.lower, column.upper);
        const float* bottom_left = pixel(row.upper, column.lower);
        const float* bottom_right = pixel(row.upper, column.upper);
        for (int32_t c = 0; c < channels; ++c) {
          const double top = top_left[c] + (double{top_right[c]} - top_left[c]) * column.fraction;
          const double bottom = bottom_left[c] + (double{bottom_right[c]} - bottom_left[c]) * column.fraction;
          *out++ = static_cast<float>(top + (bottom - top) * row.fraction);
        }
      }
    }
  }
  return output;
}

}  // namespace posestream::reference
