// Builds small .tflite flatbuffers field by field (schema.fbs ids) for the reader's tests.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

// Independent of the reader's accessors on purpose: tables are written with FlatBufferBuilder from the
// field ids in TFLite's schema.fbs (slot = 4 + 2 * id; a union takes the type id, then the value id).
namespace posestream::testing::tflite {

inline constexpr int8_t kFloat32 = 0;
inline constexpr int8_t kFloat16 = 1;
inline constexpr int8_t kInt32 = 2;
inline constexpr int8_t kInt8 = 9;

// One level of a sparse tensor: DENSE with `dense_size`, or SPARSE_CSR with segments and indices
// stored as Int32Vector (1), Uint16Vector (2) or Uint8Vector (3).
struct SparseLevel {
  bool sparse = false;
  int32_t dense_size = 0;
  std::vector<int32_t> segments;
  std::vector<int32_t> indices;
  uint8_t segments_type = 3;
  uint8_t indices_type = 3;
};

struct Sparsity {
  std::vector<int32_t> traversal_order;
  std::vector<int32_t> block_map;
  std::vector<SparseLevel> levels;
};

struct TensorSpec {
  std::string name;
  std::vector<int32_t> shape;
  int8_t type = kFloat32;
  std::vector<uint8_t> data;  // Empty: no buffer (a computed tensor).
  std::optional<Sparsity> sparsity;
  std::optional<uint32_t> buffer;  // Overrides the buffer index (to point it out of range).
};

// One scalar field of an options table: `bytes` 1 (int8/bool) or 4 (int32).
struct OptionField {
  int id;
  int bytes;
  int32_t value;
};

struct OperatorSpec {
  int32_t builtin = 0;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  uint8_t options_type = 0;  // BuiltinOptions union tag; 0 writes no options table.
  std::vector<OptionField> options;
};

struct ModelSpec {
  std::vector<TensorSpec> tensors;
  std::vector<OperatorSpec> operators;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
};

inline flatbuffers::voffset_t slot(int id) { return static_cast<flatbuffers::voffset_t>(4 + 2 * id); }

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

class ModelWriter {
 public:
  std::vector<uint8_t> write(const ModelSpec& spec) {
    builder_.ForceDefaults(true);
    std::vector<flatbuffers::Offset<void>> buffers{empty_table()};
    std::vector<flatbuffers::Offset<void>> tensors;
    for (const TensorSpec& tensor : spec.tensors) {
      uint32_t buffer = 0;
      if (!tensor.data.empty()) {
        buffer = static_cast<uint32_t>(buffers.size());
        buffers.push_back(buffer_table(tensor.data));
      }
      tensors.push_back(tensor_table(tensor, tensor.buffer.value_or(buffer)));
    }
    std::vector<int32_t> codes;
    std::vector<flatbuffers::Offset<void>> operators;
    for (const OperatorSpec& op : spec.operators) operators.push_back(operator_table(op, codes));
    std::vector<flatbuffers::Offset<void>> code_tables;
    for (const int32_t code : codes) code_tables.push_back(operator_code_table(code));

    const auto tensor_vector = builder_.CreateVector(tensors);
    const auto inputs = builder_.CreateVector(spec.inputs);
    const auto outputs = builder_.CreateVector(spec.outputs);
    const auto operator_vector = builder_.CreateVector(operators);
    auto start = builder_.StartTable();
    builder_.AddOffset(slot(0), tensor_vector);
    builder_.AddOffset(slot(1), inputs);
    builder_.AddOffset(slot(2), outputs);
    builder_.AddOffset(slot(3), operator_vector);
    const flatbuffers::Offset<void> subgraph(builder_.EndTable(start));

    const auto code_vector = builder_.CreateVector(code_tables);
    const auto subgraphs = builder_.CreateVector(std::vector<flatbuffers::Offset<void>>{subgraph});
    const auto buffer_vector = builder_.CreateVector(buffers);
    start = builder_.StartTable();
    builder_.AddElement<uint32_t>(slot(0), 3);
    builder_.AddOffset(slot(1), code_vector);
    builder_.AddOffset(slot(2), subgraphs);
    builder_.AddOffset(slot(4), buffer_vector);
    builder_.Finish(flatbuffers::Offset<void>(builder_.EndTable(start)), "TFL3");
    return std::vector<uint8_t>(builder_.GetBufferPointer(), builder_.GetBufferPointer() + builder_.GetSize());
  }

 private:
  flatbuffers::Offset<void> empty_table() {
    return flatbuffers::Offset<void>(builder_.EndTable(builder_.StartTable()));
  }

  flatbuffers::Offset<void> buffer_table(const std::vector<uint8_t>& data) {
    builder_.ForceVectorAlignment(data.size(), 1, 16);
    const auto vector = builder_.CreateVector(data);
    const auto start = builder_.StartTable();
    builder_.AddOffset(slot(0), vector);
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> index_vector(uint8_t type, const std::vector<int32_t>& values) {
    flatbuffers::Offset<void> vector;
    if (type == 1) vector = builder_.CreateVector(values).Union();
    if (type == 2) vector = builder_.CreateVector(std::vector<uint16_t>(values.begin(), values.end())).Union();
    if (type == 3) vector = builder_.CreateVector(std::vector<uint8_t>(values.begin(), values.end())).Union();
    const auto start = builder_.StartTable();
    builder_.AddOffset(slot(0), vector);
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> level_table(const SparseLevel& level) {
    flatbuffers::Offset<void> segments, indices;
    if (level.sparse) {
      segments = index_vector(level.segments_type, level.segments);
      indices = index_vector(level.indices_type, level.indices);
    }
    const auto start = builder_.StartTable();
    builder_.AddElement<int8_t>(slot(0), level.sparse ? 1 : 0);
    builder_.AddElement<int32_t>(slot(1), level.dense_size);
    if (level.sparse) {
      builder_.AddElement<uint8_t>(slot(2), level.segments_type);
      builder_.AddOffset(slot(3), segments);
      builder_.AddElement<uint8_t>(slot(4), level.indices_type);
      builder_.AddOffset(slot(5), indices);
    }
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> sparsity_table(const Sparsity& sparsity) {
    std::vector<flatbuffers::Offset<void>> levels;
    for (const SparseLevel& level : sparsity.levels) levels.push_back(level_table(level));
    const auto order = builder_.CreateVector(sparsity.traversal_order);
    const auto block_map = builder_.CreateVector(sparsity.block_map);
    const auto level_vector = builder_.CreateVector(levels);
    const auto start = builder_.StartTable();
    builder_.AddOffset(slot(0), order);
    if (!sparsity.block_map.empty()) builder_.AddOffset(slot(1), block_map);
    builder_.AddOffset(slot(2), level_vector);
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> tensor_table(const TensorSpec& tensor, uint32_t buffer) {
    flatbuffers::Offset<void> sparsity;
    if (tensor.sparsity) sparsity = sparsity_table(*tensor.sparsity);
    const auto shape = builder_.CreateVector(tensor.shape);
    const auto name = builder_.CreateString(tensor.name);
    const auto start = builder_.StartTable();
    builder_.AddOffset(slot(0), shape);
    builder_.AddElement<int8_t>(slot(1), tensor.type);
    builder_.AddElement<uint32_t>(slot(2), buffer);
    builder_.AddOffset(slot(3), name);
    if (tensor.sparsity) builder_.AddOffset(slot(6), sparsity);
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> operator_code_table(int32_t code) {
    const auto start = builder_.StartTable();
    builder_.AddElement<int8_t>(slot(0), static_cast<int8_t>(code < 127 ? code : 127));
    builder_.AddElement<int32_t>(slot(2), 1);
    builder_.AddElement<int32_t>(slot(3), code);
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::Offset<void> operator_table(const OperatorSpec& op, std::vector<int32_t>& codes) {
    flatbuffers::Offset<void> options;
    if (op.options_type != 0) {
      const auto start = builder_.StartTable();
      for (const OptionField& field : op.options) {
        if (field.bytes == 1) builder_.AddElement<int8_t>(slot(field.id), static_cast<int8_t>(field.value));
        if (field.bytes == 4) builder_.AddElement<int32_t>(slot(field.id), field.value);
      }
      options = flatbuffers::Offset<void>(builder_.EndTable(start));
    }
    uint32_t code_index = 0;
    while (code_index < codes.size() && codes[code_index] != op.builtin) ++code_index;
    if (code_index == codes.size()) codes.push_back(op.builtin);
    const auto inputs = builder_.CreateVector(op.inputs);
    const auto outputs = builder_.CreateVector(op.outputs);
    const auto start = builder_.StartTable();
    builder_.AddElement<uint32_t>(slot(0), code_index);
    builder_.AddOffset(slot(1), inputs);
    builder_.AddOffset(slot(2), outputs);
    if (op.options_type != 0) {
      builder_.AddElement<uint8_t>(slot(3), op.options_type);
      builder_.AddOffset(slot(4), options);
    }
    return flatbuffers::Offset<void>(builder_.EndTable(start));
  }

  flatbuffers::FlatBufferBuilder builder_;
};

inline std::vector<uint8_t> write_model(const ModelSpec& spec) { return ModelWriter().write(spec); }

// IEEE binary16 bit patterns, little-endian, for FLOAT16 constants.
inline std::vector<uint8_t> half_bytes(const std::vector<uint16_t>& bits) { return bytes_of(bits); }

// Conv2DOptions: padding 0 (VALID = 1), stride_w 1, stride_h 2, fused activation 3 (NONE = 0).
inline std::vector<OptionField> conv_options_valid_stride_1() {
  return {{0, 1, 1}, {1, 4, 1}, {2, 4, 1}, {3, 1, 0}, {4, 4, 1}, {5, 4, 1}};
}

}  // namespace posestream::testing::tflite
