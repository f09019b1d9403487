// Helpers for the Runtime tests: build small Graphs by hand and run them (header-only, tests only).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace posestream::engine::testing {

// Builds a Graph one tensor and one op at a time; op indices follow insertion order.
class GraphMaker {
 public:
  explicit GraphMaker(std::string name) { graph_.name = std::move(name); }

  int32_t tensor(std::string name, std::vector<int32_t> shape, std::vector<float> data = {}) {
    graph_.tensors.push_back({std::move(name), std::move(shape), std::move(data)});
    return static_cast<int32_t>(graph_.tensors.size() - 1);
  }
  int32_t input(std::string name, std::vector<int32_t> shape) {
    const int32_t index = tensor(std::move(name), std::move(shape));
    graph_.inputs.push_back(index);
    return index;
  }
  void op(OpType type, std::vector<int32_t> inputs, int32_t output, OpOptions options = {}) {
    const auto index = static_cast<int32_t>(graph_.operations.size());
    graph_.operations.push_back({type, index, std::move(inputs), {output}, std::move(options)});
  }
  void output(int32_t index) { graph_.outputs.push_back(index); }
  const Graph& graph() const { return graph_; }

 private:
  Graph graph_;
};

// A runtime over `graph` whose inputs were filled with `inputs` (in graph order) and invoked once.
inline Runtime run(const Graph& graph, const std::vector<std::vector<float>>& inputs, RuntimeOptions options = {}) {
  Runtime runtime(Model::from_graph(graph), std::move(options));
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::span<float> destination = runtime.input(i);
    EXPECT_EQ(destination.size(), inputs[i].size()) << "input " << i;
    std::copy_n(inputs[i].begin(), std::min(destination.size(), inputs[i].size()), destination.begin());
  }
  runtime.invoke();
  return runtime;
}

inline void expect_values(std::span<const float> actual, const std::vector<float>& expected, float tolerance = 1e-5f) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(actual[i], expected[i], tolerance) << "at flat index " << i;
}

// The message of the ModelError `make` throws, or "" if it throws none.
template <typename Function>
std::string model_error_of(Function make) {
  try {
    make();
  } catch (const ModelError& error) {
    return error.what();
  }
  return "";
}

}  // namespace posestream::engine::testing
