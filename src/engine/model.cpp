// Model: loading, structural validation of a Graph (indices, order, constants) and its MAC count.
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/graph_analysis.h"
#include "engine/model_checks.h"
#include "engine/weights_cache.h"

namespace posestream::engine {
namespace {

// 1 GiB of floats: far above any tensor of these models (the largest is a few MB).
constexpr int64_t kMaxTensorElements = int64_t{1} << 28;

std::string tensor_context(const Graph& graph, size_t index) {
  return graph.name + ": tensor #" + std::to_string(index) + " '" + graph.tensors[index].name + "': ";
}

// Only tensors that ops or the graph's boundary use: the reader keeps folded originals and int32
// parameter tensors in the list, unreferenced, and their shapes are none of the runtime's business.
std::vector<bool> referenced_tensors(const Graph& graph) {
  std::vector<bool> referenced(graph.tensors.size(), false);
  const auto mark = [&](int32_t index) {
    if (index >= 0) referenced[static_cast<size_t>(index)] = true;
  };
  for (int32_t index : graph.inputs) mark(index);
  for (int32_t index : graph.outputs) mark(index);
  for (const Operation& operation : graph.operations) {
    for (int32_t index : operation.inputs) mark(index);
    for (int32_t index : operation.outputs) mark(index);
  }
  return referenced;
}

void check_tensors(const Graph& graph) {
  const std::vector<bool> referenced = referenced_tensors(graph);
  for (size_t i = 0; i < graph.tensors.size(); ++i) {
    if (!referenced[i]) continue;
    const Tensor& tensor = graph.tensors[i];
    for (int32_t dim : tensor.shape) {
      if (dim < 1) throw ModelError(tensor_context(graph, i) + "dimension " + std::to_string(dim) + " is not positive");
    }
    if (tensor.shape.size() > 6) {
      throw ModelError(tensor_context(graph, i) + "has " + std::to_string(tensor.shape.size()) + " dims, at most 6");
    }
    // element_count() is 0 on int64 overflow; the cap keeps an untrusted file from asking for huge buffers.
    if (tensor.element_count() < 1 || tensor.element_count() > kMaxTensorElements) {
      throw ModelError(tensor_context(graph, i) + "shape needs " + std::to_string(tensor.element_count()) +
                       " values, expected 1 to " + std::to_string(kMaxTensorElements));
    }
    if (tensor.is_constant() && static_cast<int64_t>(tensor.data.size()) != tensor.element_count()) {
      throw ModelError(tensor_context(graph, i) + "holds " + std::to_string(tensor.data.size()) +
                       " values, its shape needs " + std::to_string(tensor.element_count()));
    }
  }
}

void check_index(const Graph& graph, int32_t index, const std::string& where) {
  if (index < 0 || static_cast<size_t>(index) >= graph.tensors.size()) {
    throw ModelError(graph.name + ": " + where + " refers to tensor #" + std::to_string(index) + ", the model has " +
                     std::to_string(graph.tensors.size()));
  }
}

// Every tensor an op reads exists by then: a constant, a graph input or an earlier op's output; every
// tensor is written once. This is what lets Runtime define ops in file order.
void check_order(const Graph& graph) {
  std::vector<bool> available(graph.tensors.size(), false);
  for (size_t i = 0; i < graph.tensors.size(); ++i) available[i] = graph.tensors[i].is_constant();
  for (int32_t input : graph.inputs) {
    check_index(graph, input, "graph input");
    if (graph.tensors[static_cast<size_t>(input)].is_constant()) {
      throw ModelError(tensor_context(graph, static_cast<size_t>(input)) + "is a graph input and a constant");
    }
    available[static_cast<size_t>(input)] = true;
  }
  for (const Operation& operation : graph.operations) {
    for (int32_t input : operation.inputs) {
      if (input == -1) continue;
      check_index(graph, input, op_context(graph, operation) + "input");
      if (!available[static_cast<size_t>(input)]) {
        throw ModelError(op_context(graph, operation) + "reads tensor #" + std::to_string(input) +
                         " before any op writes it");
      }
    }
    if (operation.outputs.size() != 1) {
      throw ModelError(op_context(graph, operation) + "has " + std::to_string(operation.outputs.size()) +
                       " outputs, expected 1");
    }
    const int32_t output = operation.outputs[0];
    check_index(graph, output, op_context(graph, operation) + "output");
    if (available[static_cast<size_t>(output)]) {
      throw ModelError(op_context(graph, operation) + "writes tensor #" + std::to_string(output) +
                       ", which is already a constant, a graph input or another op's output");
    }
    available[static_cast<size_t>(output)] = true;
  }
  for (int32_t output : graph.outputs) {
    check_index(graph, output, "graph output");
    if (!available[static_cast<size_t>(output)]) {
      throw ModelError(tensor_context(graph, static_cast<size_t>(output)) + "is a graph output no op writes");
    }
  }
}

// Runtime concatenates outside the XNNPACK subgraph, after it ran: so a concatenation must produce a
// graph output that no op reads.
void check_concatenation_placement(const Graph& graph) {
  std::vector<bool> is_read(graph.tensors.size(), false);
  for (const Operation& operation : graph.operations) {
    for (int32_t input : operation.inputs) {
      if (input >= 0) is_read[static_cast<size_t>(input)] = true;
    }
  }
  std::vector<bool> is_graph_output(graph.tensors.size(), false);
  for (int32_t output : graph.outputs) is_graph_output[static_cast<size_t>(output)] = true;
  for (const Operation& operation : graph.operations) {
    if (operation.type != OpType::kConcatenation) continue;
    const auto output = static_cast<size_t>(operation.outputs[0]);
    if (!is_graph_output[output] || is_read[output]) {
      throw ModelError(op_context(graph, operation) + "output tensor #" + std::to_string(output) + " '" +
                       graph.tensors[output].name +
                       "' must be a graph output read by no op (concatenation runs after the XNNPACK subgraph)");
    }
  }
}

}  // namespace

Model::Model(Graph graph)
    : graph_(std::move(graph)), weights_caches_(std::make_shared<xnn::WeightsCaches>()) {
  check_order(graph_);  // Also checks every index, which check_tensors relies on.
  check_tensors(graph_);
  for (const Operation& operation : graph_.operations) {
    check_operation_shapes(graph_, operation);
    macs_ += operation_macs(graph_, operation);
  }
  check_concatenation_placement(graph_);
}

std::shared_ptr<const Model> Model::from_graph(Graph graph) { return std::make_shared<const Model>(std::move(graph)); }

std::shared_ptr<const Model> Model::load(const std::filesystem::path& path) {
  return from_graph(read_tflite_file(path));
}

}  // namespace posestream::engine
