// Runtime beyond single ops: concatenation paths, output subsets, threads, moves, sharing, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/runtime_graphs.h"
#include "engine/xnn_concatenation.h"

namespace posestream::engine {
namespace {

using testing::expect_values;
using testing::GraphMaker;
using testing::model_error_of;
using testing::run;

// x [1,2,2] + c1 -> a [1,2,2];  y [1,rows,cols] + c2 -> b;  CONCATENATION(a, b) along `axis` -> output.
// Inputs x = (1, 2, 3, 4), y = (5, -6) in the tests below.
Graph concat_graph(int32_t axis, std::vector<int32_t> b_shape, std::vector<int32_t> output_shape,
                   Activation activation = Activation::kNone, bool concat_input_directly = false) {
  GraphMaker maker("concat.tflite");
  const int32_t x = maker.input("x", {1, 2, 2});
  const int32_t y = maker.input("y", b_shape);
  const int32_t c1 = maker.tensor("c1", {1, 2, 2}, {10, 10, 10, -20});
  const int32_t c2 = maker.tensor("c2", {1}, {100});
  const int32_t a = maker.tensor("a", {1, 2, 2});
  const int32_t b = maker.tensor("b", b_shape);
  const int32_t output = maker.tensor("output", output_shape);
  maker.op(OpType::kAdd, {x, c1}, a);
  maker.op(OpType::kAdd, {y, c2}, b);
  maker.op(OpType::kConcatenation, {a, concat_input_directly ? y : b}, output,
           {.activation = activation, .axis = axis});
  maker.output(output);
  return maker.graph();
}

TEST(RuntimeConcatenation, PlanIsZeroCopyOnlyWhenSlicesAreContiguous) {
  const Graph along_rows = concat_graph(1, {1, 1, 2}, {1, 3, 2});
  const xnn::ConcatenationPlan rows = xnn::plan_concatenation(along_rows, along_rows.operations[2], true);
  EXPECT_TRUE(rows.zero_copy);
  EXPECT_EQ(xnn::slice_offset(rows, 1), 4);  // b starts after a's 2x2 values.
  const Graph along_columns = concat_graph(2, {1, 2, 1}, {1, 2, 3});
  const xnn::ConcatenationPlan columns = xnn::plan_concatenation(along_columns, along_columns.operations[2], true);
  EXPECT_FALSE(columns.zero_copy);
  EXPECT_EQ(columns.outer, 2);
  EXPECT_FALSE(xnn::plan_concatenation(along_rows, along_rows.operations[2], false).zero_copy);
}

TEST(RuntimeConcatenation, ZeroCopyAlongTheOuterAxis) {
  // a = (11, 12, 13, -16), b = (105, 94): rows of [1,2,2] then [1,1,2] -> [1,3,2].
  const Runtime runtime = run(concat_graph(1, {1, 1, 2}, {1, 3, 2}), {{1, 2, 3, 4}, {5, -6}});
  expect_values(runtime.output("output"), {11, 12, 13, -16, 105, 94});
}

TEST(RuntimeConcatenation, StridedCopyAlongTheInnerAxis) {
  // a rows (11, 12), (13, -16); b rows (105), (94) -> (11, 12, 105), (13, -16, 94).
  const Runtime runtime = run(concat_graph(2, {1, 2, 1}, {1, 2, 3}), {{1, 2, 3, 4}, {5, -6}});
  expect_values(runtime.output(0), {11, 12, 105, 13, -16, 94});
}

TEST(RuntimeConcatenation, StridedCopyAppliesTheFusedActivation) {
  const Runtime runtime = run(concat_graph(2, {1, 2, 1}, {1, 2, 3}, Activation::kRelu6), {{1, 2, 3, 4}, {5, -6}});
  expect_values(runtime.output(0), {6, 6, 6, 6, 0, 6});
}

TEST(RuntimeConcatenation, GraphInputAsConcatenationInputIsCopied) {
  // y itself is concatenated: no node writes it, so the contiguous case falls back to the copy.
  const Runtime runtime = run(concat_graph(1, {1, 1, 2}, {1, 3, 2}, Activation::kNone, true), {{1, 2, 3, 4}, {5, -6}});
  expect_values(runtime.output(0), {11, 12, 13, -16, 5, -6});
}

// x [1,3] -> ADD(x, x) = "doubled"; x -> FULLY_CONNECTED (weights [2,3]) = "projected". Two outputs.
Graph two_heads() {
  GraphMaker maker("heads.tflite");
  const int32_t x = maker.input("x", {1, 3});
  const int32_t doubled = maker.tensor("doubled", {1, 3});
  const int32_t weights = maker.tensor("weights", {2, 3}, {1, 1, 1, 0, 0, 1});
  const int32_t projected = maker.tensor("projected", {1, 2});
  maker.op(OpType::kAdd, {x, x}, doubled);
  maker.op(OpType::kFullyConnected, {x, weights}, projected);
  maker.output(doubled);
  maker.output(projected);
  return maker.graph();
}

TEST(RuntimeOutputs, SubsetComputesOnlyWhatIsAsked) {
  const auto model = Model::from_graph(two_heads());
  EXPECT_EQ(model->macs(), 6);  // FULLY_CONNECTED 2x3; ADD counts 0.
  Runtime runtime(model, {.outputs = {"doubled"}});
  EXPECT_EQ(runtime.macs(), 0);  // The FULLY_CONNECTED op was left out of the subgraph.
  std::copy_n(std::vector<float>{1, 2, 3}.begin(), 3, runtime.input("x").begin());
  runtime.invoke();
  ASSERT_EQ(runtime.output_count(), 1u);
  EXPECT_EQ(runtime.output_tensor(0).name, "doubled");
  expect_values(runtime.output("doubled"), {2, 4, 6});
  EXPECT_THROW(runtime.output("projected"), std::out_of_range);
}

TEST(RuntimeOutputs, AllOutputsByDefaultInFileOrder) {
  const Runtime runtime = run(two_heads(), {{1, 2, 3}});
  ASSERT_EQ(runtime.output_count(), 2u);
  expect_values(runtime.output(0), {2, 4, 6});
  expect_values(runtime.output(1), {6, 3});
}

TEST(RuntimeOutputs, UnknownOutputNameListsTheAvailableOnes) {
  const std::string message =
      model_error_of([] { Runtime runtime(Model::from_graph(two_heads()), {.outputs = {"segmentation"}}); });
  EXPECT_NE(message.find("heads.tflite"), std::string::npos) << message;
  EXPECT_NE(message.find("'segmentation'"), std::string::npos) << message;
  EXPECT_NE(message.find("'doubled', 'projected'"), std::string::npos) << message;
}

// A conv big enough for a thread pool to split: [1,16,16,8] -> 3x3 SAME -> [1,16,16,16].
Graph wide_conv() {
  std::vector<float> filter(16 * 3 * 3 * 8), bias(16);
  for (size_t i = 0; i < filter.size(); ++i) filter[i] = std::sin(static_cast<float>(i) * 0.37f);
  for (size_t i = 0; i < bias.size(); ++i) bias[i] = 0.1f * static_cast<float>(i);
  GraphMaker maker("wide.tflite");
  const int32_t input = maker.input("input", {1, 16, 16, 8});
  const int32_t weights = maker.tensor("filter", {16, 3, 3, 8}, filter);
  const int32_t biases = maker.tensor("bias", {16}, bias);
  const int32_t output = maker.tensor("output", {1, 16, 16, 16});
  maker.op(OpType::kConv2D, {input, weights, biases}, output, {.padding = Padding::kSame});
  maker.output(output);
  return maker.graph();
}

std::vector<float> wide_input() {
  std::vector<float> values(16 * 16 * 8);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::cos(static_cast<float>(i) * 0.11f);
  return values;
}

TEST(RuntimeThreads, TwoThreadsGiveTheSameResultAsOne) {
  const Runtime one = run(wide_conv(), {wide_input()}, {.threads = 1});
  const Runtime two = run(wide_conv(), {wide_input()}, {.threads = 2});
  const std::vector<float> expected(one.output(0).begin(), one.output(0).end());
  expect_values(two.output(0), expected, 1e-5f);
}

TEST(RuntimeLifetime, MovedRuntimeKeepsWorking) {
  Runtime original = run(two_heads(), {{1, 2, 3}});
  Runtime moved(std::move(original));
  expect_values(moved.output("projected"), {6, 3});
  Runtime assigned = run(two_heads(), {{0, 0, 0}});
  assigned = std::move(moved);
  std::copy_n(std::vector<float>{3, 2, 1}.begin(), 3, assigned.input(0).begin());
  assigned.invoke();
  expect_values(assigned.output("doubled"), {6, 4, 2});
  expect_values(assigned.output("projected"), {6, 1});
}

TEST(RuntimeLifetime, TwoRuntimesShareOneModel) {
  const auto model = Model::from_graph(two_heads());
  Runtime first(model);
  Runtime second(model, {.outputs = {"projected"}});
  std::copy_n(std::vector<float>{1, 2, 3}.begin(), 3, first.input(0).begin());
  std::copy_n(std::vector<float>{4, 5, 6}.begin(), 3, second.input(0).begin());
  first.invoke();
  second.invoke();
  expect_values(first.output("projected"), {6, 3});
  expect_values(second.output("projected"), {15, 6});
  EXPECT_EQ(&first.model(), &second.model());
}

TEST(RuntimeLifetime, RuntimeKeepsItsModelAlive) {
  Runtime runtime(Model::from_graph(two_heads()));  // The only owner of the Model is the runtime.
  std::copy_n(std::vector<float>{1, 1, 1}.begin(), 3, runtime.input(0).begin());
  runtime.invoke();
  expect_values(runtime.output(1), {3, 1});
}

TEST(ModelErrors, WrongOutputShapeNamesTheOp) {
  GraphMaker maker("bad.tflite");
  const int32_t input = maker.input("input", {1, 4, 4, 1});
  const int32_t filter = maker.tensor("filter", {1, 3, 3, 1}, std::vector<float>(9, 1.0f));
  const int32_t output = maker.tensor("output", {1, 4, 4, 1});  // SAME stride 2 makes 2x2.
  maker.op(OpType::kConv2D, {input, filter}, output,
           {.padding = Padding::kSame, .stride_height = 2, .stride_width = 2});
  maker.output(output);
  const std::string message = model_error_of([&] { Model::from_graph(maker.graph()); });
  EXPECT_NE(message.find("bad.tflite: op 0 CONV_2D: output tensor #2 has shape [1,4,4,1], expected [1,2,2,1]"),
            std::string::npos)
      << message;
}

TEST(ModelErrors, NonConstantFilterIsRefused) {
  GraphMaker maker("dynamic.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 1});
  const int32_t filter = maker.input("filter", {1, 1, 1, 1});
  const int32_t output = maker.tensor("output", {1, 2, 2, 1});
  maker.op(OpType::kConv2D, {input, filter}, output);
  maker.output(output);
  const std::string message = model_error_of([&] { Model::from_graph(maker.graph()); });
  EXPECT_NE(message.find("filter tensor #1 is not a constant"), std::string::npos) << message;
}

TEST(ModelErrors, MeanOverOtherAxesIsRefused) {
  GraphMaker maker("mean.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 3});
  const int32_t output = maker.tensor("output", {1, 2, 2});
  maker.op(OpType::kMean, {input}, output, {.axes = {3}});
  maker.output(output);
  const std::string message = model_error_of([&] { Model::from_graph(maker.graph()); });
  EXPECT_NE(message.find("mean.tflite: op 0 MEAN: only MEAN over axes {1,2}"), std::string::npos) << message;
}

TEST(ModelErrors, ConcatenationFeedingAnotherOpIsRefused) {
  Graph graph = concat_graph(1, {1, 1, 2}, {1, 3, 2});
  graph.tensors.push_back({"after", {1, 3, 2}, {}});
  graph.operations.push_back({OpType::kLogistic, 3, {6}, {7}, {}});
  graph.outputs = {7};
  const std::string message = model_error_of([&] { Model::from_graph(graph); });
  EXPECT_NE(message.find("op 2 CONCATENATION"), std::string::npos) << message;
}

TEST(ModelErrors, ReadBeforeWriteIsRefused) {
  GraphMaker maker("order.tflite");
  const int32_t input = maker.input("input", {1, 2});
  const int32_t middle = maker.tensor("middle", {1, 2});
  const int32_t output = maker.tensor("output", {1, 2});
  maker.op(OpType::kLogistic, {middle}, output);
  maker.op(OpType::kLogistic, {input}, middle);
  maker.output(output);
  const std::string message = model_error_of([&] { Model::from_graph(maker.graph()); });
  EXPECT_NE(message.find("op 0 LOGISTIC: reads tensor #1 before any op writes it"), std::string::npos) << message;
}

TEST(ModelErrors, XnnpackRefusalNamesTheOpAndTheStatus) {
  // XNNPACK 2022 refuses a 1x1 max-pooling window (a no-op that TFLite allows): Model accepts the op,
  // the subgraph does not, and Debian's XNNPACK logs nothing, so the message must say it all.
  GraphMaker maker("pool.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 1});
  const int32_t output = maker.tensor("output", {1, 2, 2, 1});
  maker.op(OpType::kMaxPool2D, {input}, output, {.filter_height = 1, .filter_width = 1});
  maker.output(output);
  const auto model = Model::from_graph(maker.graph());
  const std::string message = model_error_of([&] { Runtime runtime(model); });
  EXPECT_NE(message.find("pool.tflite: op 0 MAX_POOL_2D: xnn_define_max_pooling_2d failed with xnn_status 2 "
                         "(invalid_parameter)"),
            std::string::npos)
      << message;
}

TEST(ModelErrors, OnlyTensorsInUseAreChecked) {
  // The reader keeps unreferenced tensors (folded originals, int32 parameters without data); a zero
  // dim there is harmless, in a tensor an op reads it is an error.
  Graph graph = two_heads();
  graph.tensors.push_back({"unused_parameter", {0}, {}});
  EXPECT_NO_THROW(Model::from_graph(graph));
  graph.tensors[0].shape = {1, 0};
  const std::string message = model_error_of([&] { Model::from_graph(graph); });
  EXPECT_NE(message.find("heads.tflite: tensor #0 'x': dimension 0 is not positive"), std::string::npos) << message;
}

TEST(ModelErrors, ZeroThreadsIsRefused) {
  const std::string message = model_error_of([] { Runtime runtime(Model::from_graph(two_heads()), {.threads = 0}); });
  EXPECT_NE(message.find("thread count 0"), std::string::npos) << message;
}

}  // namespace
}  // namespace posestream::engine
