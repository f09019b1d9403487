// Per-op shape rules checked at load: what each op needs from its tensors and options.
#include "engine/model_checks.h"

#include <algorithm>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/graph_analysis.h"

namespace posestream::engine {
namespace {

std::string shape_text(const std::vector<int32_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

// One op's checks, each failing with the op's context and the bad value.
class OpChecker {
 public:
  OpChecker(const Graph& graph, const Operation& operation) : graph_(graph), operation_(operation) {}

  [[noreturn]] void fail(const std::string& message) const {
    throw ModelError(op_context(graph_, operation_) + message);
  }
  void expect(bool condition, const std::string& message) const {
    if (!condition) fail(message);
  }
  // Inputs: between `required` and `required + optional` entries, the required ones present.
  void arity(size_t required, size_t optional = 0) const {
    const size_t count = operation_.inputs.size();
    expect(count >= required && count <= required + optional,
           "has " + std::to_string(count) + " inputs, expected " + std::to_string(required) +
               (optional ? " to " + std::to_string(required + optional) : ""));
    for (size_t i = 0; i < required; ++i)
      expect(operation_.inputs[i] >= 0, "input " + std::to_string(i) + " is missing");
  }
  bool has_input(size_t i) const { return operation_.inputs.size() > i && operation_.inputs[i] >= 0; }
  const Tensor& input(size_t i) const { return graph_.tensors[static_cast<size_t>(operation_.inputs[i])]; }
  const Tensor& output() const { return graph_.tensors[static_cast<size_t>(operation_.outputs[0])]; }
  const std::vector<int32_t>& input_shape(size_t i, size_t rank) const {
    const auto& shape = input(i).shape;
    expect(shape.size() == rank, "input tensor #" + std::to_string(operation_.inputs[i]) + " has " +
                                     std::to_string(shape.size()) + " dims, expected " + std::to_string(rank));
    return shape;
  }
  void constant_input(size_t i, const char* role) const {
    expect(input(i).is_constant(), std::string(role) + " tensor #" + std::to_string(operation_.inputs[i]) +
                                       " is not a constant (XNNPACK needs static weights)");
  }
  void output_is(const std::vector<int32_t>& expected) const {
    expect(output().shape == expected, "output tensor #" + std::to_string(operation_.outputs[0]) + " has shape " +
                                           shape_text(output().shape) + ", expected " + shape_text(expected));
  }
  void positive(int32_t value, const char* name) const {
    expect(value >= 1, std::string(name) + " is " + std::to_string(value) + ", expected >= 1");
  }
  // Output size of one spatial dimension under TFLite's SAME/VALID rules.
  int32_t window_output(int32_t size, int32_t kernel, int32_t stride, int32_t dilation) const {
    positive(kernel, "kernel size");
    positive(stride, "stride");
    positive(dilation, "dilation");
    if (operation_.options.padding == Padding::kSame) return (size + stride - 1) / stride;
    const int64_t effective = int64_t{kernel - 1} * dilation + 1;
    expect(effective <= size, "window of " + std::to_string(effective) + " exceeds input size " + std::to_string(size));
    return static_cast<int32_t>((size - effective) / stride + 1);
  }
  // Bias, when present: a constant [channels].
  void bias(size_t i, int32_t channels) const {
    if (!has_input(i)) return;
    constant_input(i, "bias");
    expect(input(i).element_count() == channels,
           "bias has " + std::to_string(input(i).element_count()) + " values, expected " + std::to_string(channels));
  }
  const Operation& operation() const { return operation_; }

 private:
  const Graph& graph_;
  const Operation& operation_;
};

void check_conv_2d(const OpChecker& check) {
  check.arity(2, 1);
  const auto& input = check.input_shape(0, 4);
  const auto& filter = check.input_shape(1, 4);  // [O, KH, KW, I per group]
  check.constant_input(1, "filter");
  check.expect(input[3] % filter[3] == 0 && filter[0] % (input[3] / filter[3]) == 0,
               "filter " + shape_text(filter) + " does not group input channels " + std::to_string(input[3]));
  check.bias(2, filter[0]);
  const OpOptions& o = check.operation().options;
  check.output_is({input[0], check.window_output(input[1], filter[1], o.stride_height, o.dilation_height),
                   check.window_output(input[2], filter[2], o.stride_width, o.dilation_width), filter[0]});
}

void check_depthwise_conv_2d(const OpChecker& check) {
  check.arity(2, 1);
  const auto& input = check.input_shape(0, 4);
  const auto& filter = check.input_shape(1, 4);  // [1, KH, KW, C * M]
  check.constant_input(1, "filter");
  check.expect(filter[0] == 1 && filter[3] % input[3] == 0,
               "filter " + shape_text(filter) + " is not [1, KH, KW, a multiple of " + std::to_string(input[3]) + "]");
  check.bias(2, filter[3]);
  const OpOptions& o = check.operation().options;
  check.output_is({input[0], check.window_output(input[1], filter[1], o.stride_height, o.dilation_height),
                   check.window_output(input[2], filter[2], o.stride_width, o.dilation_width), filter[3]});
}

void check_fully_connected(const OpChecker& check) {
  check.arity(2, 1);
  const auto& weights = check.input_shape(1, 2);  // [O, I]
  check.constant_input(1, "weights");
  check.bias(2, weights[0]);
  const int64_t elements = check.input(0).element_count();
  check.expect(elements % weights[1] == 0, "input of " + std::to_string(elements) +
                                               " values is not a multiple of weights' " + std::to_string(weights[1]));
  const auto& output = check.output().shape;
  check.expect(!output.empty() && output.back() == weights[0] &&
                   check.output().element_count() == elements / weights[1] * weights[0],
               "output shape " + shape_text(output) + " does not match weights " + shape_text(weights));
}

void check_max_pool_2d(const OpChecker& check) {
  check.arity(1);
  const auto& input = check.input_shape(0, 4);
  const OpOptions& o = check.operation().options;
  check.output_is({input[0], check.window_output(input[1], o.filter_height, o.stride_height, 1),
                   check.window_output(input[2], o.filter_width, o.stride_width, 1), input[3]});
}

void check_mean(const OpChecker& check) {
  check.arity(1);
  const OpOptions& o = check.operation().options;
  check.expect(check.input(0).shape.size() == 4 && o.axes == std::vector<int32_t>{1, 2},
               "only MEAN over axes {1,2} of a 4-D input is supported (global average pooling); got " +
                   std::to_string(check.input(0).shape.size()) + "-D input, axes " + shape_text(o.axes));
  const auto& input = check.input(0).shape;
  if (o.keep_dims) {
    check.output_is({input[0], 1, 1, input[3]});
  } else {
    check.output_is({input[0], input[3]});
  }
}

void check_add(const OpChecker& check) {
  check.arity(2);
  const auto& a = check.input(0).shape;
  const auto& b = check.input(1).shape;
  std::vector<int32_t> expected(std::max(a.size(), b.size()), 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    const int32_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    const int32_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    check.expect(da == db || da == 1 || db == 1,
                 "inputs " + shape_text(a) + " and " + shape_text(b) + " do not broadcast");
    expected[expected.size() - 1 - i] = std::max(da, db);
  }
  check.output_is(expected);
}

void check_prelu(const OpChecker& check) {
  check.arity(2);
  const auto& input = check.input_shape(0, 4);
  check.constant_input(1, "alpha");
  const int64_t count = check.input(1).element_count();
  check.expect(count == input[3] || count == 1, "alpha has " + std::to_string(count) + " values, expected " +
                                                    std::to_string(input[3]) + " (one per channel) or 1");
  check.output_is(input);
}

void check_pad(const OpChecker& check) {
  check.arity(1);
  const auto& input = check.input(0).shape;
  const auto& paddings = check.operation().options.paddings;
  check.expect(paddings.size() == 2 * input.size(),
               "has " + std::to_string(paddings.size()) +
                   " padding values, expected 2 per input dim = " + std::to_string(2 * input.size()));
  std::vector<int32_t> expected = input;
  for (size_t d = 0; d < input.size(); ++d) {
    check.expect(paddings[2 * d] >= 0 && paddings[2 * d + 1] >= 0, "negative padding " + shape_text(paddings));
    expected[d] += paddings[2 * d] + paddings[2 * d + 1];
  }
  check.output_is(expected);
}

void check_resize_bilinear(const OpChecker& check) {
  check.arity(1);
  const auto& input = check.input_shape(0, 4);
  const auto& output = check.output().shape;
  check.expect(output.size() == 4 && output[0] == input[0] && output[3] == input[3],
               "output " + shape_text(output) + " does not resize input " + shape_text(input));
  check.expect(!(check.operation().options.align_corners && check.operation().options.half_pixel_centers),
               "align_corners and half_pixel_centers are both set");
}

void check_depth_to_space(const OpChecker& check) {
  check.arity(1);
  const auto& input = check.input_shape(0, 4);
  const int32_t block = check.operation().options.block_size;
  check.expect(block >= 2 && input[3] % (block * block) == 0,
               "block size " + std::to_string(block) + " does not divide " + std::to_string(input[3]) + " channels");
  check.output_is({input[0], input[1] * block, input[2] * block, input[3] / (block * block)});
}

void check_concatenation(const OpChecker& check, size_t input_count) {
  check.expect(input_count >= 1, "has no inputs");
  const auto& output = check.output().shape;
  const int32_t axis = check.operation().options.axis;
  check.expect(axis >= 0 && static_cast<size_t>(axis) < output.size(),
               "axis " + std::to_string(axis) + " is outside output " + shape_text(output));
  int64_t total = 0;
  for (size_t i = 0; i < input_count; ++i) {
    check.expect(check.operation().inputs[i] >= 0, "input " + std::to_string(i) + " is missing");
    std::vector<int32_t> shape = check.input_shape(i, output.size());
    total += shape[static_cast<size_t>(axis)];
    shape[static_cast<size_t>(axis)] = output[static_cast<size_t>(axis)];
    check.expect(shape == output, "input " + shape_text(check.input(i).shape) + " does not fit output " +
                                      shape_text(output) + " along axis " + std::to_string(axis));
  }
  check.expect(total == output[static_cast<size_t>(axis)],
               "inputs add up to " + std::to_string(total) + " along axis " + std::to_string(axis));
}

}  // namespace

void check_operation_shapes(const Graph& graph, const Operation& operation) {
  const OpChecker check(graph, operation);
  switch (operation.type) {
    case OpType::kConv2D: return check_conv_2d(check);
    case OpType::kDepthwiseConv2D: return check_depthwise_conv_2d(check);
    case OpType::kFullyConnected: return check_fully_connected(check);
    case OpType::kMaxPool2D: return check_max_pool_2d(check);
    case OpType::kMean: return check_mean(check);
    case OpType::kAdd: return check_add(check);
    case OpType::kPRelu: return check_prelu(check);
    case OpType::kPad: return check_pad(check);
    case OpType::kResizeBilinear: return check_resize_bilinear(check);
    case OpType::kDepthToSpace: return check_depth_to_space(check);
    case OpType::kConcatenation: return check_concatenation(check, operation.inputs.size());
    case OpType::kLogistic: check.arity(1); return check.output_is(check.input(0).shape);
    case OpType::kReshape:
      check.arity(1);
      return check.expect(check.input(0).element_count() == check.output().element_count(),
                          "reshapes " + shape_text(check.input(0).shape) + " to " + shape_text(check.output().shape));
  }
  check.fail("unsupported op type");
}

}  // namespace posestream::engine
