// Runtime precision and sharing: int8 really runs int8 kernels and stays near float32, profiling names the
// operators, and runtimes of one model share packed weights without changing what they compute.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

std::shared_ptr<const Model> load(const std::string& name) {
  return Model::load(posestream::testing::models_dir() / (name + ".tflite"));
}

// A smooth synthetic image in [0, 1]: int8's per-image scale is meant for images, not for noise.
void fill_gradient(Runtime& runtime) {
  const std::span<float> input = runtime.input(0);
  const auto& shape = runtime.input_tensor(0).shape;  // [1, H, W, C]
  const size_t width = static_cast<size_t>(shape[2]), channels = static_cast<size_t>(shape[3]);
  for (size_t i = 0; i < input.size(); ++i) {
    const size_t x = (i / channels) % width, y = i / (channels * width), c = i % channels;
    input[i] = static_cast<float>(0.5 + 0.4 * std::sin(0.05 * static_cast<double>(x + 2 * y + 7 * c)));
  }
}

std::vector<float> first_output(Runtime& runtime) {
  fill_gradient(runtime);
  runtime.invoke();
  const std::span<const float> output = runtime.output(0);
  return {output.begin(), output.end()};
}

bool any_operator_named(const std::vector<OperatorTime>& times, const std::string& part) {
  return std::any_of(times.begin(), times.end(), [&](const OperatorTime& t) { return t.name.find(part) != std::string::npos; });
}

TEST(RuntimePrecision, Int8RunsQuantizedConvolutionsCloseToFloat32) {
  const auto model = load("hand_landmark_full");
  Runtime f32(model, {.profile = true});
  Runtime int8(model, {.precision = Precision::kInt8, .profile = true});
  const std::vector<float> expected = first_output(f32);
  const std::vector<float> actual = first_output(int8);
  ASSERT_EQ(expected.size(), actual.size());
  double largest = 0, differing = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const double difference = std::fabs(double{expected[i]} - actual[i]);
    largest = std::max(largest, difference);
    if (difference > 0) ++differing;
  }
  // Output 0 holds 21 landmarks (x, y, z) in pixels of the 224x224 input: int8 moves them, by little.
  EXPECT_GT(differing, 0) << "int8 gave float32's exact outputs: it did not run int8";
  // On this synthetic image (no hand) the landmarks are at their most sensitive; the golden tests gate
  // int8 accuracy on real photos. This only catches an int8 path that computes something else.
  EXPECT_LT(largest, 8.0) << "pixels (x, y, z)";
  // XNNPACK names the dynamic-range convolutions "QD8"; float32 has none, int8 keeps depthwise float32.
  EXPECT_FALSE(any_operator_named(f32.operator_times(), "QD8"));
  EXPECT_TRUE(any_operator_named(int8.operator_times(), "QD8"));
}

TEST(RuntimePrecision, OperatorTimesNeedProfiling) {
  Runtime runtime(load("palm_detection_lite"));
  EXPECT_THROW(runtime.operator_times(), ModelError);
}

TEST(RuntimePrecision, ProfiledOperatorsCoverTheInvoke) {
  Runtime runtime(load("palm_detection_lite"), {.profile = true});
  fill_gradient(runtime);
  runtime.invoke();
  const std::vector<OperatorTime> times = runtime.operator_times();
  ASSERT_GT(times.size(), 50u);
  EXPECT_TRUE(std::all_of(times.begin(), times.end(), [](const OperatorTime& t) { return !t.name.empty(); }));
  double total = 0;
  for (const OperatorTime& time : times) total += time.microseconds;
  EXPECT_GT(total, 0);
}

// Runtimes made at once on several threads share one weights cache (the first packs and finalizes it
// under a lock): each must compute what a lone runtime computes, at either precision.
TEST(RuntimeSharing, RuntimesCreatedConcurrentlyComputeTheSame) {
  for (const Precision precision : {Precision::kFloat32, Precision::kInt8}) {
    const auto model = load("pose_landmark_lite");
    std::vector<std::vector<float>> outputs(4);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < outputs.size(); ++i) {
      threads.emplace_back([&, i] {
        Runtime runtime(model, {.precision = precision});
        outputs[i] = first_output(runtime);
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (size_t i = 1; i < outputs.size(); ++i) {
      EXPECT_EQ(outputs[i], outputs[0]) << precision_name(precision) << " runtime " << i;
    }
  }
}

// A runtime computing fewer outputs builds a different subgraph: it must get its own cache, not fail on
// one finalized for the full subgraph (and the reverse).
TEST(RuntimeSharing, DifferentOutputSubsetsOfOneModelBothWork) {
  const auto model = load("pose_landmark_lite");
  Runtime all(model);
  const std::string first = all.output_tensor(0).name;
  Runtime one(model, {.outputs = {first}});
  Runtime all_again(model);
  EXPECT_EQ(first_output(one), first_output(all));
  EXPECT_EQ(first_output(all_again), first_output(all));
}

}  // namespace
}  // namespace posestream::engine
