// Read-only accessors over flatbuffers::Table for the subset of TFLite's schema (schema.fbs) we read.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <cstdint>
#include <string>

// Field ids follow schema.fbs declaration order; a union field takes two ids (its type, then its
// value). Every class here overlays verified flatbuffer memory and is never constructed: obtain
// pointers through model_root() after verify_model() succeeded, as generated flatbuffers code does.
namespace posestream::engine::schema {

inline constexpr const char* kFileIdentifier = "TFL3";

enum class TensorType : int8_t { kFloat32 = 0, kFloat16 = 1, kInt32 = 2 };  // Others are unsupported.
enum class DimensionType : int8_t { kDense = 0, kSparseCsr = 1 };
enum class IndexVectorType : uint8_t { kNone = 0, kInt32 = 1, kUint16 = 2, kUint8 = 3 };

// BuiltinOperator codes of the ops we fold or map.
namespace builtin {
inline constexpr int32_t kAdd = 0;
inline constexpr int32_t kConcatenation = 2;
inline constexpr int32_t kConv2D = 3;
inline constexpr int32_t kDepthwiseConv2D = 4;
inline constexpr int32_t kDepthToSpace = 5;
inline constexpr int32_t kDequantize = 6;
inline constexpr int32_t kFullyConnected = 9;
inline constexpr int32_t kLogistic = 14;
inline constexpr int32_t kMaxPool2D = 17;
inline constexpr int32_t kReshape = 22;
inline constexpr int32_t kResizeBilinear = 23;
inline constexpr int32_t kCustom = 32;
inline constexpr int32_t kPad = 34;
inline constexpr int32_t kMean = 40;
inline constexpr int32_t kPRelu = 54;
inline constexpr int32_t kDensify = 124;
}  // namespace builtin

// TFLite's name of a builtin operator code ("SOFTMAX"), or "builtin code <n>" past the known ones.
std::string builtin_name(int32_t code);

// Tags of the BuiltinOptions union for the options tables we read.
enum class OptionsType : uint8_t {
  kNone = 0,
  kConv2D = 1,
  kDepthwiseConv2D = 2,
  kPool2D = 5,
  kFullyConnected = 8,
  kConcatenation = 10,
  kAdd = 11,
  kResizeBilinear = 15,
  kReducer = 27,
  kDepthToSpace = 94,
};

// Field access and verification helpers shared by every table class below.
class TableView : private flatbuffers::Table {
 public:
  TableView() = delete;

 protected:
  static constexpr flatbuffers::voffset_t slot(int id) { return static_cast<flatbuffers::voffset_t>(4 + 2 * id); }
  template <typename T>
  T scalar(int id, T default_value) const {
    return GetField<T>(slot(id), default_value);
  }
  template <typename T>
  const flatbuffers::Vector<T>* vector(int id) const {
    return GetPointer<const flatbuffers::Vector<T>*>(slot(id));
  }
  template <typename T>
  const T* table(int id) const {
    return GetPointer<const T*>(slot(id));
  }
  const flatbuffers::String* string(int id) const { return GetPointer<const flatbuffers::String*>(slot(id)); }

  bool verify_start(flatbuffers::Verifier& verifier) const { return VerifyTableStart(verifier); }
  bool verify_offset(const flatbuffers::Verifier& verifier, int id) const { return VerifyOffset(verifier, slot(id)); }
  template <typename T>
  bool verify_scalar(const flatbuffers::Verifier& verifier, int id) const {
    return VerifyField<T>(verifier, slot(id), sizeof(T));
  }
  template <typename T>
  bool verify_vector(const flatbuffers::Verifier& verifier, int id) const {
    return VerifyOffset(verifier, slot(id)) && verifier.VerifyVector(vector<T>(id));
  }
  bool verify_string(const flatbuffers::Verifier& verifier, int id) const {
    return VerifyOffset(verifier, slot(id)) && verifier.VerifyString(string(id));
  }
  template <typename T>
  bool verify_table(flatbuffers::Verifier& verifier, int id) const {
    return VerifyOffset(verifier, slot(id)) && verifier.VerifyTable(table<T>(id));
  }
  template <typename T>
  bool verify_tables(flatbuffers::Verifier& verifier, int id) const {
    // The field's own bytes must be verified before its offset is followed.
    if (!VerifyOffset(verifier, slot(id))) return false;
    const auto* tables = vector<flatbuffers::Offset<T>>(id);
    return verifier.VerifyVector(tables) && verifier.VerifyVectorOfTables(tables);
  }
};

template <typename T>
using TableVector = flatbuffers::Vector<flatbuffers::Offset<T>>;

// Int32Vector, Uint16Vector and Uint8Vector: one `values` vector, typed by the union tag.
class IndexVector : public TableView {
 public:
  const flatbuffers::Vector<int32_t>* int32_values() const { return vector<int32_t>(0); }
  const flatbuffers::Vector<uint16_t>* uint16_values() const { return vector<uint16_t>(0); }
  const flatbuffers::Vector<uint8_t>* uint8_values() const { return vector<uint8_t>(0); }
  bool verify_as(flatbuffers::Verifier& verifier, IndexVectorType type) const;
};

class DimensionMetadata : public TableView {
 public:
  int8_t format() const { return scalar<int8_t>(0, 0); }
  int32_t dense_size() const { return scalar<int32_t>(1, 0); }
  uint8_t segments_type() const { return scalar<uint8_t>(2, 0); }
  const IndexVector* segments() const { return table<IndexVector>(3); }
  uint8_t indices_type() const { return scalar<uint8_t>(4, 0); }
  const IndexVector* indices() const { return table<IndexVector>(5); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class SparsityParameters : public TableView {
 public:
  const flatbuffers::Vector<int32_t>* traversal_order() const { return vector<int32_t>(0); }
  const flatbuffers::Vector<int32_t>* block_map() const { return vector<int32_t>(1); }
  const TableVector<DimensionMetadata>* dim_metadata() const {
    return vector<flatbuffers::Offset<DimensionMetadata>>(2);
  }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class Tensor : public TableView {
 public:
  const flatbuffers::Vector<int32_t>* shape() const { return vector<int32_t>(0); }
  int8_t type() const { return scalar<int8_t>(1, 0); }
  uint32_t buffer() const { return scalar<uint32_t>(2, 0); }
  const flatbuffers::String* name() const { return string(3); }
  bool is_variable() const { return scalar<uint8_t>(5, 0) != 0; }
  const SparsityParameters* sparsity() const { return table<SparsityParameters>(6); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class Buffer : public TableView {
 public:
  const flatbuffers::Vector<uint8_t>* data() const { return vector<uint8_t>(0); }
  uint64_t offset() const { return scalar<uint64_t>(1, 0); }  // > 1: data lives outside the flatbuffer.
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class OperatorCode : public TableView {
 public:
  // The deprecated int8 field 0 holds codes below 127; newer files also (or only) fill int32 field 3.
  int32_t builtin_code() const { return std::max<int32_t>(scalar<int8_t>(0, 0), scalar<int32_t>(3, 0)); }
  const flatbuffers::String* custom_code() const { return string(1); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

// Every options table we read is a plain row of scalars; each op's reader knows its field ids.
class OptionsTable : public TableView {
 public:
  int32_t int32_field(int id, int32_t default_value) const { return scalar<int32_t>(id, default_value); }
  int8_t int8_field(int id) const { return scalar<int8_t>(id, 0); }
  bool bool_field(int id) const { return scalar<uint8_t>(id, 0) != 0; }
  bool verify_as(flatbuffers::Verifier& verifier, OptionsType type) const;
};

class Operator : public TableView {
 public:
  uint32_t opcode_index() const { return scalar<uint32_t>(0, 0); }
  const flatbuffers::Vector<int32_t>* inputs() const { return vector<int32_t>(1); }
  const flatbuffers::Vector<int32_t>* outputs() const { return vector<int32_t>(2); }
  uint8_t options_type() const { return scalar<uint8_t>(3, 0); }
  const OptionsTable* options() const { return table<OptionsTable>(4); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class SubGraph : public TableView {
 public:
  const TableVector<Tensor>* tensors() const { return vector<flatbuffers::Offset<Tensor>>(0); }
  const flatbuffers::Vector<int32_t>* inputs() const { return vector<int32_t>(1); }
  const flatbuffers::Vector<int32_t>* outputs() const { return vector<int32_t>(2); }
  const TableVector<Operator>* operators() const { return vector<flatbuffers::Offset<Operator>>(3); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

class Model : public TableView {
 public:
  uint32_t version() const { return scalar<uint32_t>(0, 0); }
  const TableVector<OperatorCode>* operator_codes() const { return vector<flatbuffers::Offset<OperatorCode>>(1); }
  const TableVector<SubGraph>* subgraphs() const { return vector<flatbuffers::Offset<SubGraph>>(2); }
  const TableVector<Buffer>* buffers() const { return vector<flatbuffers::Offset<Buffer>>(4); }
  bool Verify(flatbuffers::Verifier& verifier) const;
};

// True when `data` (which must stay alive and be 4-byte aligned) carries the "TFL3" identifier.
bool has_file_identifier(const uint8_t* data, size_t size);
// Verifies every table, vector and string the reader touches; false on any out-of-bounds offset.
bool verify_model(const uint8_t* data, size_t size);
// The root table of a buffer that verify_model() accepted.
const Model* model_root(const uint8_t* data);

}  // namespace posestream::engine::schema
