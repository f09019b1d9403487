// The TFLite reader on the 8 MediaPipe models and on small hand-built flatbuffers with hand-worked values.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <vector>

#include "engine/constant_folding.h"
#include "engine/engine.h"
#include "engine/tflite_test_builder.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

namespace builder = posestream::testing::tflite;

struct ModelFacts {
  const char* file;
  std::vector<int32_t> input_shape;
  size_t outputs;
};

const std::vector<ModelFacts>& model_facts() {
  static const std::vector<ModelFacts> facts = {
      {"pose_detection.tflite", {1, 224, 224, 3}, 2},      {"pose_landmark_lite.tflite", {1, 256, 256, 3}, 5},
      {"pose_landmark_full.tflite", {1, 256, 256, 3}, 5},  {"pose_landmark_heavy.tflite", {1, 256, 256, 3}, 5},
      {"palm_detection_lite.tflite", {1, 192, 192, 3}, 2}, {"palm_detection_full.tflite", {1, 192, 192, 3}, 2},
      {"hand_landmark_lite.tflite", {1, 224, 224, 3}, 4},  {"hand_landmark_full.tflite", {1, 224, 224, 3}, 4},
  };
  return facts;
}

std::vector<uint8_t> file_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// Every op reads constants, graph inputs or earlier outputs; weights are folded float constants.
void expect_well_formed(const Graph& graph) {
  std::vector<bool> defined(graph.tensors.size(), false);
  for (size_t i = 0; i < graph.tensors.size(); ++i) defined[i] = graph.tensors[i].is_constant();
  for (const int32_t input : graph.inputs) defined[static_cast<size_t>(input)] = true;
  for (const Operation& operation : graph.operations) {
    for (const int32_t input : operation.inputs) {
      if (input < 0) continue;
      ASSERT_LT(static_cast<size_t>(input), graph.tensors.size());
      EXPECT_TRUE(defined[static_cast<size_t>(input)]) << "op " << operation.index << " reads tensor #" << input;
    }
    for (const int32_t output : operation.outputs) defined[static_cast<size_t>(output)] = true;
    const bool has_weights = operation.type == OpType::kConv2D || operation.type == OpType::kDepthwiseConv2D ||
                             operation.type == OpType::kFullyConnected;
    if (!has_weights) continue;
    const Tensor& filter = graph.tensors[static_cast<size_t>(operation.inputs[1])];
    EXPECT_TRUE(filter.is_constant()) << "op " << operation.index << " filter '" << filter.name << "'";
    EXPECT_EQ(static_cast<int64_t>(filter.data.size()), filter.element_count());
  }
}

TEST(ReaderModels, LoadAllEight) {
  if (!std::filesystem::is_directory(posestream::testing::models_dir())) {
    GTEST_SKIP() << "models dir " << posestream::testing::models_dir() << " is missing (run scripts/setup)";
  }
  for (const ModelFacts& facts : model_facts()) {
    SCOPED_TRACE(facts.file);
    const Graph graph = read_tflite_file(posestream::testing::models_dir() / facts.file);
    EXPECT_EQ(graph.name, facts.file);
    EXPECT_GT(graph.operations.size(), 0u);
    ASSERT_EQ(graph.inputs.size(), 1u);
    EXPECT_EQ(graph.tensors[static_cast<size_t>(graph.inputs[0])].shape, facts.input_shape);
    EXPECT_EQ(graph.outputs.size(), facts.outputs);
    for (const int32_t output : graph.outputs) EXPECT_FALSE(graph.tensors[static_cast<size_t>(output)].is_constant());
    // OpType has no DEQUANTIZE or DENSIFY: were any left, loading would have failed. Their outputs must
    // now be constants, which expect_well_formed checks for every filter.
    expect_well_formed(graph);
  }
}

// Raw flatbuffer access by schema.fbs field id, independent of the reader's accessors.
const flatbuffers::Table* table_at(const flatbuffers::Table* table, int id) {
  return table->GetPointer<const flatbuffers::Table*>(builder::slot(id));
}
template <typename T>
const flatbuffers::Vector<T>* vector_at(const flatbuffers::Table* table, int id) {
  return table->GetPointer<const flatbuffers::Vector<T>*>(builder::slot(id));
}
const flatbuffers::Table* table_in(const flatbuffers::Table* table, int id, uint32_t i) {
  return vector_at<flatbuffers::Offset<flatbuffers::Table>>(table, id)->Get(i);
}

// binary16 by the textbook formula, in double: (-1)^s * 2^(e-15) * (1 + m/1024), subnormals 2^-14 * m/1024.
double half_value(uint16_t bits) {
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
  return (bits & 0x8000) != 0 ? -magnitude : magnitude;
}

std::vector<int32_t> index_values(const flatbuffers::Table* level, int type_id, int value_id) {
  const uint8_t type = level->GetField<uint8_t>(builder::slot(type_id), 0);
  const flatbuffers::Table* vector = table_at(level, value_id);
  std::vector<int32_t> values;
  if (type == 1)
    for (const int32_t v : *vector_at<int32_t>(vector, 0)) values.push_back(v);
  if (type == 2)
    for (const uint16_t v : *vector_at<uint16_t>(vector, 0)) values.push_back(v);
  if (type == 3)
    for (const uint8_t v : *vector_at<uint8_t>(vector, 0)) values.push_back(v);
  return values;
}

// The dense [O,1,1,I] values of one pose_detection sparse tensor: traversal [0,1,2,3], levels 0-2
// DENSE, level 3 SPARSE_CSR with one segment per row of I (DESIGN.md's engine facts).
std::vector<float> reference_dense(const flatbuffers::Table* tensor, const flatbuffers::Table* model) {
  const auto* shape = vector_at<int32_t>(tensor, 0);
  const int32_t rows = shape->Get(0) * shape->Get(1) * shape->Get(2);
  const int32_t columns = shape->Get(3);
  const flatbuffers::Table* sparsity = table_at(tensor, 6);
  EXPECT_EQ(vector_at<int32_t>(sparsity, 0)->size(), 4u);
  EXPECT_EQ(vector_at<int32_t>(sparsity, 1), nullptr);  // No block map.
  const flatbuffers::Table* level3 = table_in(sparsity, 2, 3);
  EXPECT_EQ(level3->GetField<int8_t>(builder::slot(0), 0), 1);  // SPARSE_CSR
  const std::vector<int32_t> segments = index_values(level3, 2, 3);
  const std::vector<int32_t> indices = index_values(level3, 4, 5);
  const flatbuffers::Table* buffer = table_in(model, 4, tensor->GetField<uint32_t>(builder::slot(2), 0));
  const auto* data = vector_at<uint8_t>(buffer, 0);
  EXPECT_EQ(segments.size(), static_cast<size_t>(rows) + 1);
  EXPECT_EQ(data->size(), 2 * indices.size());
  std::vector<float> dense(static_cast<size_t>(rows) * static_cast<size_t>(columns), 0.0f);
  for (int32_t row = 0; row < rows; ++row) {
    for (int32_t entry = segments[static_cast<size_t>(row)]; entry < segments[static_cast<size_t>(row) + 1]; ++entry) {
      const auto bits = static_cast<uint16_t>(data->Get(2 * entry) | (data->Get(2 * entry + 1) << 8));
      dense[static_cast<size_t>(row * columns + indices[static_cast<size_t>(entry)])] =
          static_cast<float>(half_value(bits));
    }
  }
  return dense;
}

TEST(ReaderModels, PoseDetectionDensifyMatchesIndependentReference) {
  const auto path = posestream::testing::models_dir() / "pose_detection.tflite";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing (run scripts/setup)";
  const std::vector<uint8_t> bytes = file_bytes(path);
  const Graph graph = read_tflite(bytes, "pose_detection.tflite");

  const auto* model = flatbuffers::GetRoot<flatbuffers::Table>(bytes.data());
  const flatbuffers::Table* subgraph = table_in(model, 2, 0);
  const auto* operators = vector_at<flatbuffers::Offset<flatbuffers::Table>>(subgraph, 3);
  auto builtin_of = [&](const flatbuffers::Table* op) {
    const flatbuffers::Table* code = table_in(model, 1, op->GetField<uint32_t>(builder::slot(0), 0));
    return std::max<int32_t>(code->GetField<int8_t>(builder::slot(0), 0), code->GetField<int32_t>(builder::slot(3), 0));
  };
  size_t densify_count = 0, zeros = 0, total = 0;
  for (const flatbuffers::Table* densify : *operators) {
    if (builtin_of(densify) != 124) continue;
    ++densify_count;
    const int32_t sparse = vector_at<int32_t>(densify, 1)->Get(0);
    const int32_t dense = vector_at<int32_t>(densify, 2)->Get(0);
    // The DEQUANTIZE reading the DENSIFY output produces the float constant the graph keeps.
    int32_t folded = -1;
    for (const flatbuffers::Table* op : *operators) {
      if (builtin_of(op) == 6 && vector_at<int32_t>(op, 1)->Get(0) == dense) folded = vector_at<int32_t>(op, 2)->Get(0);
    }
    ASSERT_GE(folded, 0);
    const std::vector<float> expected = reference_dense(table_in(subgraph, 0, static_cast<uint32_t>(sparse)), model);
    EXPECT_EQ(graph.tensors[static_cast<size_t>(folded)].data, expected) << "DENSIFY of tensor #" << sparse;
    for (const float value : expected) zeros += value == 0.0f ? 1 : 0;
    total += expected.size();
  }
  EXPECT_EQ(densify_count, 38u);
  const double zero_fraction = static_cast<double>(zeros) / static_cast<double>(total);
  EXPECT_GT(zero_fraction, 0.70);
  EXPECT_LT(zero_fraction, 0.80);
}

TEST(ReaderFolding, HalfToFloatMatchesTheFormulaForEveryPattern) {
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    const float value = half_to_float(static_cast<uint16_t>(bits));
    const int exponent = (bits >> 10) & 0x1f;
    if (exponent == 0x1f) {
      EXPECT_TRUE((bits & 0x3ff) != 0 ? std::isnan(value) : std::isinf(value)) << bits;
    } else {
      EXPECT_EQ(static_cast<double>(value), half_value(static_cast<uint16_t>(bits))) << bits;
    }
  }
  EXPECT_EQ(half_to_float(0x3c00), 1.0f);
  EXPECT_EQ(half_to_float(0xc000), -2.0f);
  EXPECT_EQ(half_to_float(0x7bff), 65504.0f);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0f, -24));
}

// ---- Hand-built models: values worked out by hand. ----

using builder::OperatorSpec;
using builder::TensorSpec;

constexpr int32_t kConv2D = 3, kDepthwiseConv2D = 4, kConcatenation = 2, kDequantize = 6, kPad = 34, kMean = 40,
                  kDensify = 124;

TEST(ReaderBuilt, ConvWithDequantizedFp16Weights) {
  builder::ModelSpec spec;
  // fp16 bits: 0x3e00 = 1.5, 0xb400 = -0.25, 0x0001 = 2^-24 (smallest subnormal), 0x7bff = 65504 (largest).
  spec.tensors = {
      {"input", {1, 1, 1, 1}},
      {"filter_fp16", {4, 1, 1, 1}, builder::kFloat16, builder::half_bytes({0x3e00, 0xb400, 0x0001, 0x7bff})},
      {"filter", {4, 1, 1, 1}},
      {"bias_fp16", {4}, builder::kFloat16, builder::half_bytes({0x3800, 0x4000, 0x0000, 0xbc00})},
      {"bias", {4}},
      {"output", {1, 1, 1, 4}}};
  spec.operators = {{kDequantize, {1}, {2}},
                    {kDequantize, {3}, {4}},
                    {kConv2D, {0, 2, 4}, {5}, 1, builder::conv_options_valid_stride_1()}};
  spec.inputs = {0};
  spec.outputs = {5};
  const Graph graph = read_tflite(builder::write_model(spec), "fp16_conv.tflite");
  ASSERT_EQ(graph.operations.size(), 1u);
  const Operation& conv = graph.operations[0];
  EXPECT_EQ(conv.type, OpType::kConv2D);
  EXPECT_EQ(conv.index, 2);
  EXPECT_EQ(conv.inputs, (std::vector<int32_t>{0, 2, 4}));
  EXPECT_EQ(conv.options.padding, Padding::kValid);
  EXPECT_EQ(graph.tensors[2].data, (std::vector<float>{1.5f, -0.25f, std::ldexp(1.0f, -24), 65504.0f}));
  EXPECT_EQ(graph.tensors[4].data, (std::vector<float>{0.5f, 2.0f, 0.0f, -1.0f}));
}

TEST(ReaderBuilt, ConvWithDensifiedSparseWeights) {
  // Dense filter [2,1,1,4]: row 0 = [0, 3, 0, -1], row 1 = [0.5, 0, 0, 0]. Stored in traversal order:
  // 3 (0x4200), -1 (0xbc00), 0.5 (0x3800); level 3 segments [0,2,3] as uint8, indices [1,3,0] as uint16.
  builder::Sparsity sparsity{
      {0, 1, 2, 3}, {}, {{false, 2}, {false, 1}, {false, 1}, {true, 0, {0, 2, 3}, {1, 3, 0}, 3, 2}}};
  TensorSpec sparse{"sparse", {2, 1, 1, 4}, builder::kFloat16, builder::half_bytes({0x4200, 0xbc00, 0x3800}), sparsity};
  builder::ModelSpec spec;
  spec.tensors = {{"input", {1, 1, 1, 4}},
                  sparse,
                  {"dense_fp16", {2, 1, 1, 4}, builder::kFloat16},
                  {"filter", {2, 1, 1, 4}},
                  {"output", {1, 1, 1, 2}}};
  spec.operators = {{kDensify, {1}, {2}},
                    {kDequantize, {2}, {3}},
                    {kConv2D, {0, 3, -1}, {4}, 1, builder::conv_options_valid_stride_1()}};
  spec.inputs = {0};
  spec.outputs = {4};
  const Graph graph = read_tflite(builder::write_model(spec), "sparse_conv.tflite");
  ASSERT_EQ(graph.operations.size(), 1u);
  EXPECT_EQ(graph.operations[0].inputs, (std::vector<int32_t>{0, 3, -1}));
  EXPECT_EQ(graph.tensors[3].data, (std::vector<float>{0, 3, 0, -1, 0.5f, 0, 0, 0}));
}

TEST(ReaderBuilt, PadAndMeanParametersMoveIntoOptions) {
  builder::ModelSpec spec;
  spec.tensors = {{"input", {1, 2, 2, 3}},
                  {"paddings", {4, 2}, builder::kInt32, builder::bytes_of<int32_t>({0, 0, 1, 2, 0, 1, 0, 0})},
                  {"padded", {1, 5, 3, 3}},
                  {"axes", {2}, builder::kInt32, builder::bytes_of<int32_t>({-2, 1})},
                  {"output", {1, 3}}};
  spec.operators = {{kPad, {0, 1}, {2}}, {kMean, {2, 3}, {4}, 27, {{0, 1, 0}}}};
  spec.inputs = {0};
  spec.outputs = {4};
  const Graph graph = read_tflite(builder::write_model(spec), "pad_mean.tflite");
  ASSERT_EQ(graph.operations.size(), 2u);
  EXPECT_EQ(graph.operations[0].inputs, std::vector<int32_t>{0});
  EXPECT_EQ(graph.operations[0].options.paddings, (std::vector<int32_t>{0, 0, 1, 2, 0, 1, 0, 0}));
  EXPECT_EQ(graph.operations[1].inputs, std::vector<int32_t>{2});
  EXPECT_EQ(graph.operations[1].options.axes, (std::vector<int32_t>{1, 2}));  // -2 normalized, repeat dropped.
  EXPECT_FALSE(graph.operations[1].options.keep_dims);
}

TEST(ReaderBuilt, DepthwiseMultiplierAndConcatAxisAreNormalized) {
  builder::ModelSpec spec;
  spec.tensors = {{"input", {1, 3, 3, 2}},
                  {"filter", {1, 3, 3, 4}, builder::kFloat32, builder::bytes_of(std::vector<float>(36, 1.0f))},
                  {"depthwise", {1, 1, 1, 4}},
                  {"other", {1, 1, 1, 3}},
                  {"joined", {1, 1, 1, 7}}};
  // DepthwiseConv2DOptions: VALID, strides 1, a stale depth_multiplier 1, no activation.
  spec.operators = {{kDepthwiseConv2D, {0, 1}, {2}, 2, {{0, 1, 1}, {1, 4, 1}, {2, 4, 1}, {3, 4, 1}, {4, 1, 0}}},
                    {kConcatenation, {2, 3}, {4}, 10, {{0, 4, -1}, {1, 1, 3}}}};
  spec.inputs = {0, 3};
  spec.outputs = {4};
  const Graph graph = read_tflite(builder::write_model(spec), "depthwise_concat.tflite");
  ASSERT_EQ(graph.operations.size(), 2u);
  EXPECT_EQ(graph.operations[0].options.depth_multiplier, 2);
  EXPECT_EQ(graph.operations[0].inputs, (std::vector<int32_t>{0, 1, -1}));
  EXPECT_EQ(graph.operations[1].options.axis, 3);
  EXPECT_EQ(graph.operations[1].options.activation, Activation::kRelu6);
}

TEST(ReaderBuilt, ErrorNamesFileOpAndTensor) {
  builder::ModelSpec spec;
  spec.tensors = {{"input", {1, 2, 2, 1}},
                  {"filter", {1, 1, 1}, builder::kFloat32, builder::bytes_of<float>({1.0f})},
                  {"output", {1, 2, 2, 1}}};
  spec.operators = {{kConv2D, {0, 1}, {2}, 1, builder::conv_options_valid_stride_1()}};
  spec.inputs = {0};
  spec.outputs = {2};
  try {
    read_tflite(builder::write_model(spec), "bad_conv.tflite");
    FAIL() << "a rank-3 filter loaded";
  } catch (const ModelError& error) {
    EXPECT_NE(std::string(error.what()).find("bad_conv.tflite: op 0 CONV_2D: filter tensor #1 'filter' has 3 dims"),
              std::string::npos)
        << error.what();
  }
}

// ---- densify() on the general format: hand-worked matrices. ----

TEST(ReaderFolding, DensifyBlockSparseTwoByTwoBlocks) {
  // 4x4 with 2x2 blocks; block (0,0) = [[1,2],[3,4]], block (1,1) = [[5,6],[7,8]], the rest zero.
  // Levels: block rows DENSE 2, block columns SPARSE_CSR (one per block row: column 0, then 1),
  // then the two block dims DENSE 2 each.
  SparseFormat format{{0, 1, 2, 3}, {0, 1}, {{false, 2}, {true, 0, {0, 1, 2}, {0, 1}}, {false, 2}, {false, 2}}};
  const std::vector<float> values{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(densify(format, {4, 4}, values, ""), (std::vector<float>{1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 5, 6, 0, 0, 7, 8}));
}

TEST(ReaderFolding, DensifyColumnMajorTraversal) {
  // [[1,0,2],[0,3,0]] stored by columns: column 0 holds row 0, column 1 row 1, column 2 row 0.
  SparseFormat format{{1, 0}, {}, {{false, 3}, {true, 0, {0, 1, 2, 3}, {0, 1, 0}}}};
  EXPECT_EQ(densify(format, {2, 3}, std::vector<float>{1, 3, 2}, ""), (std::vector<float>{1, 0, 2, 0, 3, 0}));
}

TEST(ReaderFolding, DensifyRejectsInconsistentStructure) {
  const SparseFormat good{{0, 1}, {}, {{false, 2}, {true, 0, {0, 1, 2}, {2, 0}}}};
  EXPECT_EQ(densify(good, {2, 3}, std::vector<float>{7, 9}, ""), (std::vector<float>{0, 0, 7, 9, 0, 0}));
  auto message = [](SparseFormat format, std::vector<int32_t> shape, std::vector<float> values) {
    try {
      densify(format, shape, values, "ctx: ");
    } catch (const ModelError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(good, {2, 3}, {7}).find("stores 1 values"), std::string::npos);
  SparseFormat bad_index = good;
  bad_index.dimensions[1].indices = {3, 0};
  EXPECT_NE(message(bad_index, {2, 3}, {7, 9}).find("index 3 outside [0, 3)"), std::string::npos);
  SparseFormat bad_segments = good;
  bad_segments.dimensions[1].segments = {0, 2};
  EXPECT_NE(message(bad_segments, {2, 3}, {7, 9}).find("segments"), std::string::npos);
  SparseFormat bad_order = good;
  bad_order.traversal_order = {0, 0};
  EXPECT_NE(message(bad_order, {2, 3}, {7, 9}).find("permutation"), std::string::npos);
  SparseFormat bad_dense = good;
  bad_dense.dimensions[0].dense_size = 5;
  EXPECT_NE(message(bad_dense, {2, 3}, {7, 9}).find("DENSE size 5"), std::string::npos);
  const SparseFormat bad_block{{0, 1, 2}, {1}, {{false, 2}, {false, 1}, {false, 2}}};
  EXPECT_NE(message(bad_block, {2, 3}, {1, 2, 3, 4}).find("block dim 0"), std::string::npos);
}

}  // namespace
}  // namespace posestream::engine
