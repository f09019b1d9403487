// ADD, LOGISTIC and PRELU as XNNPACK nodes.
#include <vector>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {

void define_add(SubgraphBuilder& builder, const Operation& operation) {
  const auto [output_min, output_max] = activation_range(operation.options.activation);
  const uint32_t first = builder.value(operation.inputs[0]);
  const uint32_t second = builder.value(operation.inputs[1]);
  const uint32_t output = builder.value(operation.outputs[0]);
  const xnn_binary_params params = {output_min, output_max};
  builder.check(xnn_define_binary(builder.subgraph(), xnn_binary_add, &params, first, second, output, 0), operation,
                "xnn_define_binary (add)");
}

void define_logistic(SubgraphBuilder& builder, const Operation& operation) {
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_unary(builder.subgraph(), xnn_unary_sigmoid, nullptr, input, output, 0), operation,
                "xnn_define_unary (sigmoid)");
}

// The file's alpha is [1,1,C] (or a single value); XNNPACK wants a per-channel [C] slope, which is the
// same data read with a 1-D shape. Model checked that alpha is a constant of C or 1 values.
void define_prelu(SubgraphBuilder& builder, const Operation& operation) {
  const auto& input_shape = builder.tensor(operation.inputs[0]).shape;
  const Tensor& alpha = builder.tensor(operation.inputs[1]);
  const auto channels = static_cast<size_t>(input_shape.back());
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t slope = alpha.data.size() == channels
                             ? builder.weight_with_shape(operation.inputs[1], {channels})
                             : builder.owned_constant(std::vector<float>(channels, alpha.data.at(0)), {channels});
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_binary(builder.subgraph(), xnn_binary_prelu, nullptr, input, slope, output, 0), operation,
                "xnn_define_binary (prelu)");
}

}  // namespace posestream::engine::xnn
