// CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED as XNNPACK nodes (explicit padding, fused clamp, int8 CONV_2D).
#include <algorithm>
#include <vector>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {
namespace {

// The bias value of a conv-like op: the file's, or none.
uint32_t bias_value(SubgraphBuilder& builder, const Operation& operation) {
  if (operation.inputs.size() > 2 && operation.inputs[2] >= 0) return builder.weight(operation.inputs[2]);
  return XNN_INVALID_VALUE_ID;
}

struct Window2D {
  SpatialPadding vertical, horizontal;
  uint32_t kernel_height = 1, kernel_width = 1;
};

// Padding of a windowed op from its input [N,H,W,C] and output [N,OH,OW,C'] shapes.
Window2D window(const SubgraphBuilder& builder, const Operation& operation, int32_t kernel_height,
                int32_t kernel_width) {
  const auto& input = builder.tensor(operation.inputs[0]).shape;
  const auto& output = builder.tensor(operation.outputs[0]).shape;
  const OpOptions& options = operation.options;
  Window2D result;
  result.vertical = spatial_padding(options.padding, input[1], output[1], kernel_height, options.stride_height,
                                    options.dilation_height);
  result.horizontal =
      spatial_padding(options.padding, input[2], output[2], kernel_width, options.stride_width, options.dilation_width);
  result.kernel_height = static_cast<uint32_t>(kernel_height);
  result.kernel_width = static_cast<uint32_t>(kernel_width);
  return result;
}

// Dynamic-range int8 pays for itself only in wide products: quantizing a pixel's input costs about as
// much per input channel whatever the output, while the int8 product saves per input channel and output
// channel. Under about 96 output channels the conversion ate the gain (`bench models --precision f32
// int8` with thresholds 0, 48, 64, 96, 128, 192, synthetic inputs: hand_landmark_lite 0.92x the speed of
// f32 with every 1x1 convolution in int8, 1.05-1.08x from 96 up; pose_landmark_lite 0.89x and 1.08-1.19x).
constexpr size_t kInt8MinOutputChannels = 96;

// A 1x1 CONV_2D with stride 1 and no padding is a matrix product over pixels. In int8 it becomes a fully
// connected node whose input is quantized per pixel, not per image: a pixel's channels share a scale, so
// one bright region does not coarsen the rest of the image (per-image scales moved pose landmarks by up
// to 0.13 of the image on the golden photos; docs/PERFORMANCE.md, "int8").
bool is_pointwise(const std::vector<int32_t>& filter, const OpOptions& options, const Window2D& w, size_t groups) {
  return filter[1] == 1 && filter[2] == 1 && options.stride_height == 1 && options.stride_width == 1 &&
         options.dilation_height == 1 && options.dilation_width == 1 && groups == 1 && w.vertical.before == 0 &&
         w.vertical.after == 0 && w.horizontal.before == 0 && w.horizontal.after == 0;
}

void define_int8_pointwise(SubgraphBuilder& builder, const Operation& operation) {
  const std::vector<size_t> input_shape = dims_of(builder.tensor(operation.inputs[0]).shape);
  const auto& filter = builder.tensor(operation.inputs[1]).shape;
  const auto [output_min, output_max] = activation_range(operation.options.activation);
  const uint32_t input = builder.dynamically_quantized(builder.value(operation.inputs[0]), input_shape,
                                                       /*quantized_dims=*/1, operation);
  const std::vector<size_t> matrix = {static_cast<size_t>(filter[0]), static_cast<size_t>(filter[3])};
  const uint32_t weights = builder.int8_filter(operation.inputs[1], matrix, operation);
  const uint32_t bias = bias_value(builder, operation);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(
      xnn_define_fully_connected(builder.subgraph(), output_min, output_max, input, weights, bias, output, 0),
      operation, "xnn_define_fully_connected (int8 1x1 convolution)");
}

}  // namespace

void define_conv_2d(SubgraphBuilder& builder, const Operation& operation) {
  const auto& filter = builder.tensor(operation.inputs[1]).shape;  // [O, KH, KW, I per group]
  const auto input_channels = static_cast<size_t>(builder.tensor(operation.inputs[0]).shape[3]);
  const auto output_channels = static_cast<size_t>(filter[0]);
  const size_t group_input_channels = static_cast<size_t>(filter[3]);
  const size_t groups = input_channels / group_input_channels;
  const Window2D w = window(builder, operation, filter[1], filter[2]);
  const OpOptions& options = operation.options;
  // Dynamic-range int8 (engine.h, Precision) for the wide 1x1 convolutions, the bulk of these models'
  // work; narrow ones and wider kernels (the first layer's 3x3 on the image) stay float32.
  if (builder.precision() == Precision::kInt8 && is_pointwise(filter, options, w, groups) &&
      output_channels >= kInt8MinOutputChannels) {
    define_int8_pointwise(builder, operation);
    return;
  }
  const auto [output_min, output_max] = activation_range(operation.options.activation);
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t weights = builder.weight(operation.inputs[1]);
  const uint32_t bias = bias_value(builder, operation);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_convolution_2d(
                    builder.subgraph(), w.vertical.before, w.horizontal.after, w.vertical.after, w.horizontal.before,
                    w.kernel_height, w.kernel_width, static_cast<uint32_t>(options.stride_height),
                    static_cast<uint32_t>(options.stride_width), static_cast<uint32_t>(options.dilation_height),
                    static_cast<uint32_t>(options.dilation_width), static_cast<uint32_t>(groups), group_input_channels,
                    output_channels / groups, output_min, output_max, input, weights, bias, output, 0),
                operation, "xnn_define_convolution_2d");
}

void define_depthwise_conv_2d(SubgraphBuilder& builder, const Operation& operation) {
  const auto& filter = builder.tensor(operation.inputs[1]).shape;  // [1, KH, KW, C * M]
  const auto input_channels = static_cast<size_t>(builder.tensor(operation.inputs[0]).shape[3]);
  const auto output_channels = static_cast<size_t>(filter[3]);
  // The multiplier follows from the shapes; some converters write a stale depth_multiplier option.
  const auto multiplier = static_cast<uint32_t>(output_channels / input_channels);
  const Window2D w = window(builder, operation, filter[1], filter[2]);
  const auto [output_min, output_max] = activation_range(operation.options.activation);
  const OpOptions& options = operation.options;
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t weights = builder.weight(operation.inputs[1]);
  const uint32_t bias = bias_value(builder, operation);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_depthwise_convolution_2d(
                    builder.subgraph(), w.vertical.before, w.horizontal.after, w.vertical.after, w.horizontal.before,
                    w.kernel_height, w.kernel_width, static_cast<uint32_t>(options.stride_height),
                    static_cast<uint32_t>(options.stride_width), static_cast<uint32_t>(options.dilation_height),
                    static_cast<uint32_t>(options.dilation_width), multiplier, input_channels, output_min, output_max,
                    input, weights, bias, output, 0),
                operation, "xnn_define_depthwise_convolution_2d");
}

void define_fully_connected(SubgraphBuilder& builder, const Operation& operation) {
  const auto& input_shape = builder.tensor(operation.inputs[0]).shape;
  const auto& output_shape = builder.tensor(operation.outputs[0]).shape;
  // Same rank and leading dims: XNNPACK maps the last dim; otherwise TFLite's flatten to [batch, I].
  const bool keeps_leading_dims = input_shape.size() == output_shape.size() &&
                                  std::equal(input_shape.begin(), input_shape.end() - 1, output_shape.begin());
  const uint32_t flags = keeps_leading_dims ? 0 : XNN_FLAG_TENSORFLOW_RESHAPE_2D;
  const auto [output_min, output_max] = activation_range(operation.options.activation);
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t weights = builder.weight(operation.inputs[1]);
  const bool has_bias = operation.inputs.size() > 2 && operation.inputs[2] >= 0;
  const uint32_t bias = has_bias ? builder.weight(operation.inputs[2]) : XNN_INVALID_VALUE_ID;
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(
      xnn_define_fully_connected(builder.subgraph(), output_min, output_max, input, weights, bias, output, flags),
      operation, "xnn_define_fully_connected");
}

}  // namespace posestream::engine::xnn
