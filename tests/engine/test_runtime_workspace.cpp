// Runtimes sharing one Workspace (their intermediates in one arena, indirection buffers made per invoke)
// compute exactly what runtimes with arenas of their own compute, whatever order they run in.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

// A smooth synthetic input in [0.1, 0.9], shifted by `phase` so that successive invokes differ.
void fill(Runtime& runtime, double phase) {
  const std::span<float> input = runtime.input(0);
  for (size_t i = 0; i < input.size(); ++i) {
    input[i] = static_cast<float>(0.5 + 0.4 * std::sin(0.01 * static_cast<double>(i) + phase));
  }
}

std::vector<std::vector<float>> outputs_of(const Runtime& runtime) {
  std::vector<std::vector<float>> outputs;
  for (size_t i = 0; i < runtime.output_count(); ++i) {
    const std::span<const float> output = runtime.output(i);
    outputs.emplace_back(output.begin(), output.end());
  }
  return outputs;
}

// The four kinds of model a worker runs, smallest arena first (3.4 to 4.2 MiB on the patched XNNPACK), so
// the shared arena grows (and moves) while earlier runtimes are already set up on it.
const std::vector<std::string> kModels = {"palm_detection_lite", "pose_landmark_lite", "pose_detection",
                                          "hand_landmark_lite"};

TEST(RuntimeWorkspace, SharedArenaComputesWhatOwnArenasCompute) {
  const auto workspace = std::make_shared<Workspace>();
  std::vector<Runtime> lone, shared;
  for (const std::string& name : kModels) {
    const auto model = Model::load(posestream::testing::models_dir() / (name + ".tflite"));
    lone.emplace_back(model);
    shared.emplace_back(model, RuntimeOptions{.workspace = workspace});
  }
  // Two rounds in opposite orders: each shared runtime runs after the others overwrote the arena.
  for (const double phase : {0.0, 1.0}) {
    std::vector<size_t> order = {0, 1, 2, 3};
    if (phase > 0) order = {3, 2, 1, 0};
    for (const size_t i : order) {
      fill(lone[i], phase);
      lone[i].invoke();
      fill(shared[i], phase);
      shared[i].invoke();
    }
    // Outputs are each runtime's own buffers: the later invokes on the arena left them as they were.
    for (const size_t i : order) {
      EXPECT_EQ(outputs_of(shared[i]), outputs_of(lone[i])) << kModels[i] << ", phase " << phase;
    }
  }
}

// A runtime made on a workspace its first users already grew, and one outliving the Workspace object.
TEST(RuntimeWorkspace, RuntimesKeepTheArenaAlive) {
  const auto model = Model::load(posestream::testing::models_dir() / "pose_detection.tflite");
  Runtime lone(model);
  fill(lone, 0.5);
  lone.invoke();
  auto workspace = std::make_shared<Workspace>();
  Runtime first(model, RuntimeOptions{.workspace = workspace});
  Runtime second(model, RuntimeOptions{.workspace = workspace});
  workspace.reset();
  for (Runtime* runtime : {&second, &first}) {
    fill(*runtime, 0.5);
    runtime->invoke();
    EXPECT_EQ(outputs_of(*runtime), outputs_of(lone));
  }
}

}  // namespace
}  // namespace posestream::engine
