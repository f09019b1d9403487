// CONCATENATION planning (zero copy into output slices, or strided copy) and the copy itself.
#include "engine/xnn_concatenation.h"

#include <algorithm>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {

ConcatenationPlan plan_concatenation(const Graph& graph, const Operation& operation, bool inputs_can_alias) {
  const auto& output_shape = graph.tensors[static_cast<size_t>(operation.outputs[0])].shape;
  const auto axis = static_cast<size_t>(operation.options.axis);
  ConcatenationPlan plan;
  plan.output_tensor = operation.outputs[0];
  plan.inputs = operation.inputs;
  plan.activation = operation.options.activation;
  for (size_t d = 0; d < axis; ++d) plan.outer *= output_shape[d];
  for (size_t d = axis + 1; d < output_shape.size(); ++d) plan.inner *= output_shape[d];
  plan.output_axis_size = output_shape[axis];
  for (int32_t input : operation.inputs) {
    plan.axis_sizes.push_back(graph.tensors[static_cast<size_t>(input)].shape[axis]);
  }
  plan.zero_copy = inputs_can_alias && plan.outer == 1 && plan.activation == Activation::kNone;
  return plan;
}

int64_t slice_offset(const ConcatenationPlan& plan, size_t i) {
  int64_t offset = 0;
  for (size_t j = 0; j < i; ++j) offset += plan.axis_sizes[j];
  return offset * plan.inner;
}

void run_concatenation(const ConcatenationPlan& plan, const std::vector<const float*>& sources, float* destination) {
  const int64_t output_row = plan.output_axis_size * plan.inner;
  int64_t column = 0;  // Start of the current input's block within each output row.
  for (size_t i = 0; i < plan.inputs.size(); ++i) {
    const int64_t input_row = plan.axis_sizes[i] * plan.inner;
    for (int64_t row = 0; row < plan.outer; ++row) {
      const float* from = sources[i] + row * input_row;
      std::copy(from, from + input_row, destination + row * output_row + column);
    }
    column += input_row;
  }
  if (plan.activation == Activation::kNone) return;
  const auto [low, high] = activation_range(plan.activation);
  std::for_each(destination, destination + plan.outer * output_row,
                [low = low, high = high](float& value) { value = std::clamp(value, low, high); });
}

}  // namespace posestream::engine::xnn
