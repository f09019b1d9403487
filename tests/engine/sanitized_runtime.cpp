// Runtime's own buffer handling under ASan+UBSan: concatenation slices and copies, pruning, moves, a real model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/engine.h"
#include "engine/runtime_graphs.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

using testing::expect_values;
using testing::GraphMaker;
using testing::run;

// x [1,2,3] -> LOGISTIC -> a; y [1,2,1] -> ADD(y, y) -> b; CONCATENATION(a, b) along `axis`.
Graph concat_graph(int32_t axis) {
  GraphMaker maker("sanitized_concat.tflite");
  const int32_t x = maker.input("x", {1, 2, 3});
  const int32_t y = maker.input("y", axis == 1 ? std::vector<int32_t>{1, 1, 3} : std::vector<int32_t>{1, 2, 1});
  const int32_t a = maker.tensor("a", {1, 2, 3});
  const int32_t b = maker.tensor("b", maker.graph().tensors[static_cast<size_t>(y)].shape);
  const int32_t output =
      maker.tensor("output", axis == 1 ? std::vector<int32_t>{1, 3, 3} : std::vector<int32_t>{1, 2, 4});
  maker.op(OpType::kLogistic, {x}, a);
  maker.op(OpType::kAdd, {y, y}, b);
  maker.op(OpType::kConcatenation, {a, b}, output, {.axis = axis});
  maker.output(output);
  return maker.graph();
}

TEST(SanitizedRuntime, ZeroCopyConcatenationStaysInsideItsBuffer) {
  const Runtime runtime = run(concat_graph(1), {{0, 0, 0, 0, 0, 0}, {1, 2, 3}});
  expect_values(runtime.output(0), {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 2, 4, 6});
}

TEST(SanitizedRuntime, StridedConcatenationStaysInsideItsBuffer) {
  const Runtime runtime = run(concat_graph(2), {{0, 0, 0, 0, 0, 0}, {1, 2}});
  expect_values(runtime.output(0), {0.5f, 0.5f, 0.5f, 2, 0.5f, 0.5f, 0.5f, 4});
}

TEST(SanitizedRuntime, MovedAndDestroyedRuntimesReleaseEverything) {
  Runtime first = run(concat_graph(2), {{0, 0, 0, 0, 0, 0}, {1, 2}});
  Runtime second = std::move(first);
  second.invoke();
  first = run(concat_graph(1), {{0, 0, 0, 0, 0, 0}, {1, 2, 3}});
  expect_values(first.output(0), {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 2, 4, 6});
}

TEST(SanitizedRuntime, RealModelWithPrunedOutputs) {
  const auto model = Model::load(posestream::testing::models_dir() / "pose_landmark_lite.tflite");
  std::vector<std::string> kept;
  for (int32_t output : model->graph().outputs) {
    const Tensor& tensor = model->graph().tensors[static_cast<size_t>(output)];
    if (tensor.shape != std::vector<int32_t>{1, 256, 256, 1}) kept.push_back(tensor.name);
  }
  Runtime runtime(model, {.threads = 2, .outputs = kept});
  std::fill(runtime.input(0).begin(), runtime.input(0).end(), 0.5f);
  runtime.invoke();
  for (size_t i = 0; i < runtime.output_count(); ++i) {
    for (float value : runtime.output(i)) ASSERT_TRUE(std::isfinite(value));
  }
}

}  // namespace
}  // namespace posestream::engine
