// OpChecker: the per-op validation vocabulary of build_graph, with errors naming file, op and tensor.
#pragma once

#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/tflite_file.h"

namespace posestream::engine {

// Wraps one FileOperation of a folded FileModel. Accessors take the op's input position and throw
// ModelError("<file>: op <i> <OPNAME>: <role> tensor #<id> '<name>' <what>") on any mismatch.
class OpChecker {
 public:
  OpChecker(const FileModel& model, const FileOperation& operation)
      : model_(model), operation_(operation), context_(op_context(model, operation)) {}

  [[noreturn]] void fail(const std::string& what) const { throw ModelError(context_ + what); }
  [[noreturn]] void fail_input(size_t position, const std::string& role, const std::string& what) const;
  [[noreturn]] void fail_output(const std::string& what) const;

  // Input count within [min_inputs, max_inputs] and exactly one output.
  void expect_counts(size_t min_inputs, size_t max_inputs) const;
  size_t input_count() const { return operation_.inputs.size(); }
  bool has_input(size_t position) const;
  bool is_constant_input(size_t position) const;
  // The shape of a present input (fails when omitted).
  const std::vector<int32_t>& input_shape(size_t position) const;

  // A non-constant FLOAT32 input with `rank` dims (any rank when rank < 0) and at least one element.
  const Tensor& input(size_t position, const std::string& role, int rank) const;
  // A dense float constant (FLOAT32 or FLOAT16) with `rank` dims.
  const Tensor& constant(size_t position, const std::string& role, int rank) const;
  // constant(), or nullptr when the optional input is omitted (-1) or absent.
  const Tensor* optional_constant(size_t position, const std::string& role, int rank) const;
  // The values of an INT32 constant input whose shape must equal `shape`.
  const std::vector<int32_t>& int_constant(size_t position, const std::string& role,
                                           const std::vector<int32_t>& shape) const;
  // The single output: a non-constant FLOAT32 tensor with `rank` dims (any when < 0), >= 1 element.
  const Tensor& output(int rank) const;
  void expect_output_shape(const std::vector<int32_t>& expected) const;

  bool keep_num_dims() const { return operation_.keep_num_dims; }
  const OpOptions& options() const { return operation_.options; }
  // The engine operation: `type`, the options, the outputs, and the inputs at `float_positions` only
  // (int32 parameter inputs are folded into the options by the caller).
  Operation make(OpType type, const std::vector<size_t>& float_positions) const;

 private:
  const FileTensor& file_tensor(int32_t index) const { return model_.tensors[static_cast<size_t>(index)]; }
  void check_rank(const Tensor& tensor, int rank, const std::string& role_text) const;

  const FileModel& model_;
  const FileOperation& operation_;
  std::string context_;
};

// Validates one op (a supported builtin other than DENSIFY and DEQUANTIZE) into an engine Operation.
Operation build_operation(const FileModel& model, const FileOperation& file_operation);

}  // namespace posestream::engine
