// OpChecker: tensor kind, type, rank and shape checks for one op of a folded FileModel.
#include "engine/tflite_op_checker.h"

namespace posestream::engine {

namespace {

std::string type_text(schema::TensorType type) {
  switch (type) {
    case schema::TensorType::kFloat32: return "FLOAT32";
    case schema::TensorType::kFloat16: return "FLOAT16";
    case schema::TensorType::kInt32: return "INT32";
  }
  return "?";
}

}  // namespace

void OpChecker::fail_input(size_t position, const std::string& role, const std::string& what) const {
  fail(role + " " + describe_tensor(model_, operation_.inputs[position]) + " " + what);
}

void OpChecker::fail_output(const std::string& what) const {
  fail("output " + describe_tensor(model_, operation_.outputs[0]) + " " + what);
}

void OpChecker::expect_counts(size_t min_inputs, size_t max_inputs) const {
  const size_t inputs = operation_.inputs.size();
  if (inputs < min_inputs || inputs > max_inputs || operation_.outputs.size() != 1) {
    const std::string expected = min_inputs == max_inputs
                                     ? std::to_string(min_inputs)
                                     : std::to_string(min_inputs) + " to " + std::to_string(max_inputs);
    fail("has " + std::to_string(inputs) + " inputs and " + std::to_string(operation_.outputs.size()) +
         " outputs, expected " + expected + " inputs and 1 output");
  }
}

bool OpChecker::has_input(size_t position) const {
  return position < operation_.inputs.size() && operation_.inputs[position] >= 0;
}

bool OpChecker::is_constant_input(size_t position) const {
  return has_input(position) && file_tensor(operation_.inputs[position]).is_constant();
}

const std::vector<int32_t>& OpChecker::input_shape(size_t position) const {
  if (!has_input(position)) fail("input " + std::to_string(position) + " is missing");
  return file_tensor(operation_.inputs[position]).tensor.shape;
}

void OpChecker::check_rank(const Tensor& tensor, int rank, const std::string& role_text) const {
  if (rank >= 0 && tensor.shape.size() != static_cast<size_t>(rank)) {
    fail(role_text + " has " + std::to_string(tensor.shape.size()) + " dims " + shape_string(tensor.shape) +
         ", expected " + std::to_string(rank));
  }
}

const Tensor& OpChecker::input(size_t position, const std::string& role, int rank) const {
  if (!has_input(position)) fail(role + " (input " + std::to_string(position) + ") is missing");
  const FileTensor& tensor = file_tensor(operation_.inputs[position]);
  if (tensor.is_constant()) fail_input(position, role, "is a constant, expected a computed tensor");
  if (tensor.type != schema::TensorType::kFloat32)
    fail_input(position, role, "has type " + type_text(tensor.type) + ", expected FLOAT32");
  check_rank(tensor.tensor, rank, role + " " + describe_tensor(model_, operation_.inputs[position]));
  if (tensor.tensor.element_count() == 0)
    fail_input(position, role, "has no elements: " + shape_string(tensor.tensor.shape));
  return tensor.tensor;
}

const Tensor& OpChecker::constant(size_t position, const std::string& role, int rank) const {
  if (!has_input(position)) fail(role + " (input " + std::to_string(position) + ") is missing");
  const FileTensor& tensor = file_tensor(operation_.inputs[position]);
  if (tensor.type == schema::TensorType::kInt32)
    fail_input(position, role, "has type INT32, expected a float constant");
  if (!tensor.tensor.is_constant()) fail_input(position, role, "is not a (dense) constant");
  check_rank(tensor.tensor, rank, role + " " + describe_tensor(model_, operation_.inputs[position]));
  return tensor.tensor;
}

const Tensor* OpChecker::optional_constant(size_t position, const std::string& role, int rank) const {
  return has_input(position) ? &constant(position, role, rank) : nullptr;
}

const std::vector<int32_t>& OpChecker::int_constant(size_t position, const std::string& role,
                                                    const std::vector<int32_t>& shape) const {
  if (!has_input(position)) fail(role + " (input " + std::to_string(position) + ") is missing");
  const FileTensor& tensor = file_tensor(operation_.inputs[position]);
  if (tensor.type != schema::TensorType::kInt32 || tensor.int_data.empty()) {
    fail_input(position, role,
               "must be an INT32 constant, is a " + std::string(tensor.is_constant() ? "" : "non-") + "constant " +
                   type_text(tensor.type) + " tensor");
  }
  if (tensor.tensor.shape != shape) {
    fail_input(position, role, "has shape " + shape_string(tensor.tensor.shape) + ", expected " + shape_string(shape));
  }
  return tensor.int_data;
}

const Tensor& OpChecker::output(int rank) const {
  const FileTensor& tensor = file_tensor(operation_.outputs[0]);
  if (tensor.is_constant()) fail_output("is a constant");
  if (tensor.type != schema::TensorType::kFloat32)
    fail_output("has type " + type_text(tensor.type) + ", expected FLOAT32");
  check_rank(tensor.tensor, rank, "output " + describe_tensor(model_, operation_.outputs[0]));
  if (tensor.tensor.element_count() == 0) fail_output("has no elements: " + shape_string(tensor.tensor.shape));
  return tensor.tensor;
}

void OpChecker::expect_output_shape(const std::vector<int32_t>& expected) const {
  const Tensor& tensor = file_tensor(operation_.outputs[0]).tensor;
  if (tensor.shape != expected) {
    fail_output("has shape " + shape_string(tensor.shape) + ", the op computes " + shape_string(expected));
  }
}

Operation OpChecker::make(OpType type, const std::vector<size_t>& float_positions) const {
  Operation operation;
  operation.type = type;
  operation.index = operation_.index;
  for (const size_t position : float_positions) {
    operation.inputs.push_back(position < operation_.inputs.size() ? operation_.inputs[position] : -1);
  }
  operation.outputs = operation_.outputs;
  operation.options = operation_.options;
  return operation;
}

}  // namespace posestream::engine
