// Reference CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED: direct loops, double accumulators.
#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

// Where one output pixel's window lands in the input; taps outside the input read implicit zeros.
struct Geometry {
  int32_t batch = 0, input_height = 0, input_width = 0, input_channels = 0;
  int32_t kernel_height = 0, kernel_width = 0;
  Window rows, columns;
  const engine::OpOptions* options = nullptr;

  // Input row of kernel row `ky` for output row `oy`; may fall outside [0, input_height).
  int64_t input_row(int32_t oy, int32_t ky) const {
    return int64_t{oy} * options->stride_height - rows.pad_before + int64_t{ky} * options->dilation_height;
  }
  int64_t input_column(int32_t ox, int32_t kx) const {
    return int64_t{ox} * options->stride_width - columns.pad_before + int64_t{kx} * options->dilation_width;
  }
  size_t input_offset(int32_t b, int64_t y, int64_t x) const {
    return static_cast<size_t>(((int64_t{b} * input_height + y) * input_width + x) * input_channels);
  }
};

Geometry make_geometry(const Tensor& input, int32_t kernel_height, int32_t kernel_width,
                       const engine::OpOptions& options) {
  Geometry geometry{input.shape[0], input.shape[1], input.shape[2], input.shape[3], kernel_height, kernel_width, {}, {},
                    &options};
  geometry.rows = compute_window(geometry.input_height, kernel_height, options.stride_height, options.dilation_height,
                                 options.padding);
  geometry.columns =
      compute_window(geometry.input_width, kernel_width, options.stride_width, options.dilation_width, options.padding);
  return geometry;
}

// One output pixel of CONV_2D: for each output channel, the dot product over the window and all inputs.
void conv_pixel(const Geometry& geometry, const Tensor& input, const Tensor& filter, int32_t b, int32_t oy, int32_t ox,
                std::vector<double>& sums) {
  const int32_t channels = geometry.input_channels;
  for (size_t oc = 0; oc < sums.size(); ++oc) {
    double sum = 0.0;
    for (int32_t ky = 0; ky < geometry.kernel_height; ++ky) {
      const int64_t y = geometry.input_row(oy, ky);
      if (y < 0 || y >= geometry.input_height) continue;
      for (int32_t kx = 0; kx < geometry.kernel_width; ++kx) {
        const int64_t x = geometry.input_column(ox, kx);
        if (x < 0 || x >= geometry.input_width) continue;
        const float* pixel = &input.data[geometry.input_offset(b, y, x)];
        const float* taps = &filter.data[static_cast<size_t>(
            ((oc * geometry.kernel_height + ky) * geometry.kernel_width + kx) * channels)];
        for (int32_t ic = 0; ic < channels; ++ic) sum += double{pixel[ic]} * double{taps[ic]};
      }
    }
    sums[oc] += sum;
  }
}

// One output pixel of DEPTHWISE_CONV_2D: output channel c*M+m sees only input channel c.
void depthwise_pixel(const Geometry& geometry, const Tensor& input, const Tensor& filter, int32_t multiplier, int32_t b,
                     int32_t oy, int32_t ox, std::vector<double>& sums) {
  const size_t output_channels = sums.size();
  for (int32_t ky = 0; ky < geometry.kernel_height; ++ky) {
    const int64_t y = geometry.input_row(oy, ky);
    if (y < 0 || y >= geometry.input_height) continue;
    for (int32_t kx = 0; kx < geometry.kernel_width; ++kx) {
      const int64_t x = geometry.input_column(ox, kx);
      if (x < 0 || x >= geometry.input_width) continue;
      const float* pixel = &input.data[geometry.input_offset(b, y, x)];
      const float* taps = &filter.data[(size_t(ky) * geometry.kernel_width + kx) * output_channels];
      for (size_t oc = 0; oc < output_channels; ++oc) sums[oc] += double{pixel[oc / multiplier]} * double{taps[oc]};
    }
  }
}

// Runs `pixel` over every output position, starting each from the bias and applying the activation.
template <typename PixelFunction>
Tensor for_each_output_pixel(const Geometry& geometry, int32_t output_channels, const Tensor& bias,
                             PixelFunction pixel) {
  Tensor output = detail::zeros({geometry.batch, geometry.rows.output, geometry.columns.output, output_channels});
  std::vector<double> sums(static_cast<size_t>(output_channels));
  float* out = output.data.data();
  for (int32_t b = 0; b < geometry.batch; ++b) {
    for (int32_t oy = 0; oy < geometry.rows.output; ++oy) {
      for (int32_t ox = 0; ox < geometry.columns.output; ++ox) {
        for (size_t oc = 0; oc < sums.size(); ++oc) sums[oc] = bias.data.empty() ? 0.0 : double{bias.data[oc]};
        pixel(b, oy, ox, sums);
        for (double sum : sums) *out++ = activate(sum, geometry.options->activation);
      }
    }
  }
  return output;
}

}  // namespace

Tensor conv_2d(const Tensor& input, const Tensor& filter, const Tensor& bias, const engine::OpOptions& options) {
  const std::string op = "CONV_2D";
  detail::check_rank(input, 4, op, "input");
  detail::check_rank(filter, 4, op, "filter");
  if (filter.shape[3] != input.shape[3]) {
    detail::fail(op, "filter " + detail::shape_string(filter.shape) + " does not match input " +
                         detail::shape_string(input.shape) + " channels");
  }
  const int32_t output_channels = filter.shape[0];
  detail::check_bias(bias, output_channels, op);
  const Geometry geometry = make_geometry(input, filter.shape[1], filter.shape[2], options);
  return for_each_output_pixel(geometry, output_channels, bias,
                               [&](int32_t b, int32_t oy, int32_t ox, std::vector<double>& sums) {
                                 conv_pixel(geometry, input, filter, b, oy, ox, sums);
                               });
}

Tensor depthwise_conv_2d(const Tensor& input, const Tensor& filter, const Tensor& bias,
                         const engine::OpOptions& options) {
  const std::string op = "DEPTHWISE_CONV_2D";
  detail::check_rank(input, 4, op, "input");
  detail::check_rank(filter, 4, op, "filter");
  const int32_t multiplier = options.depth_multiplier;
  if (multiplier < 1 || filter.shape[0] != 1 || int64_t{filter.shape[3]} != int64_t{input.shape[3]} * multiplier) {
    detail::fail(op, "filter " + detail::shape_string(filter.shape) + " does not match input " +
                         detail::shape_string(input.shape) + " with depth multiplier " + std::to_string(multiplier));
  }
  const int32_t output_channels = filter.shape[3];
  detail::check_bias(bias, output_channels, op);
  const Geometry geometry = make_geometry(input, filter.shape[1], filter.shape[2], options);
  return for_each_output_pixel(geometry, output_channels, bias,
                               [&](int32_t b, int32_t oy, int32_t ox, std::vector<double>& sums) {
                                 depthwise_pixel(geometry, input, filter, multiplier, b, oy, ox, sums);
                               });
}

Tensor fully_connected(const Tensor& input, const Tensor& weights, const Tensor& bias, engine::Activation activation) {
  const std::string op = "FULLY_CONNECTED";
  detail::check_tensor(input, op, "input");
  detail::check_rank(weights, 2, op, "weights");
  const int32_t outputs = weights.shape[0], depth = weights.shape[1];
  if (depth < 1 || input.element_count() % depth != 0) {
    detail::fail(
        op, "input " + detail::shape_string(input.shape) + " does not flatten to rows of " + std::to_string(depth));
  }
  detail::check_bias(bias, outputs, op);
  const auto batch = static_cast<int32_t>(input.element_count() / depth);
  Tensor output = detail::zeros({batch, outputs});
  for (int32_t b = 0; b < batch; ++b) {
    const float* row = &input.data[size_t(b) * depth];
    for (int32_t o = 0; o < outputs; ++o) {
      const float* weight_row = &weights.data[size_t(o) * depth];
      double sum = bias.data.empty() ? 0.0 : double{bias.data[size_t(o)]};
      for (int32_t i = 0; i < depth; ++i) sum += double{row[i]} * double{weight_row[i]};
      output.data[size_t(b) * outputs + o] = activate(sum, activation);
    }
  }
  return output;
}

}  // namespace posestream::reference
