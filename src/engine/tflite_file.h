// The reader's intermediate form: a .tflite file's tensors and operators as read, before folding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "engine/tflite_schema.h"

// Stages, all throwing ModelError with the file's name first:
//   read_file_model (tflite_reader.cpp): flatbuffer -> FileModel, every index and size bounded;
//   fold_constants (constant_folding.cpp): DENSIFY and DEQUANTIZE become float constants;
//   build_graph (tflite_operations.cpp): per-op validation, options and int32 parameters -> Graph.
namespace posestream::engine {

// Limits on what a file may ask us to allocate.
inline constexpr int kMaxRank = 8;
inline constexpr int64_t kMaxElements = int64_t{1} << 28;

// One dimension of TFLite's sparse tensor format, in traversal order.
struct SparseDimension {
  bool sparse = false;            // SPARSE_CSR; DENSE otherwise.
  int32_t dense_size = 0;         // DENSE: the dimension's size.
  std::vector<int32_t> segments;  // SPARSE_CSR: per parent position, [start, end) into indices.
  std::vector<int32_t> indices;   // SPARSE_CSR: coordinate of each stored entry along this dimension.
};

// TFLite's SparsityParameters, copied out of the flatbuffer.
struct SparseFormat {
  std::vector<int32_t> traversal_order;  // n dims of the dense shape, then k block dims.
  std::vector<int32_t> block_map;        // Dense dim each of the k block dims subdivides.
  std::vector<SparseDimension> dimensions;
};

struct FileTensor {
  Tensor tensor;  // Name and shape; data holds a dense float32 or float16 constant, as float32.
  schema::TensorType type = schema::TensorType::kFloat32;
  std::vector<int32_t> int_data;  // An int32 constant.
  std::optional<SparseFormat> sparsity;
  std::vector<float> sparse_values;  // The stored values of a sparse constant, in storage order.

  bool is_constant() const { return tensor.is_constant() || !int_data.empty() || !sparse_values.empty(); }
};

struct FileOperation {
  int32_t index = 0;             // Position in the file's operator list.
  int32_t builtin = 0;           // TFLite BuiltinOperator code.
  std::vector<int32_t> inputs;   // -1 marks an omitted optional input; others are valid indices.
  std::vector<int32_t> outputs;  // Valid indices.
  OpOptions options;
  bool keep_num_dims = false;  // FULLY_CONNECTED: output keeps the input's leading dims.
};

struct FileModel {
  std::string name;
  std::vector<FileTensor> tensors;
  std::vector<FileOperation> operations;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

// "tensor #12 'conv1/weights'"
std::string describe_tensor(const FileModel& model, int32_t index);
// "pose_detection.tflite: op 17 DEPTHWISE_CONV_2D: "
std::string op_context(const FileModel& model, const FileOperation& operation);
// "[1,224,224,3]"
std::string shape_string(const std::vector<int32_t>& shape);

// `data` must be 8-byte aligned and outlive the call; the FileModel keeps no pointer into it.
FileModel read_file_model(const uint8_t* data, size_t size, const std::string& name);
// Fills operation.options (and keep_num_dims) from the op's options table; `context` prefixes errors.
void read_options(const schema::Operator& file_op, FileOperation& operation, const std::string& context);
void fold_constants(FileModel& model);
Graph build_graph(FileModel model);

}  // namespace posestream::engine
