// build_graph: turns a folded FileModel into the engine's Graph, checking graph inputs, outputs and data flow.
#include <algorithm>

#include "engine/tflite_op_checker.h"

namespace posestream::engine {

namespace {

[[noreturn]] void fail(const std::string& message) { throw ModelError(message); }

// Graph inputs and outputs are what callers fill and read: computed FLOAT32 tensors of known size.
void check_graph_tensor(const FileModel& model, int32_t index, const std::string& role) {
  const FileTensor& tensor = model.tensors[static_cast<size_t>(index)];
  const std::vector<int32_t>& shape = tensor.tensor.shape;
  const bool known_shape =
      !shape.empty() && std::all_of(shape.begin(), shape.end(), [](int32_t dim) { return dim >= 1; });
  if (tensor.is_constant() || tensor.type != schema::TensorType::kFloat32 || !known_shape) {
    fail(model.name + ": graph " + role + " " + describe_tensor(model, index) + " with shape " + shape_string(shape) +
         " must be a non-constant FLOAT32 tensor with a known shape");
  }
}

void check_unique(const FileModel& model, const std::vector<int32_t>& indices, const std::string& role) {
  std::vector<int32_t> sorted = indices;
  std::sort(sorted.begin(), sorted.end());
  const auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
  if (repeated != sorted.end())
    fail(model.name + ": graph " + role + " " + describe_tensor(model, *repeated) + " is listed twice");
}

std::string operation_context(const FileModel& model, const Operation& operation) {
  return model.name + ": op " + std::to_string(operation.index) + " " + op_type_name(operation.type) + ": ";
}

// Every op reads only constants, graph inputs and earlier ops' outputs, and each tensor has one writer.
void check_data_flow(const FileModel& model, const std::vector<Operation>& operations) {
  std::vector<bool> defined(model.tensors.size(), false);
  for (size_t i = 0; i < model.tensors.size(); ++i) defined[i] = model.tensors[i].is_constant();
  for (const int32_t input : model.inputs) defined[static_cast<size_t>(input)] = true;
  for (const Operation& operation : operations) {
    for (const int32_t input : operation.inputs) {
      if (input >= 0 && !defined[static_cast<size_t>(input)]) {
        fail(operation_context(model, operation) + "input " + describe_tensor(model, input) +
             " is read before any op writes it");
      }
    }
    for (const int32_t output : operation.outputs) {
      if (defined[static_cast<size_t>(output)]) {
        fail(operation_context(model, operation) + "output " + describe_tensor(model, output) +
             " is a graph input or already written by an earlier op");
      }
      defined[static_cast<size_t>(output)] = true;
    }
  }
  for (const int32_t output : model.outputs) {
    if (!defined[static_cast<size_t>(output)]) {
      fail(model.name + ": graph output " + describe_tensor(model, output) + " is never written");
    }
  }
}

}  // namespace

Graph build_graph(FileModel model) {
  if (model.inputs.empty() || model.outputs.empty()) fail(model.name + ": the graph has no inputs or no outputs");
  for (const int32_t input : model.inputs) check_graph_tensor(model, input, "input");
  for (const int32_t output : model.outputs) check_graph_tensor(model, output, "output");
  check_unique(model, model.inputs, "input");
  check_unique(model, model.outputs, "output");

  Graph graph;
  for (const FileOperation& file_operation : model.operations) {
    graph.operations.push_back(build_operation(model, file_operation));
  }
  if (graph.operations.empty()) fail(model.name + ": the graph has no operations");
  check_data_flow(model, graph.operations);

  graph.name = model.name;
  graph.inputs = std::move(model.inputs);
  graph.outputs = std::move(model.outputs);
  graph.tensors.reserve(model.tensors.size());
  for (FileTensor& tensor : model.tensors) graph.tensors.push_back(std::move(tensor.tensor));
  return graph;
}

}  // namespace posestream::engine
