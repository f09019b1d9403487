// MAC counts and output-driven pruning over a validated Graph.
#include "engine/graph_analysis.h"

namespace posestream::engine {

int64_t operation_macs(const Graph& graph, const Operation& operation) {
  const auto shape_of = [&](int32_t index) -> const std::vector<int32_t>& {
    return graph.tensors[static_cast<size_t>(index)].shape;
  };
  switch (operation.type) {
    case OpType::kConv2D: {
      const auto& filter = shape_of(operation.inputs[1]);  // [O, KH, KW, I per group]
      const int64_t per_output = int64_t{filter[1]} * filter[2] * filter[3];
      return graph.tensors[static_cast<size_t>(operation.outputs[0])].element_count() * per_output;
    }
    case OpType::kDepthwiseConv2D: {
      const auto& filter = shape_of(operation.inputs[1]);  // [1, KH, KW, C * M]
      return graph.tensors[static_cast<size_t>(operation.outputs[0])].element_count() * filter[1] * filter[2];
    }
    case OpType::kFullyConnected: {
      const auto& weights = shape_of(operation.inputs[1]);  // [O, I]
      return graph.tensors[static_cast<size_t>(operation.outputs[0])].element_count() * weights[1];
    }
    default: return 0;
  }
}

std::vector<int32_t> producers(const Graph& graph) {
  std::vector<int32_t> producer(graph.tensors.size(), -1);
  for (size_t i = 0; i < graph.operations.size(); ++i) {
    for (int32_t output : graph.operations[i].outputs) producer[static_cast<size_t>(output)] = static_cast<int32_t>(i);
  }
  return producer;
}

std::vector<bool> needed_operations(const Graph& graph, const std::vector<int32_t>& output_tensors) {
  const std::vector<int32_t> producer = producers(graph);
  std::vector<bool> needed(graph.operations.size(), false);
  std::vector<int32_t> pending = output_tensors;
  // Each op is marked once, so the walk is bounded by the op count whatever the file says.
  while (!pending.empty()) {
    const int32_t tensor = pending.back();
    pending.pop_back();
    const int32_t op = producer[static_cast<size_t>(tensor)];
    if (op < 0 || needed[static_cast<size_t>(op)]) continue;
    needed[static_cast<size_t>(op)] = true;
    for (int32_t input : graph.operations[static_cast<size_t>(op)].inputs) {
      if (input >= 0) pending.push_back(input);
    }
  }
  return needed;
}

std::string op_context(const Graph& graph, const Operation& operation) {
  return graph.name + ": op " + std::to_string(operation.index) + " " + op_type_name(operation.type) + ": ";
}

}  // namespace posestream::engine
