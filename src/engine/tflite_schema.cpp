// Verification of the TFLite schema subset we read, and TFLite's builtin operator names.
#include "engine/tflite_schema.h"

#include <array>
#include <string_view>

namespace posestream::engine::schema {

namespace {

// BuiltinOperator names by code, from schema.fbs, for error messages about unsupported operators.
// clang-format off
constexpr std::array<std::string_view, 162> kBuiltinNames = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
    "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU",
    "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH",
    "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB",
    "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2",
    "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX",
    "MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT",
    "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT",
    "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL",
    "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
    "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU",
    "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
    "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM",
    "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D",
    "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL",
    "CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
    "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
};
// clang-format on

}  // namespace

std::string builtin_name(int32_t code) {
  if (code >= 0 && static_cast<size_t>(code) < kBuiltinNames.size()) {
    return std::string(kBuiltinNames[static_cast<size_t>(code)]);
  }
  return "builtin code " + std::to_string(code);
}

bool IndexVector::verify_as(flatbuffers::Verifier& verifier, IndexVectorType type) const {
  if (!verify_start(verifier)) return false;
  bool ok = false;
  switch (type) {
    case IndexVectorType::kInt32: ok = verify_vector<int32_t>(verifier, 0); break;
    case IndexVectorType::kUint16: ok = verify_vector<uint16_t>(verifier, 0); break;
    case IndexVectorType::kUint8: ok = verify_vector<uint8_t>(verifier, 0); break;
    case IndexVectorType::kNone: ok = false; break;
  }
  return ok && verifier.EndTable();
}

namespace {

// A union value: the tag must name a known table type and the table must verify as that type.
bool verify_index_vector(flatbuffers::Verifier& verifier, uint8_t tag, const IndexVector* vector) {
  if (vector == nullptr) return true;
  if (tag < static_cast<uint8_t>(IndexVectorType::kInt32) || tag > static_cast<uint8_t>(IndexVectorType::kUint8)) {
    return false;
  }
  return vector->verify_as(verifier, static_cast<IndexVectorType>(tag));
}

}  // namespace

bool DimensionMetadata::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_scalar<int8_t>(verifier, 0) && verify_scalar<int32_t>(verifier, 1) &&
         verify_scalar<uint8_t>(verifier, 2) && verify_offset(verifier, 3) &&
         verify_index_vector(verifier, segments_type(), segments()) && verify_scalar<uint8_t>(verifier, 4) &&
         verify_offset(verifier, 5) && verify_index_vector(verifier, indices_type(), indices()) && verifier.EndTable();
}

bool SparsityParameters::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_vector<int32_t>(verifier, 0) && verify_vector<int32_t>(verifier, 1) &&
         verify_tables<DimensionMetadata>(verifier, 2) && verifier.EndTable();
}

bool Tensor::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_vector<int32_t>(verifier, 0) && verify_scalar<int8_t>(verifier, 1) &&
         verify_scalar<uint32_t>(verifier, 2) && verify_string(verifier, 3) && verify_scalar<uint8_t>(verifier, 5) &&
         verify_table<SparsityParameters>(verifier, 6) && verifier.EndTable();
}

bool Buffer::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_vector<uint8_t>(verifier, 0) && verify_scalar<uint64_t>(verifier, 1) &&
         verifier.EndTable();
}

bool OperatorCode::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_scalar<int8_t>(verifier, 0) && verify_string(verifier, 1) &&
         verify_scalar<int32_t>(verifier, 3) && verifier.EndTable();
}

bool OptionsTable::verify_as(flatbuffers::Verifier& verifier, OptionsType type) const {
  if (!verify_start(verifier)) return false;
  // Field kinds by id, in schema.fbs order: 'b' int8/bool, 'i' int32. Tables we do not read are only
  // checked to be tables; their fields are never touched.
  const char* layout = "";
  switch (type) {
    case OptionsType::kConv2D: layout = "biibii"; break;
    case OptionsType::kDepthwiseConv2D: layout = "biiibii"; break;
    case OptionsType::kPool2D: layout = "biiiib"; break;
    case OptionsType::kFullyConnected: layout = "bbbb"; break;
    case OptionsType::kConcatenation: layout = "ib"; break;
    case OptionsType::kAdd: layout = "bb"; break;
    case OptionsType::kResizeBilinear: layout = "iibb"; break;
    case OptionsType::kReducer: layout = "b"; break;
    case OptionsType::kDepthToSpace: layout = "i"; break;
    case OptionsType::kNone: break;
  }
  for (int id = 0; layout[id] != '\0'; ++id) {
    const bool ok = layout[id] == 'i' ? verify_scalar<int32_t>(verifier, id) : verify_scalar<int8_t>(verifier, id);
    if (!ok) return false;
  }
  return verifier.EndTable();
}

bool Operator::Verify(flatbuffers::Verifier& verifier) const {
  if (!(verify_start(verifier) && verify_scalar<uint32_t>(verifier, 0) && verify_vector<int32_t>(verifier, 1) &&
        verify_vector<int32_t>(verifier, 2) && verify_scalar<uint8_t>(verifier, 3) && verify_offset(verifier, 4))) {
    return false;
  }
  const OptionsTable* table = options();
  if (table != nullptr) {
    // Unknown tags verify as plain tables (OptionsType::kNone reads no field).
    const auto tag = static_cast<OptionsType>(options_type());
    if (!table->verify_as(verifier, tag)) return false;
  }
  return verifier.EndTable();
}

bool SubGraph::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_tables<Tensor>(verifier, 0) && verify_vector<int32_t>(verifier, 1) &&
         verify_vector<int32_t>(verifier, 2) && verify_tables<Operator>(verifier, 3) && verifier.EndTable();
}

bool Model::Verify(flatbuffers::Verifier& verifier) const {
  return verify_start(verifier) && verify_scalar<uint32_t>(verifier, 0) && verify_tables<OperatorCode>(verifier, 1) &&
         verify_tables<SubGraph>(verifier, 2) && verify_tables<Buffer>(verifier, 4) && verifier.EndTable();
}

bool has_file_identifier(const uint8_t* data, size_t size) {
  return size >= 8 && flatbuffers::BufferHasIdentifier(data, kFileIdentifier);
}

bool verify_model(const uint8_t* data, size_t size) {
  if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) return false;
  flatbuffers::Verifier verifier(data, size);
  return verifier.VerifyBuffer<Model>(kFileIdentifier);
}

const Model* model_root(const uint8_t* data) { return flatbuffers::GetRoot<Model>(data); }

}  // namespace posestream::engine::schema
