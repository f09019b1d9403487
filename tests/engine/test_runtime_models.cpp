// Runtime on the 8 real models: each runs with finite outputs, and pruning the pose segmentation head
// leaves the other outputs unchanged. (test_models_vs_reference.cpp compares them with the reference.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

const char* const kModels[] = {"pose_detection",      "pose_landmark_lite",  "pose_landmark_full",
                               "pose_landmark_heavy", "palm_detection_lite", "palm_detection_full",
                               "hand_landmark_lite",  "hand_landmark_full"};

std::shared_ptr<const Model> load(const std::string& name) {
  return Model::load(posestream::testing::models_dir() / (name + ".tflite"));
}

// A fixed pseudo-random image in [0, 1] (a linear congruential sequence: no seed, no platform drift).
std::vector<float> pseudo_random_image(size_t count) {
  std::vector<float> values(count);
  uint32_t state = 12345;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return values;
}

class RealModel : public ::testing::TestWithParam<const char*> {};

TEST_P(RealModel, RunsOnZerosWithFiniteOutputs) {
  Runtime runtime(load(GetParam()));
  ASSERT_EQ(runtime.input_count(), 1u);
  std::fill(runtime.input(0).begin(), runtime.input(0).end(), 0.0f);
  runtime.invoke();
  ASSERT_GE(runtime.output_count(), 2u);
  for (size_t i = 0; i < runtime.output_count(); ++i) {
    const auto values = runtime.output(i);
    EXPECT_EQ(static_cast<int64_t>(values.size()), runtime.output_tensor(i).element_count());
    EXPECT_TRUE(std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); }))
        << GetParam() << " output " << runtime.output_tensor(i).name;
  }
  EXPECT_GT(runtime.model().macs(), 100'000'000);  // Every one of these models does > 0.1 GMAC.
}

INSTANTIATE_TEST_SUITE_P(AllModels, RealModel, ::testing::ValuesIn(kModels));

TEST(RealModelPruning, PoseLandmarkWithoutSegmentationKeepsTheOtherOutputs) {
  const auto model = load("pose_landmark_lite");
  Runtime full(model);
  std::vector<std::string> kept;
  for (size_t i = 0; i < full.output_count(); ++i) {
    if (full.output_tensor(i).shape != std::vector<int32_t>{1, 256, 256, 1}) kept.push_back(full.output_tensor(i).name);
  }
  ASSERT_EQ(kept.size(), full.output_count() - 1) << "exactly one 256x256x1 segmentation output";
  Runtime pruned(model, {.outputs = kept});
  EXPECT_LT(pruned.macs(), full.macs());
  const std::vector<float> image = pseudo_random_image(full.input(0).size());
  std::copy(image.begin(), image.end(), full.input(0).begin());
  std::copy(image.begin(), image.end(), pruned.input(0).begin());
  full.invoke();
  pruned.invoke();
  ASSERT_EQ(pruned.output_count(), kept.size());
  for (const std::string& name : kept) {
    const auto expected = full.output(name);
    const auto actual = pruned.output(name);
    ASSERT_EQ(actual.size(), expected.size());
    for (size_t j = 0; j < actual.size(); ++j) EXPECT_FLOAT_EQ(actual[j], expected[j]) << name << " at " << j;
  }
}

}  // namespace
}  // namespace posestream::engine
