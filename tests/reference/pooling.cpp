// Reference MAX_POOL_2D and MEAN.
#include <algorithm>
#include <limits>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

// The maximum of one channel over the part of the window that lies inside the input.
double window_max(const Tensor& input, int32_t b, int32_t c, int64_t top, int64_t left, int32_t window_height,
                  int32_t window_width) {
  const int32_t height = input.shape[1], width = input.shape[2], channels = input.shape[3];
  double best = -std::numeric_limits<double>::infinity();
  for (int64_t y = std::max<int64_t>(top, 0); y < std::min<int64_t>(top + window_height, height); ++y) {
    for (int64_t x = std::max<int64_t>(left, 0); x < std::min<int64_t>(left + window_width, width); ++x) {
      best = std::max(best, double{input.data[size_t(((int64_t{b} * height + y) * width + x) * channels + c)]});
    }
  }
  return best;
}

// Normalized, deduplicated axes as a per-dimension flag.
std::vector<bool> reduced_dims(const std::vector<int32_t>& axes, size_t rank) {
  std::vector<bool> reduced(rank, false);
  for (int32_t axis : axes) {
    const int64_t normalized = axis < 0 ? int64_t{axis} + int64_t(rank) : axis;
    if (normalized < 0 || normalized >= int64_t(rank)) {
      detail::fail("MEAN", "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    }
    reduced[size_t(normalized)] = true;
  }
  return reduced;
}

}  // namespace

Tensor max_pool_2d(const Tensor& input, const engine::OpOptions& options) {
  detail::check_rank(input, 4, "MAX_POOL_2D", "input");
  const Window rows = compute_window(input.shape[1], options.filter_height, options.stride_height, 1, options.padding);
  const Window columns = compute_window(input.shape[2], options.filter_width, options.stride_width, 1, options.padding);
  Tensor output = detail::zeros({input.shape[0], rows.output, columns.output, input.shape[3]});
  float* out = output.data.data();
  for (int32_t b = 0; b < input.shape[0]; ++b) {
    for (int32_t oy = 0; oy < rows.output; ++oy) {
      const int64_t top = int64_t{oy} * options.stride_height - rows.pad_before;
      for (int32_t ox = 0; ox < columns.output; ++ox) {
        const int64_t left = int64_t{ox} * options.stride_width - columns.pad_before;
        for (int32_t c = 0; c < input.shape[3]; ++c) {
          *out++ = activate(window_max(input, b, c, top, left, options.filter_height, options.filter_width),
                            options.activation);
        }
      }
    }
  }
  return output;
}

Tensor mean(const Tensor& input, const std::vector<int32_t>& axes, bool keep_dims) {
  detail::check_tensor(input, "MEAN", "input");
  const size_t rank = input.shape.size();
  const std::vector<bool> reduced = reduced_dims(axes, rank);
  // Sum into an output indexed like the input with reduced dims collapsed to 1 (stride 0).
  std::vector<int32_t> kept_shape = input.shape;
  for (size_t d = 0; d < rank; ++d) {
    if (reduced[d]) kept_shape[d] = 1;
  }
  std::vector<int64_t> output_strides = detail::strides_of(kept_shape);
  for (size_t d = 0; d < rank; ++d) {
    if (reduced[d]) output_strides[d] = 0;
  }
  const Tensor kept = detail::zeros(kept_shape);
  std::vector<double> sums(kept.data.size(), 0.0);
  std::vector<int32_t> index(rank, 0);
  for (float value : input.data) {
    int64_t offset = 0;
    for (size_t d = 0; d < rank; ++d) offset += index[d] * output_strides[d];
    sums[size_t(offset)] += value;
    for (size_t d = rank; d-- > 0;) {  // Advance the row-major index.
      if (++index[d] < input.shape[d]) break;
      index[d] = 0;
    }
  }
  const double count = double(input.element_count()) / double(std::max<int64_t>(kept.element_count(), 1));
  Tensor output{{}, std::vector<float>(sums.size())};
  for (size_t i = 0; i < sums.size(); ++i) output.data[i] = static_cast<float>(sums[i] / count);
  for (size_t d = 0; d < rank; ++d) {
    if (keep_dims || !reduced[d]) output.shape.push_back(kept_shape[d]);
  }
  return output;
}

}  // namespace posestream::reference
