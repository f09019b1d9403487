// read_tflite / read_tflite_file: verify a .tflite flatbuffer and copy its subgraph 0 out, bounded.
#include <bit>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <span>
#include <string_view>

#include "engine/constant_folding.h"
#include "engine/engine.h"
#include "engine/tflite_file.h"

namespace posestream::engine {

namespace {

static_assert(std::endian::native == std::endian::little, "TFLite buffers are little-endian");

// Largest model file we accept; MediaPipe's largest (pose_landmark_heavy) is 27 MB.
constexpr uintmax_t kMaxFileBytes = uintmax_t{512} << 20;
// flatbuffers reads scalars in place; the verifier checks alignment relative to the buffer start.
constexpr uintptr_t kBufferAlignment = 8;

[[noreturn]] void fail(const std::string& message) { throw ModelError(message); }

std::string tensor_type_name(int8_t type) {
  static constexpr std::string_view kNames[] = {
      "FLOAT32", "FLOAT16",    "INT32",  "UINT8",    "INT64",   "STRING", "BOOL",   "INT16", "COMPLEX64", "INT8",
      "FLOAT64", "COMPLEX128", "UINT64", "RESOURCE", "VARIANT", "UINT32", "UINT16", "INT4",  "BFLOAT16"};
  if (type >= 0 && static_cast<size_t>(type) < std::size(kNames)) return std::string(kNames[type]);
  return "type code " + std::to_string(type);
}

std::string string_or_empty(const flatbuffers::String* text) { return text != nullptr ? text->str() : ""; }

std::vector<int32_t> read_shape(const schema::Tensor& file_tensor, const std::string& context) {
  const auto* dims = file_tensor.shape();
  if (dims == nullptr) return {};
  if (dims->size() > static_cast<uint32_t>(kMaxRank)) {
    fail(context + "has " + std::to_string(dims->size()) + " dims, at most " + std::to_string(kMaxRank) + " supported");
  }
  std::vector<int32_t> shape(dims->begin(), dims->end());
  int64_t count = 1;
  for (const int32_t dim : shape) {
    if (dim < 0) fail(context + "has shape " + shape_string(shape) + " with an unknown or negative dim");
    count *= dim;  // Cannot overflow: each factor is checked against the bound before the next.
    if (count > kMaxElements) {
      fail(context + "has shape " + shape_string(shape) + ", more than " + std::to_string(kMaxElements) + " elements");
    }
  }
  return shape;
}

template <typename T>
std::vector<int32_t> widen(const flatbuffers::Vector<T>* values) {
  return values != nullptr ? std::vector<int32_t>(values->begin(), values->end()) : std::vector<int32_t>{};
}

std::vector<int32_t> read_index_vector(uint8_t tag, const schema::IndexVector* vector, const std::string& context) {
  if (vector == nullptr) fail(context + "is missing");
  switch (static_cast<schema::IndexVectorType>(tag)) {
    case schema::IndexVectorType::kInt32: return widen(vector->int32_values());
    case schema::IndexVectorType::kUint16: return widen(vector->uint16_values());
    case schema::IndexVectorType::kUint8: return widen(vector->uint8_values());
    case schema::IndexVectorType::kNone: break;
  }
  fail(context + "has index vector type " + std::to_string(tag) + ", expected Int32, Uint16 or Uint8");
}

SparseDimension read_sparse_dimension(const schema::DimensionMetadata& metadata, const std::string& context) {
  SparseDimension dimension;
  if (metadata.format() == static_cast<int8_t>(schema::DimensionType::kDense)) {
    dimension.dense_size = metadata.dense_size();
    return dimension;
  }
  if (metadata.format() != static_cast<int8_t>(schema::DimensionType::kSparseCsr)) {
    fail(context + "has dimension format " + std::to_string(metadata.format()) + ", expected DENSE or SPARSE_CSR");
  }
  dimension.sparse = true;
  dimension.segments = read_index_vector(metadata.segments_type(), metadata.segments(), context + "segments ");
  dimension.indices = read_index_vector(metadata.indices_type(), metadata.indices(), context + "indices ");
  return dimension;
}

SparseFormat read_sparse_format(const schema::SparsityParameters& sparsity, const std::string& context) {
  SparseFormat format;
  format.traversal_order = widen(sparsity.traversal_order());
  format.block_map = widen(sparsity.block_map());
  const auto* dims = sparsity.dim_metadata();
  if (dims == nullptr || format.traversal_order.size() > size_t{2} * kMaxRank || dims->size() > 2u * kMaxRank) {
    fail(context + "has sparsity without dimension metadata or with more than " + std::to_string(2 * kMaxRank) +
         " traversal dims");
  }
  for (uint32_t level = 0; level < dims->size(); ++level) {
    format.dimensions.push_back(
        read_sparse_dimension(*dims->Get(level), context + "sparse level " + std::to_string(level) + " "));
  }
  return format;
}

// Copies a constant's bytes out as float32 (from FLOAT32 or FLOAT16) or int32 values.
void read_constant(const flatbuffers::Vector<uint8_t>& bytes, FileTensor& tensor, const std::string& context) {
  const bool half = tensor.type == schema::TensorType::kFloat16;
  const size_t value_bytes = half ? 2 : 4;
  if (bytes.size() % value_bytes != 0) {
    fail(context + "has " + std::to_string(bytes.size()) + " data bytes, not a multiple of " +
         std::to_string(value_bytes));
  }
  const size_t count = bytes.size() / value_bytes;
  if (!tensor.sparsity && static_cast<int64_t>(count) != tensor.tensor.element_count()) {
    fail(context + "holds " + std::to_string(count) + " values, its shape " + shape_string(tensor.tensor.shape) +
         " needs " + std::to_string(tensor.tensor.element_count()));
  }
  if (tensor.type == schema::TensorType::kInt32) {
    if (tensor.sparsity) fail(context + "is a sparse INT32 constant, unsupported");
    tensor.int_data.resize(count);
    std::memcpy(tensor.int_data.data(), bytes.data(), bytes.size());
    return;
  }
  std::vector<float> values;
  if (half) {
    values = half_to_float(std::span<const uint8_t>(bytes.data(), bytes.size()));
  } else {
    values.resize(count);
    std::memcpy(values.data(), bytes.data(), bytes.size());
  }
  (tensor.sparsity ? tensor.sparse_values : tensor.tensor.data) = std::move(values);
}

FileTensor read_tensor(const schema::Tensor& file_tensor, int32_t index,
                       const schema::TableVector<schema::Buffer>* buffers, const std::string& file_name) {
  FileTensor tensor;
  tensor.tensor.name = string_or_empty(file_tensor.name());
  const std::string context = file_name + ": tensor #" + std::to_string(index) + " '" + tensor.tensor.name + "' ";
  tensor.tensor.shape = read_shape(file_tensor, context);
  const int8_t type = file_tensor.type();
  if (type < 0 || type > static_cast<int8_t>(schema::TensorType::kInt32)) {
    fail(context + "has type " + tensor_type_name(type) + ", only FLOAT32, FLOAT16 and INT32 are supported");
  }
  tensor.type = static_cast<schema::TensorType>(type);
  if (file_tensor.is_variable()) fail(context + "is a variable tensor, unsupported");
  if (file_tensor.sparsity() != nullptr) tensor.sparsity = read_sparse_format(*file_tensor.sparsity(), context);

  const uint32_t buffer_count = buffers != nullptr ? buffers->size() : 0;
  if (file_tensor.buffer() >= buffer_count) {
    if (file_tensor.buffer() == 0) return tensor;  // Buffer 0 is the conventional "no data"; some files omit it.
    fail(context + "refers to buffer " + std::to_string(file_tensor.buffer()) + ", the file has " +
         std::to_string(buffer_count));
  }
  const schema::Buffer& buffer = *buffers->Get(file_tensor.buffer());
  if (buffer.offset() > 1) fail(context + "keeps its data outside the flatbuffer (a >2 GB model), unsupported");
  const auto* bytes = buffer.data();
  if (bytes != nullptr && bytes->size() > 0) {
    read_constant(*bytes, tensor, context);
  } else if (tensor.sparsity) {
    fail(context + "is sparse but has no data");
  }
  return tensor;
}

std::vector<int32_t> read_tensor_list(const flatbuffers::Vector<int32_t>* list, size_t tensor_count, bool allow_omitted,
                                      const std::string& context) {
  std::vector<int32_t> indices = widen(list);
  for (const int32_t index : indices) {
    if ((index == -1 && allow_omitted) || (index >= 0 && static_cast<size_t>(index) < tensor_count)) continue;
    fail(context + "refers to tensor #" + std::to_string(index) + ", the subgraph has " + std::to_string(tensor_count));
  }
  return indices;
}

bool is_supported(int32_t builtin) {
  using namespace schema::builtin;
  for (const int32_t code :
       {kConv2D, kDepthwiseConv2D, kAdd, kPad, kMaxPool2D, kResizeBilinear, kReshape, kConcatenation, kLogistic, kPRelu,
        kMean, kFullyConnected, kDepthToSpace, kDequantize, kDensify}) {
    if (code == builtin) return true;
  }
  return false;
}

FileOperation read_operation(const schema::Operator& file_op, int32_t index, const schema::Model& root,
                             size_t tensor_count, const std::string& file_name) {
  FileOperation operation;
  operation.index = index;
  std::string context = file_name + ": op " + std::to_string(index) + ": ";
  const auto* codes = root.operator_codes();
  const uint32_t code_count = codes != nullptr ? codes->size() : 0;
  if (file_op.opcode_index() >= code_count) {
    fail(context + "operator code index " + std::to_string(file_op.opcode_index()) + " out of range (" +
         std::to_string(code_count) + " codes)");
  }
  const schema::OperatorCode& code = *codes->Get(file_op.opcode_index());
  operation.builtin = code.builtin_code();
  if (!is_supported(operation.builtin)) {
    const std::string custom =
        operation.builtin == schema::builtin::kCustom ? " '" + string_or_empty(code.custom_code()) + "'" : "";
    fail(context + "unsupported operator " + schema::builtin_name(operation.builtin) + custom);
  }
  context = file_name + ": op " + std::to_string(index) + " " + schema::builtin_name(operation.builtin) + ": ";
  operation.inputs = read_tensor_list(file_op.inputs(), tensor_count, true, context + "input list ");
  operation.outputs = read_tensor_list(file_op.outputs(), tensor_count, false, context + "output list ");
  read_options(file_op, operation, context);
  return operation;
}

}  // namespace

std::string shape_string(const std::vector<int32_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) text += (i > 0 ? "," : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string describe_tensor(const FileModel& model, int32_t index) {
  const std::string name = index >= 0 && static_cast<size_t>(index) < model.tensors.size()
                               ? model.tensors[static_cast<size_t>(index)].tensor.name
                               : "?";
  return "tensor #" + std::to_string(index) + " '" + name + "'";
}

std::string op_context(const FileModel& model, const FileOperation& operation) {
  return model.name + ": op " + std::to_string(operation.index) + " " + schema::builtin_name(operation.builtin) + ": ";
}

FileModel read_file_model(const uint8_t* data, size_t size, const std::string& name) {
  if (!schema::has_file_identifier(data, size)) fail(name + ": not a TFLite model (no \"TFL3\" file identifier)");
  if (!schema::verify_model(data, size)) fail(name + ": corrupt or truncated TFLite flatbuffer (verification failed)");
  const schema::Model& root = *schema::model_root(data);
  const auto* subgraphs = root.subgraphs();
  if (subgraphs == nullptr || subgraphs->size() == 0) fail(name + ": the model has no subgraph");
  const schema::SubGraph& subgraph = *subgraphs->Get(0);

  FileModel model;
  model.name = name;
  const auto* tensors = subgraph.tensors();
  const uint32_t tensor_count = tensors != nullptr ? tensors->size() : 0;
  for (uint32_t i = 0; i < tensor_count; ++i) {
    model.tensors.push_back(read_tensor(*tensors->Get(i), static_cast<int32_t>(i), root.buffers(), name));
  }
  model.inputs = read_tensor_list(subgraph.inputs(), tensor_count, false, name + ": graph input list ");
  model.outputs = read_tensor_list(subgraph.outputs(), tensor_count, false, name + ": graph output list ");
  if (const auto* operators = subgraph.operators()) {
    for (uint32_t i = 0; i < operators->size(); ++i) {
      model.operations.push_back(read_operation(*operators->Get(i), static_cast<int32_t>(i), root, tensor_count, name));
    }
  }
  return model;
}

Graph read_tflite(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.empty()) fail(name + ": empty file");
  if (bytes.size() > kMaxFileBytes) {
    fail(name + ": " + std::to_string(bytes.size()) + " bytes, more than the " + std::to_string(kMaxFileBytes >> 20) +
         " MiB limit");
  }
  std::vector<uint8_t> aligned_copy;
  const uint8_t* data = bytes.data();
  if (reinterpret_cast<uintptr_t>(data) % kBufferAlignment != 0) {
    aligned_copy.assign(bytes.begin(), bytes.end());  // operator new aligns to at least 16 bytes.
    data = aligned_copy.data();
  }
  FileModel model = read_file_model(data, bytes.size(), name);
  fold_constants(model);
  return build_graph(std::move(model));
}

Graph read_tflite_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) fail(name + ": cannot read '" + path.string() + "': " + error.message());
  if (size > kMaxFileBytes) {
    fail(name + ": " + std::to_string(size) + " bytes, more than the " + std::to_string(kMaxFileBytes >> 20) +
         " MiB limit");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) fail(name + ": cannot open '" + path.string() + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (file.gcount() != static_cast<std::streamsize>(bytes.size())) {
    fail(name + ": read " + std::to_string(file.gcount()) + " of " + std::to_string(size) + " bytes of '" +
         path.string() + "'");
  }
  return read_tflite(bytes, name);
}

}  // namespace posestream::engine
