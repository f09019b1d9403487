// Hand-worked checks of reference::run_graph on a tiny hand-built Graph, and of its error messages.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "reference/expect.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

using engine::OpType;
using testing::expect_tensor;

// input [1,2,2,1] -> CONV_2D 1x1 (filter [1, -1], bias [0, .5]) -> PRELU (alpha [.1, .5])
//   -> MEAN over [1,2]. Graph outputs: the mean, then the conv result.
engine::Graph tiny_graph() {
  engine::Graph graph;
  graph.name = "tiny.tflite";
  graph.tensors = {
      {"input", {1, 2, 2, 1}, {}},         // #0
      {"filter", {2, 1, 1, 1}, {1, -1}},   // #1
      {"bias", {2}, {0, 0.5f}},            // #2
      {"conv", {1, 2, 2, 2}, {}},          // #3
      {"alpha", {1, 1, 2}, {0.1f, 0.5f}},  // #4
      {"prelu", {1, 2, 2, 2}, {}},         // #5
      {"mean", {1, 2}, {}},                // #6
  };
  graph.operations = {
      {OpType::kConv2D, 0, {0, 1, 2}, {3}, {}},
      {OpType::kPRelu, 1, {3, 4}, {5}, {}},
      {OpType::kMean, 2, {5}, {6}, {.keep_dims = false, .axes = {1, 2}}},
  };
  graph.inputs = {0};
  graph.outputs = {6, 3};
  return graph;
}

TEST(ReferenceRunGraph, TinyGraphKnownAnswer) {
  // Input [1, 2, 3, -4]:
  //   conv   channel 0 = x            = [1, 2, 3, -4];  channel 1 = .5 - x = [-.5, -1.5, -2.5, 4.5]
  //   prelu  channel 0 = [1, 2, 3, -.4];                 channel 1 = [-.25, -.75, -1.25, 4.5]
  //   mean   channel 0 = 5.6 / 4 = 1.4;                  channel 1 = 2.25 / 4 = .5625
  const std::vector<Tensor> outputs = run_graph(tiny_graph(), {Tensor{{1, 2, 2, 1}, {1, 2, 3, -4}}});
  ASSERT_EQ(outputs.size(), 2u);
  expect_tensor(outputs[0], {1, 2}, {1.4f, 0.5625f});
  expect_tensor(outputs[1], {1, 2, 2, 2}, {1, -0.5f, 2, -1.5f, 3, -2.5f, -4, 4.5f});
}

TEST(ReferenceRunGraph, InputTakesTheGraphShape) {
  // A flat input of the right element count is read in the graph's shape.
  const std::vector<Tensor> outputs = run_graph(tiny_graph(), {Tensor{{4}, {1, 2, 3, -4}}});
  expect_tensor(outputs[0], {1, 2}, {1.4f, 0.5625f});
}

// Runs `graph` on the usual input and returns the error message, or "" if it did not throw.
std::string error_of(const engine::Graph& graph) {
  try {
    run_graph(graph, {Tensor{{1, 2, 2, 1}, {1, 2, 3, -4}}});
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "";
}

TEST(ReferenceRunGraph, ErrorsNameGraphOpAndProblem) {
  engine::Graph swapped = tiny_graph();
  std::swap(swapped.operations[0], swapped.operations[1]);  // PRELU now reads the conv before it exists.
  EXPECT_NE(error_of(swapped).find("tiny.tflite: op 1 PRELU: tensor #3 (conv) is read before it is computed"),
            std::string::npos)
      << error_of(swapped);

  engine::Graph misdeclared = tiny_graph();
  misdeclared.tensors[6].shape = {1, 1, 1, 2};  // MEAN without keep_dims gives [1,2].
  EXPECT_NE(error_of(misdeclared).find("op 2 MEAN: computed shape [1,2]"), std::string::npos) << error_of(misdeclared);

  engine::Graph dangling = tiny_graph();
  dangling.operations[1].inputs = {3, 99};
  EXPECT_NE(error_of(dangling).find("op 1 PRELU: tensor #99 does not exist"), std::string::npos) << error_of(dangling);

  engine::Graph unpadded = tiny_graph();
  unpadded.operations[2] = {OpType::kPad, 2, {5}, {6}, {.paddings = {0, 0, 1}}};
  EXPECT_NE(error_of(unpadded).find("op 2 PAD: odd number of padding values"), std::string::npos) << error_of(unpadded);
}

TEST(ReferenceRunGraph, RejectsWrongInputs) {
  EXPECT_THROW(run_graph(tiny_graph(), {}), std::runtime_error);
  EXPECT_THROW(run_graph(tiny_graph(), {Tensor{{1, 3}, {1, 2, 3}}}), std::runtime_error);
}

}  // namespace
}  // namespace posestream::reference
