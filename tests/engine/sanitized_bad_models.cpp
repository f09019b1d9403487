// Untrusted model files under ASan+UBSan: truncated, bit-flipped, foreign, empty, missing and crafted-bad.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <vector>

#include "engine/engine.h"
#include "engine/tflite_test_builder.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

namespace builder = posestream::testing::tflite;

std::vector<uint8_t> model_bytes(const char* file) {
  std::ifstream stream(posestream::testing::models_dir() / file, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

// Loads `bytes` from an allocation of exactly their size, so ASan sees any read past the end.
// Returns the error message, or "" when the bytes loaded (and the graph passed Model's checks or
// failed them with a ModelError).
std::string load_error(const std::vector<uint8_t>& bytes, const std::string& name) {
  const std::vector<uint8_t> exact(bytes.begin(), bytes.end());
  try {
    Graph graph = read_tflite(exact, name);
    try {
      Model::from_graph(std::move(graph));
    } catch (const ModelError&) {
      // The reader's graph may still fail Model's shape checks on a flipped file; never a crash.
    }
    return "";
  } catch (const ModelError& error) {
    return error.what();
  }
}

class RealModel : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(posestream::testing::models_dir() / "palm_detection_lite.tflite")) {
      GTEST_SKIP() << "models are missing in " << posestream::testing::models_dir() << " (run scripts/setup)";
    }
  }
};

TEST_F(RealModel, EveryTruncationIsAModelError) {
  const std::vector<uint8_t> bytes = model_bytes("palm_detection_lite.tflite");
  ASSERT_GT(bytes.size(), 1000u);
  std::vector<size_t> lengths;
  for (size_t length = 0; length <= 64; ++length) lengths.push_back(length);
  for (size_t step = 1; step < 120; ++step) lengths.push_back(bytes.size() * step / 120);
  for (size_t back = 1; back <= 40; ++back) lengths.push_back(bytes.size() - back);
  for (const size_t length : lengths) {
    const std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    const std::string error = load_error(prefix, "palm_detection_lite.tflite");
    EXPECT_TRUE(starts_with(error, "palm_detection_lite.tflite: "))
        << "truncated to " << length << ": '" << error << "'";
  }
}

// [first, last) byte of the weight buffers of a pristine model, found by walking Model.buffers
// (field 4) and each Buffer.data (field 0) with raw flatbuffers access.
std::pair<size_t, size_t> weights_range(const std::vector<uint8_t>& bytes) {
  const auto* model = flatbuffers::GetRoot<flatbuffers::Table>(bytes.data());
  const auto* buffers =
      model->GetPointer<const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::Table>>*>(builder::slot(4));
  size_t first = bytes.size(), last = 0;
  for (const flatbuffers::Table* buffer : *buffers) {
    const auto* data = buffer->GetPointer<const flatbuffers::Vector<uint8_t>*>(builder::slot(0));
    if (data == nullptr || data->size() == 0) continue;
    const auto offset = static_cast<size_t>(data->data() - bytes.data());
    first = std::min(first, offset);
    last = std::max(last, offset + data->size());
  }
  return {first, last};
}

// Flips land mostly in the flatbuffer's structure (before the first and after the last weight buffer:
// tables, offsets, sizes, indices, enums, sparse index vectors), the rest anywhere. Returns how many
// trials ended in a ModelError; every other one must have loaded.
int flip_trials(const char* file, int trials, uint32_t seed) {
  const std::vector<uint8_t> pristine = model_bytes(file);
  const auto [head, tail] = weights_range(pristine);
  const size_t structure = head + (pristine.size() - tail);
  std::mt19937 random(seed);
  int errors = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::vector<uint8_t> bytes = pristine;
    const int flips = 1 + static_cast<int>(random() % 4);
    for (int flip = 0; flip < flips; ++flip) {
      size_t position = random() % bytes.size();
      if (trial % 4 != 0) {
        const size_t pick = random() % structure;
        position = pick < head ? pick : tail + (pick - head);
      }
      bytes[position] ^= static_cast<uint8_t>(1 + random() % 255);
    }
    const std::string error = load_error(bytes, file);
    if (error.empty()) continue;
    ++errors;
    EXPECT_TRUE(starts_with(error, std::string(file) + ": ")) << "trial " << trial << ": " << error;
  }
  return errors;
}

TEST_F(RealModel, RandomByteFlipsNeverCrash) {
  const int errors = flip_trials("hand_landmark_lite.tflite", 250, 20240611);
  EXPECT_GT(errors, 50) << "flips should break the structure often";
}

// pose_detection's sparse index vectors sit in the structure region: flips reach DENSIFY's checks.
TEST_F(RealModel, RandomByteFlipsInSparseMetadataNeverCrash) {
  const int errors = flip_trials("pose_detection.tflite", 120, 7);
  EXPECT_GT(errors, 30) << "flips should break the structure often";
}

// ---- Crafted files ----

std::string error_of(const std::vector<uint8_t>& bytes, const std::string& name) {
  const std::string error = load_error(bytes, name);
  EXPECT_FALSE(error.empty()) << name << " loaded";
  EXPECT_TRUE(starts_with(error, name + ": ")) << error;
  return error;
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

TEST(BadModels, ForeignAndEmptyBytes) {
  const std::vector<uint8_t> jpeg{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00};
  EXPECT_TRUE(contains(error_of(jpeg, "photo.jpg"), "not a TFLite model"));
  const std::string text = "posestream: this is a text file, not a model\n";
  EXPECT_TRUE(contains(error_of(std::vector<uint8_t>(text.begin(), text.end()), "notes.txt"), "not a TFLite model"));
  EXPECT_TRUE(contains(error_of({}, "nothing.tflite"), "empty file"));
  // The identifier alone, with a root offset pointing nowhere.
  EXPECT_TRUE(contains(error_of({0xf0, 0xff, 0xff, 0x7f, 'T', 'F', 'L', '3', 0, 0, 0, 0}, "ident.tflite"), "corrupt"));
}

TEST(BadModels, FilesThatCannotBeRead) {
  const std::filesystem::path directory = std::filesystem::temp_directory_path() / "posestream_bad_models";
  std::filesystem::create_directories(directory);
  const std::filesystem::path empty = directory / "empty.tflite";
  std::ofstream(empty).close();
  for (const auto& [path, expected] : std::vector<std::pair<std::filesystem::path, std::string>>{
           {empty, "empty.tflite: empty file"},
           {directory / "missing.tflite", "missing.tflite: cannot read"},
           {directory, "posestream_bad_models: cannot read"}}) {
    try {
      read_tflite_file(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const ModelError& error) {
      EXPECT_TRUE(starts_with(error.what(), expected)) << error.what();
    }
  }
  std::filesystem::remove_all(directory);
}

// One CONV_2D on [1,2,2,1] with a float filter and bias; each test breaks one thing.
builder::ModelSpec small_conv() {
  builder::ModelSpec spec;
  spec.tensors = {{"input", {1, 2, 2, 1}},
                  {"filter", {1, 1, 1, 1}, builder::kFloat32, builder::bytes_of<float>({2.0f})},
                  {"bias", {1}, builder::kFloat32, builder::bytes_of<float>({0.5f})},
                  {"output", {1, 2, 2, 1}}};
  spec.operators = {{3, {0, 1, 2}, {3}, 1, builder::conv_options_valid_stride_1()}};
  spec.inputs = {0};
  spec.outputs = {3};
  return spec;
}

TEST(BadModels, SmallConvLoads) { EXPECT_EQ(load_error(builder::write_model(small_conv()), "conv.tflite"), ""); }

TEST(BadModels, UnsupportedOperatorIsNamed) {
  builder::ModelSpec spec;
  spec.tensors = {{"logits", {1, 10}}, {"probabilities", {1, 10}}};
  spec.operators = {{25, {0}, {1}, 9, {}}};  // SOFTMAX with SoftmaxOptions.
  spec.inputs = {0};
  spec.outputs = {1};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "softmax.tflite"),
                       "softmax.tflite: op 0: unsupported operator SOFTMAX"));
  spec.operators = {{200, {0}, {1}}};
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "future.tflite"), "op 0: unsupported operator builtin code 200"));
}

TEST(BadModels, IndicesOutOfRange) {
  builder::ModelSpec spec = small_conv();
  spec.operators[0].inputs = {0, 99, 2};
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "a.tflite"), "op 0 CONV_2D: input list refers to tensor #99"));
  spec = small_conv();
  spec.operators[0].outputs = {-1};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "b.tflite"), "output list refers to tensor #-1"));
  spec = small_conv();
  spec.inputs = {7};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "c.tflite"), "graph input list refers to tensor #7"));
  spec = small_conv();
  spec.tensors[1].buffer = 1000;
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "d.tflite"), "tensor #1 'filter' refers to buffer 1000"));
}

TEST(BadModels, ShapesTypesAndSizes) {
  builder::ModelSpec spec = small_conv();
  spec.tensors[3].shape = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "a.tflite"), "tensor #3 'output' has 9 dims"));
  spec = small_conv();
  spec.tensors[3].shape = {65536, 65536, 65536, 65536};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "b.tflite"), "more than 268435456 elements"));
  spec = small_conv();
  spec.tensors[3].shape = {1, -1, 2, 1};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "c.tflite"), "negative dim"));
  spec = small_conv();
  spec.tensors[1].data = builder::bytes_of<float>({2.0f, 3.0f});
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "d.tflite"), "tensor #1 'filter' holds 2 values"));
  spec = small_conv();
  spec.tensors[1].type = builder::kInt8;
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "e.tflite"), "tensor #1 'filter' has type INT8"));
  spec = small_conv();
  spec.tensors[1].data.clear();
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "f.tflite"), "op 0 CONV_2D: filter tensor #1 'filter' is not"));
  spec = small_conv();
  spec.tensors[3].shape = {1, 3, 3, 1};
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "g.tflite"), "output tensor #3 'output' has shape [1,3,3,1]"));
}

TEST(BadModels, OptionsAndDataFlow) {
  builder::ModelSpec spec = small_conv();
  spec.operators[0].options_type = 11;  // A well-formed AddOptions table on a CONV_2D.
  spec.operators[0].options = {{0, 1, 0}};
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "a.tflite"), "op 0 CONV_2D: options table has union type 11"));
  spec.operators[0].options_type = 2;  // Conv2DOptions' bytes verified as DepthwiseConv2DOptions' layout.
  spec.operators[0].options = builder::conv_options_valid_stride_1();
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "a2.tflite"), "corrupt"));
  spec = small_conv();
  spec.operators[0].options[3].value = 4;  // TANH.
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "b.tflite"), "fused activation 4"));
  spec = small_conv();
  spec.operators[0].options[1].value = 0;  // stride_w 0.
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "c.tflite"), "must all be >= 1"));
  spec = small_conv();
  spec.operators[0].outputs = {0};  // Writes the graph input.
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "d.tflite"), "output tensor #0 'input' is a graph input"));
  spec = small_conv();
  spec.tensors.push_back({"unused", {1, 2, 2, 1}});
  spec.outputs = {3, 4};
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "g.tflite"), "graph output tensor #4 'unused' is never written"));
  spec = small_conv();
  spec.operators.push_back({3, {0, 1, 2}, {3}, 1, builder::conv_options_valid_stride_1()});
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "e.tflite"),
                       "op 1 CONV_2D: output tensor #3 'output' is a graph input or already written"));
  spec = small_conv();
  spec.operators.insert(spec.operators.begin(), {6, {1}, {2}});  // DEQUANTIZE of a FLOAT32 constant.
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "f.tflite"),
                       "op 0 DEQUANTIZE: input tensor #1 'filter' is not a dense FLOAT16"));
}

TEST(BadModels, BrokenSparseConstant) {
  builder::Sparsity sparsity{{0, 1}, {}, {{false, 1}, {true, 0, {0, 5}, {0}, 1, 1}}};
  builder::ModelSpec spec = small_conv();
  spec.tensors.push_back({"sparse", {1, 1}, builder::kFloat16, builder::half_bytes({0x3c00}), sparsity});
  spec.tensors.push_back({"dense", {1, 1}, builder::kFloat16});
  spec.operators.insert(spec.operators.begin(), {124, {4}, {5}});
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "sparse.tflite"),
                       "op 0 DENSIFY: input tensor #4 'sparse' sparse level 1 has 2 segments"));
  spec.tensors[4].sparsity->levels[1].segments = {0, 1};
  spec.tensors[4].sparsity->levels[1].indices = {1};
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "index.tflite"), "has index 1 outside [0, 1)"));
  spec.tensors[4].sparsity->levels[1].indices = {0};
  spec.tensors[4].sparsity->levels[1].indices_type = 7;
  EXPECT_TRUE(contains(error_of(builder::write_model(spec), "union.tflite"), "corrupt"));
}

TEST(BadModels, TinySparseTensorDescribingHugeDenseOne) {
  // [8193, 8192] = 2^26 + 8192 values from one stored value: over the folding budget, refused before
  // any allocation.
  std::vector<int32_t> segments(8194, 1);
  segments[0] = 0;
  builder::Sparsity sparsity{{0, 1}, {}, {{false, 8193}, {true, 0, segments, {0}, 2, 2}}};
  builder::ModelSpec spec = small_conv();
  spec.tensors.push_back({"sparse", {8193, 8192}, builder::kFloat16, builder::half_bytes({0x3c00}), sparsity});
  spec.tensors.push_back({"dense", {8193, 8192}, builder::kFloat16});
  spec.operators.insert(spec.operators.begin(), {124, {4}, {5}});
  EXPECT_TRUE(
      contains(error_of(builder::write_model(spec), "huge.tflite"), "op 0 DENSIFY: folded constants would exceed"));
}

}  // namespace
}  // namespace posestream::engine
