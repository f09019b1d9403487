// Reference graph runner: every operation of an engine::Graph in file order with the reference ops.
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

using engine::OpType;

// Our own names, so that this library does not depend on the engine it checks.
const char* name_of(OpType type) {
  switch (type) {
    case OpType::kConv2D: return "CONV_2D";
    case OpType::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpType::kAdd: return "ADD";
    case OpType::kPad: return "PAD";
    case OpType::kMaxPool2D: return "MAX_POOL_2D";
    case OpType::kResizeBilinear: return "RESIZE_BILINEAR";
    case OpType::kReshape: return "RESHAPE";
    case OpType::kConcatenation: return "CONCATENATION";
    case OpType::kLogistic: return "LOGISTIC";
    case OpType::kPRelu: return "PRELU";
    case OpType::kMean: return "MEAN";
    case OpType::kFullyConnected: return "FULLY_CONNECTED";
    case OpType::kDepthToSpace: return "DEPTH_TO_SPACE";
  }
  return "unknown op type";
}

// The values of every tensor of one run: constants copied at start, activations filled in as computed.
class Values {
 public:
  explicit Values(const engine::Graph& graph) : graph_(graph), values_(graph.tensors.size()) {
    for (size_t i = 0; i < graph.tensors.size(); ++i) {
      if (graph.tensors[i].is_constant()) values_[i] = Tensor{graph.tensors[i].shape, graph.tensors[i].data};
    }
  }

  const Tensor& at(int32_t index) const {
    if (index < 0 || size_t(index) >= values_.size())
      throw std::runtime_error("tensor #" + std::to_string(index) + " does not exist");
    if (!values_[size_t(index)]) {
      throw std::runtime_error("tensor #" + std::to_string(index) + " (" + graph_.tensors[size_t(index)].name +
                               ") is read before it is computed");
    }
    return *values_[size_t(index)];
  }

  // Stores `value` as tensor `index` after checking it has the graph's declared shape.
  void set(int32_t index, Tensor value) {
    if (index < 0 || size_t(index) >= values_.size())
      throw std::runtime_error("tensor #" + std::to_string(index) + " does not exist");
    const engine::Tensor& declared = graph_.tensors[size_t(index)];
    if (value.shape != declared.shape) {
      throw std::runtime_error("computed shape " + detail::shape_string(value.shape) + " for tensor #" +
                               std::to_string(index) + " (" + declared.name + "), the graph declares " +
                               detail::shape_string(declared.shape));
    }
    values_[size_t(index)] = std::move(value);
  }

 private:
  const engine::Graph& graph_;
  std::vector<std::optional<Tensor>> values_;
};

void expect_inputs(const engine::Operation& op, size_t minimum, size_t maximum) {
  if (op.inputs.size() < minimum || op.inputs.size() > maximum || op.outputs.size() != 1) {
    throw std::runtime_error("has " + std::to_string(op.inputs.size()) + " inputs and " +
                             std::to_string(op.outputs.size()) + " outputs, expected " + std::to_string(minimum) +
                             (minimum == maximum ? "" : " to " + std::to_string(maximum)) + " inputs and 1 output");
  }
}

// The optional third input (bias) of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED; empty when absent.
Tensor optional_bias(const engine::Operation& op, const Values& values) {
  if (op.inputs.size() < 3 || op.inputs[2] < 0) return Tensor{};
  return values.at(op.inputs[2]);
}

std::vector<std::array<int32_t, 2>> paddings_of(const engine::OpOptions& options) {
  if (options.paddings.size() % 2 != 0) {
    throw std::runtime_error("odd number of padding values: " + std::to_string(options.paddings.size()));
  }
  std::vector<std::array<int32_t, 2>> pairs;
  for (size_t i = 0; i < options.paddings.size(); i += 2)
    pairs.push_back({options.paddings[i], options.paddings[i + 1]});
  return pairs;
}

const std::vector<int32_t>& output_shape(const engine::Graph& graph, const engine::Operation& op) {
  return graph.tensors.at(size_t(op.outputs[0])).shape;
}

// Ops that compute new values: the weighted ones, pooling and the element-wise ones.
std::optional<Tensor> run_arithmetic(const engine::Operation& op, const Values& values) {
  const engine::OpOptions& options = op.options;
  const auto input = [&](size_t slot) -> const Tensor& { return values.at(op.inputs[slot]); };
  switch (op.type) {
    case OpType::kConv2D:
      expect_inputs(op, 2, 3);
      return conv_2d(input(0), input(1), optional_bias(op, values), options);
    case OpType::kDepthwiseConv2D:
      expect_inputs(op, 2, 3);
      return depthwise_conv_2d(input(0), input(1), optional_bias(op, values), options);
    case OpType::kFullyConnected:
      expect_inputs(op, 2, 3);
      return fully_connected(input(0), input(1), optional_bias(op, values), options.activation);
    case OpType::kMaxPool2D: expect_inputs(op, 1, 1); return max_pool_2d(input(0), options);
    case OpType::kMean: expect_inputs(op, 1, 1); return mean(input(0), options.axes, options.keep_dims);
    case OpType::kAdd: expect_inputs(op, 2, 2); return add(input(0), input(1), options.activation);
    case OpType::kPRelu: expect_inputs(op, 2, 2); return prelu(input(0), input(1));
    case OpType::kLogistic: expect_inputs(op, 1, 1); return logistic(input(0));
    default: return std::nullopt;
  }
}

// Ops that move or interpolate values; their sizes come from the options and the output's shape.
std::optional<Tensor> run_layout(const engine::Graph& graph, const engine::Operation& op, const Values& values) {
  const engine::OpOptions& options = op.options;
  const auto input = [&](size_t slot) -> const Tensor& { return values.at(op.inputs[slot]); };
  switch (op.type) {
    case OpType::kPad: expect_inputs(op, 1, 1); return pad(input(0), paddings_of(options));
    case OpType::kReshape: expect_inputs(op, 1, 1); return reshape(input(0), output_shape(graph, op));
    case OpType::kDepthToSpace: expect_inputs(op, 1, 1); return depth_to_space(input(0), options.block_size);
    case OpType::kResizeBilinear: {
      expect_inputs(op, 1, 1);
      const std::vector<int32_t>& shape = output_shape(graph, op);
      if (shape.size() != 4) throw std::runtime_error("output shape " + detail::shape_string(shape) + " is not 4-D");
      return resize_bilinear(input(0), shape[1], shape[2], options.align_corners, options.half_pixel_centers);
    }
    case OpType::kConcatenation: {
      expect_inputs(op, 1, std::max<size_t>(op.inputs.size(), 1));
      std::vector<Tensor> parts;
      for (int32_t index : op.inputs) parts.push_back(values.at(index));
      return concatenation(parts, options.axis, options.activation);
    }
    default: return std::nullopt;
  }
}

Tensor run_operation(const engine::Graph& graph, const engine::Operation& op, const Values& values) {
  if (std::optional<Tensor> result = run_arithmetic(op, values)) return std::move(*result);
  if (std::optional<Tensor> result = run_layout(graph, op, values)) return std::move(*result);
  throw std::runtime_error("unsupported op type " + std::to_string(static_cast<int>(op.type)));
}

void set_inputs(const engine::Graph& graph, const std::vector<Tensor>& inputs, Values& values) {
  if (inputs.size() != graph.inputs.size()) {
    throw std::runtime_error(graph.name + ": " + std::to_string(inputs.size()) + " inputs given, the graph has " +
                             std::to_string(graph.inputs.size()));
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    const engine::Tensor& declared = graph.tensors.at(size_t(graph.inputs[i]));
    Tensor input{declared.shape, inputs[i].data};  // Any shape with the right element count will do.
    detail::check_tensor(input, graph.name, "input " + std::to_string(i) + " (" + declared.name + ")");
    values.set(graph.inputs[i], std::move(input));
  }
}

}  // namespace

std::vector<Tensor> run_graph(const engine::Graph& graph, const std::vector<Tensor>& inputs) {
  Values values(graph);
  set_inputs(graph, inputs, values);
  for (const engine::Operation& op : graph.operations) {
    try {
      if (op.outputs.empty()) throw std::runtime_error("has no output");
      values.set(op.outputs[0], run_operation(graph, op, values));
    } catch (const std::exception& error) {
      throw std::runtime_error(graph.name + ": op " + std::to_string(op.index) + " " + name_of(op.type) + ": " +
                               error.what());
    }
  }
  std::vector<Tensor> outputs;
  for (int32_t index : graph.outputs) {
    try {
      outputs.push_back(values.at(index));
    } catch (const std::exception& error) {
      throw std::runtime_error(graph.name + ": graph output: " + error.what());
    }
  }
  return outputs;
}

}  // namespace posestream::reference
