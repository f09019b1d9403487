// Runtime on the 8 real models: each runs, outputs are finite, agree with the plain-loop reference,
// and pruning the pose segmentation head leaves the other outputs unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "reference/reference.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

const char* const kModels[] = {"pose_detection",      "pose_landmark_lite", "pose_landmark_full",
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

// The XNNPACK mapping of every op (padding sides, resize modes, channel orders, concatenation) checked
// against the double-precision reference on a whole model and a non-trivial input.
class AgainstReference : public ::testing::TestWithParam<const char*> {};

TEST_P(AgainstReference, OutputsMatch) {
  const auto model = load(GetParam());
  Runtime runtime(model);
  const std::vector<float> image = pseudo_random_image(runtime.input(0).size());
  std::copy(image.begin(), image.end(), runtime.input(0).begin());
  runtime.invoke();
  const std::vector<reference::Tensor> expected =
      reference::run_graph(model->graph(), {reference::Tensor{runtime.input_tensor(0).shape, image}});
  ASSERT_EQ(expected.size(), runtime.output_count());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto actual = runtime.output(i);
    ASSERT_EQ(actual.size(), expected[i].data.size());
    // Float32 against double drifts through ~100 layers of random-input activations (up to ~1e-4 of the
    // tensor's scale by the last layer); a wrong padding side, resize mode or channel order is O(1).
    double worst = 0, scale = 1;
    for (size_t j = 0; j < actual.size(); ++j) {
      worst = std::max(worst, std::abs(actual[j] - static_cast<double>(expected[i].data[j])));
      scale = std::max(scale, std::abs(static_cast<double>(expected[i].data[j])));
    }
    worst /= scale;
    EXPECT_LT(worst, 1e-3) << GetParam() << " output " << runtime.output_tensor(i).name;
  }
}

// The reference takes seconds per model; these three cover every op type between them.
INSTANTIATE_TEST_SUITE_P(SmallModels, AgainstReference,
                         ::testing::Values("palm_detection_lite", "pose_detection", "hand_landmark_lite"));

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
