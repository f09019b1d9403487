// build_graph: validates every op of a folded FileModel (counts, kinds, ranks, shapes) into a Graph.
#include <algorithm>
#include <array>
#include <limits>

#include "engine/tflite_op_checker.h"

namespace posestream::engine {

namespace {

// TFLite's output size of one spatial dim of a windowed op; 0 when the window does not fit.
int64_t window_output(int64_t input, int64_t kernel, int64_t stride, int64_t dilation, Padding padding) {
  if (padding == Padding::kSame) return (input + stride - 1) / stride;
  const int64_t effective_kernel = (kernel - 1) * dilation + 1;
  return input >= effective_kernel ? (input - effective_kernel) / stride + 1 : 0;
}

// Checks strides and dilations, then returns the [N, OH, OW, channels] output of a windowed op.
std::vector<int32_t> window_shape(const OpChecker& checker, const std::vector<int32_t>& input, int32_t kernel_height,
                                  int32_t kernel_width, int32_t channels) {
  const OpOptions& options = checker.options();
  if (options.stride_height < 1 || options.stride_width < 1 || options.dilation_height < 1 ||
      options.dilation_width < 1 || kernel_height < 1 || kernel_width < 1) {
    checker.fail("strides " + std::to_string(options.stride_height) + "x" + std::to_string(options.stride_width) +
                 ", dilations " + std::to_string(options.dilation_height) + "x" +
                 std::to_string(options.dilation_width) + " and window " + std::to_string(kernel_height) + "x" +
                 std::to_string(kernel_width) + " must all be >= 1");
  }
  const int64_t height =
      window_output(input[1], kernel_height, options.stride_height, options.dilation_height, options.padding);
  const int64_t width =
      window_output(input[2], kernel_width, options.stride_width, options.dilation_width, options.padding);
  if (height == 0 || width == 0) checker.fail("window larger than the padded input " + shape_string(input));
  return {input[0], static_cast<int32_t>(height), static_cast<int32_t>(width), channels};
}

void check_bias(const OpChecker& checker, const Tensor* bias, int32_t channels) {
  if (bias != nullptr && bias->shape[0] != channels) {
    checker.fail_input(2, "bias",
                       "has " + std::to_string(bias->shape[0]) + " values, expected " + std::to_string(channels));
  }
}

Operation conv_2d(const OpChecker& checker) {
  checker.expect_counts(2, 3);
  const Tensor& input = checker.input(0, "input", 4);
  const Tensor& filter = checker.constant(1, "filter", 4);
  const Tensor* bias = checker.optional_constant(2, "bias", 1);
  checker.output(4);
  const std::vector<int32_t>& shape = filter.shape;  // [O, KH, KW, I]
  if (shape[3] != input.shape[3]) {
    checker.fail_input(1, "filter",
                       "has " + std::to_string(shape[3]) + " input channels, the input has " +
                           std::to_string(input.shape[3]) + " (grouped convolution is unsupported)");
  }
  check_bias(checker, bias, shape[0]);
  checker.expect_output_shape(window_shape(checker, input.shape, shape[1], shape[2], shape[0]));
  return checker.make(OpType::kConv2D, {0, 1, 2});
}

Operation depthwise_conv_2d(const OpChecker& checker) {
  checker.expect_counts(2, 3);
  const Tensor& input = checker.input(0, "input", 4);
  const Tensor& filter = checker.constant(1, "filter", 4);
  const Tensor* bias = checker.optional_constant(2, "bias", 1);
  checker.output(4);
  const std::vector<int32_t>& shape = filter.shape;  // [1, KH, KW, C * M]
  if (shape[0] != 1 || shape[3] % input.shape[3] != 0) {
    checker.fail_input(1, "filter",
                       "has shape " + shape_string(shape) + ", expected [1, KH, KW, a multiple of " +
                           std::to_string(input.shape[3]) + " input channels]");
  }
  check_bias(checker, bias, shape[3]);
  checker.expect_output_shape(window_shape(checker, input.shape, shape[1], shape[2], shape[3]));
  Operation operation = checker.make(OpType::kDepthwiseConv2D, {0, 1, 2});
  // Newer converters leave the options' depth_multiplier stale; TFLite derives it from the shapes too.
  operation.options.depth_multiplier = shape[3] / input.shape[3];
  return operation;
}

Operation max_pool_2d(const OpChecker& checker) {
  checker.expect_counts(1, 1);
  const Tensor& input = checker.input(0, "input", 4);
  checker.output(4);
  const OpOptions& options = checker.options();
  if (options.dilation_height != 1 || options.dilation_width != 1) checker.fail("pooling has no dilation");
  checker.expect_output_shape(
      window_shape(checker, input.shape, options.filter_height, options.filter_width, input.shape[3]));
  return checker.make(OpType::kMaxPool2D, {0});
}

// Either operand may be a constant; shapes broadcast numpy-style, aligned at the right.
Operation add(const OpChecker& checker) {
  checker.expect_counts(2, 2);
  std::array<const Tensor*, 2> operands{};
  for (size_t i = 0; i < 2; ++i) {
    operands[i] = checker.is_constant_input(i) ? &checker.constant(i, "operand", -1) : &checker.input(i, "operand", -1);
  }
  if (checker.is_constant_input(0) && checker.is_constant_input(1)) checker.fail("both operands are constants");
  checker.output(-1);
  const std::vector<int32_t>& a = operands[0]->shape;
  const std::vector<int32_t>& b = operands[1]->shape;
  std::vector<int32_t> shape(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < shape.size(); ++i) {
    const int32_t dim_a = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int32_t dim_b = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (dim_a != dim_b && dim_a != 1 && dim_b != 1) {
      checker.fail("cannot broadcast " + shape_string(a) + " with " + shape_string(b));
    }
    shape[shape.size() - 1 - i] = std::max(dim_a, dim_b);
  }
  checker.expect_output_shape(shape);
  return checker.make(OpType::kAdd, {0, 1});
}

// Paddings: an INT32 constant [rank, 2] of {before, after}, moved into options.paddings.
Operation pad(const OpChecker& checker) {
  checker.expect_counts(2, 2);
  const Tensor& input = checker.input(0, "input", -1);
  checker.output(static_cast<int>(input.shape.size()));
  const auto rank = static_cast<int32_t>(input.shape.size());
  const std::vector<int32_t>& paddings = checker.int_constant(1, "paddings", {rank, 2});
  std::vector<int32_t> shape = input.shape;
  for (size_t dim = 0; dim < shape.size(); ++dim) {
    const int32_t before = paddings[2 * dim];
    const int32_t after = paddings[2 * dim + 1];
    if (before < 0 || after < 0 || int64_t{shape[dim]} + before + after > kMaxElements) {
      checker.fail_input(1, "paddings",
                         "has {" + std::to_string(before) + ", " + std::to_string(after) + "} for dim " +
                             std::to_string(dim) + ", expected non-negative amounts");
    }
    shape[dim] += before + after;
  }
  checker.expect_output_shape(shape);
  Operation operation = checker.make(OpType::kPad, {0});
  operation.options.paddings = paddings;
  return operation;
}

// The size input (INT32 constant [2]) must agree with the output shape, which carries it from here on.
Operation resize_bilinear(const OpChecker& checker) {
  checker.expect_counts(2, 2);
  const Tensor& input = checker.input(0, "input", 4);
  checker.output(4);
  const std::vector<int32_t>& size = checker.int_constant(1, "size", {2});
  if (size[0] < 1 || size[1] < 1)
    checker.fail_input(1, "size", "holds " + shape_string(size) + ", expected positive sizes");
  if (checker.options().align_corners && checker.options().half_pixel_centers) {
    checker.fail("align_corners and half_pixel_centers are both set");
  }
  checker.expect_output_shape({input.shape[0], size[0], size[1], input.shape[3]});
  return checker.make(OpType::kResizeBilinear, {0});
}

// The optional shape input (INT32 constant, -1 for an inferred dim) must agree with the output shape.
Operation reshape(const OpChecker& checker) {
  checker.expect_counts(1, 2);
  const Tensor& input = checker.input(0, "input", -1);
  const Tensor& output = checker.output(-1);
  if (checker.has_input(1)) {
    const auto rank = static_cast<int32_t>(output.shape.size());
    const std::vector<int32_t>& shape = checker.int_constant(1, "shape", {rank});
    for (size_t dim = 0; dim < shape.size(); ++dim) {
      if (shape[dim] != -1 && shape[dim] != output.shape[dim]) {
        checker.fail_input(1, "shape",
                           "holds " + shape_string(shape) + ", the output has " + shape_string(output.shape));
      }
    }
  }
  if (input.element_count() != output.element_count()) {
    checker.fail_output("has shape " + shape_string(output.shape) + ", the input " + shape_string(input.shape) +
                        " has a different element count");
  }
  return checker.make(OpType::kReshape, {0});
}

Operation concatenation(const OpChecker& checker) {
  checker.expect_counts(1, std::numeric_limits<size_t>::max());
  const Tensor& output = checker.output(-1);
  const auto rank = static_cast<int32_t>(output.shape.size());
  const int32_t axis = checker.options().axis;
  if (axis < -rank || axis >= rank)
    checker.fail("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  const auto normalized = static_cast<size_t>(axis < 0 ? axis + rank : axis);
  std::vector<int32_t> shape = output.shape;
  int64_t axis_total = 0;
  std::vector<size_t> positions;
  for (size_t i = 0; i < checker.input_count(); ++i) {
    const Tensor& input = checker.input(i, "input", rank);
    shape[normalized] = input.shape[normalized];
    if (input.shape != shape)
      checker.fail_input(
          i, "input",
          "has shape " + shape_string(input.shape) + ", incompatible with the output " + shape_string(output.shape));
    axis_total += input.shape[normalized];
    positions.push_back(i);
  }
  shape[normalized] = static_cast<int32_t>(std::min<int64_t>(axis_total, kMaxElements + 1));
  checker.expect_output_shape(shape);
  Operation operation = checker.make(OpType::kConcatenation, positions);
  operation.options.axis = static_cast<int32_t>(normalized);
  return operation;
}

Operation logistic(const OpChecker& checker) {
  checker.expect_counts(1, 1);
  const Tensor& input = checker.input(0, "input", -1);
  checker.output(-1);
  checker.expect_output_shape(input.shape);
  return checker.make(OpType::kLogistic, {0});
}

// Alpha is a constant that broadcasts against the input (e.g. [1, 1, C] for an NHWC input).
Operation prelu(const OpChecker& checker) {
  checker.expect_counts(2, 2);
  const Tensor& input = checker.input(0, "input", -1);
  const Tensor& alpha = checker.constant(1, "alpha", -1);
  checker.output(-1);
  bool broadcasts = alpha.shape.size() <= input.shape.size();
  for (size_t i = 0; broadcasts && i < alpha.shape.size(); ++i) {
    const int32_t alpha_dim = alpha.shape[alpha.shape.size() - 1 - i];
    broadcasts = alpha_dim == 1 || alpha_dim == input.shape[input.shape.size() - 1 - i];
  }
  if (!broadcasts)
    checker.fail_input(1, "alpha",
                       "has shape " + shape_string(alpha.shape) + ", which does not broadcast to the input " +
                           shape_string(input.shape));
  checker.expect_output_shape(input.shape);
  return checker.make(OpType::kPRelu, {0, 1});
}

// Axes: an INT32 constant, scalar or 1-D, moved into options.axes (normalized, sorted, unique).
Operation mean(const OpChecker& checker) {
  checker.expect_counts(2, 2);
  const Tensor& input = checker.input(0, "input", -1);
  checker.output(-1);
  const auto rank = static_cast<int32_t>(input.shape.size());
  std::vector<int32_t> axes_shape = checker.input_shape(1);
  if (axes_shape.size() > 1) axes_shape = {-1};  // Rejected by int_constant: axes are a scalar or a list.
  const std::vector<int32_t>& axes = checker.int_constant(1, "axes", axes_shape);
  std::vector<int32_t> normalized;
  for (const int32_t axis : axes) {
    if (axis < -rank || axis >= rank)
      checker.fail_input(1, "axes",
                         "holds axis " + std::to_string(axis) + ", out of range for rank " + std::to_string(rank));
    normalized.push_back(axis < 0 ? axis + rank : axis);
  }
  std::sort(normalized.begin(), normalized.end());
  normalized.erase(std::unique(normalized.begin(), normalized.end()), normalized.end());
  std::vector<int32_t> shape;
  for (int32_t dim = 0; dim < rank; ++dim) {
    const bool reduced = std::binary_search(normalized.begin(), normalized.end(), dim);
    if (!reduced)
      shape.push_back(input.shape[static_cast<size_t>(dim)]);
    else if (checker.options().keep_dims)
      shape.push_back(1);
  }
  checker.expect_output_shape(shape);
  Operation operation = checker.make(OpType::kMean, {0});
  operation.options.axes = std::move(normalized);
  return operation;
}

// Weights [O, I]; the input is flattened to [batch, I] unless keep_num_dims keeps its leading dims.
Operation fully_connected(const OpChecker& checker) {
  checker.expect_counts(2, 3);
  const Tensor& input = checker.input(0, "input", -1);
  const Tensor& weights = checker.constant(1, "weights", 2);
  const Tensor* bias = checker.optional_constant(2, "bias", 1);
  checker.output(-1);
  const int32_t outputs = weights.shape[0];
  const int32_t inputs = weights.shape[1];
  if (inputs < 1 || input.element_count() % inputs != 0 || (checker.keep_num_dims() && input.shape.back() != inputs)) {
    checker.fail_input(
        0, "input",
        "has shape " + shape_string(input.shape) + ", incompatible with weights " + shape_string(weights.shape));
  }
  check_bias(checker, bias, outputs);
  std::vector<int32_t> shape{static_cast<int32_t>(input.element_count() / inputs), outputs};
  if (checker.keep_num_dims()) {
    shape = input.shape;
    shape.back() = outputs;
  }
  checker.expect_output_shape(shape);
  return checker.make(OpType::kFullyConnected, {0, 1, 2});
}

// TensorFlow's channel order: output[b, h*bs+dh, w*bs+dw, c] = input[b, h, w, (dh*bs+dw)*C_out + c].
Operation depth_to_space(const OpChecker& checker) {
  checker.expect_counts(1, 1);
  const Tensor& input = checker.input(0, "input", 4);
  checker.output(4);
  const int32_t block = checker.options().block_size;
  if (block < 1 || block > 1024 || input.shape[3] % (block * block) != 0) {
    checker.fail("block size " + std::to_string(block) + " does not divide the input channels " +
                 shape_string(input.shape));
  }
  const int64_t height = int64_t{input.shape[1]} * block;
  const int64_t width = int64_t{input.shape[2]} * block;
  if (height > kMaxElements || width > kMaxElements) checker.fail("output would exceed the element limit");
  checker.expect_output_shape(
      {input.shape[0], static_cast<int32_t>(height), static_cast<int32_t>(width), input.shape[3] / (block * block)});
  return checker.make(OpType::kDepthToSpace, {0});
}

struct OpEntry {
  int32_t builtin;
  Operation (*build)(const OpChecker&);
};

// Every TFLite builtin the engine runs, with its validator.
constexpr std::array<OpEntry, 13> kOpTable{{
    {schema::builtin::kConv2D, conv_2d},
    {schema::builtin::kDepthwiseConv2D, depthwise_conv_2d},
    {schema::builtin::kAdd, add},
    {schema::builtin::kPad, pad},
    {schema::builtin::kMaxPool2D, max_pool_2d},
    {schema::builtin::kResizeBilinear, resize_bilinear},
    {schema::builtin::kReshape, reshape},
    {schema::builtin::kConcatenation, concatenation},
    {schema::builtin::kLogistic, logistic},
    {schema::builtin::kPRelu, prelu},
    {schema::builtin::kMean, mean},
    {schema::builtin::kFullyConnected, fully_connected},
    {schema::builtin::kDepthToSpace, depth_to_space},
}};

}  // namespace

Operation build_operation(const FileModel& model, const FileOperation& file_operation) {
  const OpChecker checker(model, file_operation);
  for (const OpEntry& entry : kOpTable) {
    if (entry.builtin == file_operation.builtin) return entry.build(checker);
  }
  checker.fail("is not supported after constant folding");
}

}  // namespace posestream::engine
