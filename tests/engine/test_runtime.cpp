// Runtime on small hand-built graphs, one op at a time, against hand-worked answers.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/engine.h"
#include "engine/runtime_graphs.h"

namespace posestream::engine {
namespace {

using testing::expect_values;
using testing::GraphMaker;
using testing::run;

// The input 1..16 as a 4x4 image:
//    1  2  3  4
//    5  6  7  8
//    9 10 11 12
//   13 14 15 16
std::vector<float> one_to_sixteen() {
  std::vector<float> values(16);
  for (int i = 0; i < 16; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return values;
}

TEST(Runtime, ConvSameStride2PadsMoreAfterThanBefore) {
  // A 3x5 window of ones, stride 2, SAME on 4x4: output 2x2. Rows: total padding (2-1)*2+3-4 = 1 -> 0
  // above, 1 below. Columns: (2-1)*2+5-4 = 3 -> 1 left, 2 right. So output (r, c) sums input rows
  // 2r..2r+2 and columns 2c-1..2c+3, clipped to the image:
  //   (0,0): rows 0-2, cols 0-3 = 10 + 26 + 42 = 78     (0,1): rows 0-2, cols 1-3 = 9 + 21 + 33 = 63
  //   (1,0): rows 2-3, cols 0-3 = 42 + 58 = 100          (1,1): rows 2-3, cols 1-3 = 33 + 45 = 78
  // Swapping the sides (1 above / 2 left) would give 54 at (0,0) instead.
  GraphMaker maker("conv.tflite");
  const int32_t input = maker.input("input", {1, 4, 4, 1});
  const int32_t filter = maker.tensor("filter", {1, 3, 5, 1}, std::vector<float>(15, 1.0f));
  const int32_t bias = maker.tensor("bias", {1}, {0.5f});
  const int32_t output = maker.tensor("output", {1, 2, 2, 1});
  maker.op(OpType::kConv2D, {input, filter, bias}, output,
           {.padding = Padding::kSame, .stride_height = 2, .stride_width = 2});
  maker.output(output);
  const Runtime runtime = run(maker.graph(), {one_to_sixteen()});
  expect_values(runtime.output(0), {78.5f, 63.5f, 100.5f, 78.5f});
}

TEST(Runtime, ConvFusedRelu6ClampsBothEnds) {
  GraphMaker maker("relu6.tflite");
  const int32_t input = maker.input("input", {1, 1, 3, 1});
  const int32_t filter = maker.tensor("filter", {1, 1, 1, 1}, {2.0f});
  const int32_t output = maker.tensor("output", {1, 1, 3, 1});
  maker.op(OpType::kConv2D, {input, filter, -1}, output, {.activation = Activation::kRelu6});
  maker.output(output);
  // 2x: [-3, 2, 8] -> [-6, 4, 16] -> clamped to [0, 4, 6]; the missing bias counts as zero.
  expect_values(run(maker.graph(), {{-3, 2, 8}}).output(0), {0, 4, 6});
}

TEST(Runtime, DepthwiseSameStride2) {
  // 3x3 ones, stride 2, SAME on 4x4: 0 before, 1 after on both axes. (0,0) sums rows/cols 0-2 = 54;
  // (0,1) rows 0-2, cols 2-3 = 3+4+7+8+11+12 = 45; (1,0) rows 2-3, cols 0-2 = 72; (1,1) = 11+12+15+16 = 54.
  GraphMaker maker("depthwise_same.tflite");
  const int32_t input = maker.input("input", {1, 4, 4, 1});
  const int32_t filter = maker.tensor("filter", {1, 3, 3, 1}, std::vector<float>(9, 1.0f));
  const int32_t bias = maker.tensor("bias", {1}, {0.0f});
  const int32_t output = maker.tensor("output", {1, 2, 2, 1});
  maker.op(OpType::kDepthwiseConv2D, {input, filter, bias}, output,
           {.padding = Padding::kSame, .stride_height = 2, .stride_width = 2});
  maker.output(output);
  expect_values(run(maker.graph(), {one_to_sixteen()}).output(0), {54, 45, 72, 54});
}

TEST(Runtime, DepthwiseWithMultiplierOrdersChannelsAsInputTimesMultiplier) {
  // Input 2x2 with channels (c0, c1): (0,0)=(1,10) (0,1)=(2,20) (1,0)=(3,30) (1,1)=(4,40). Multiplier 2,
  // a 2x2 VALID window -> 1x1x4; output channel c*2+m reads input channel c. Filter per output channel
  // over the window positions p0..p3: oc0 = ones (c0: 1+2+3+4 = 10), oc1 = [1,0,0,-1] (c0: 1-4 = -3),
  // oc2 = ones (c1: 100), oc3 = [0,1,0,0] (c1: 20). Bias [0, .5, 0, -1] -> [10, -2.5, 100, 19].
  GraphMaker maker("depthwise_multiplier.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 2});
  const int32_t filter = maker.tensor("filter", {1, 2, 2, 4},
                                      {1, 1, 1, 0,     // p0 (0,0): oc0..oc3
                                       1, 0, 1, 1,     // p1 (0,1)
                                       1, 0, 1, 0,     // p2 (1,0)
                                       1, -1, 1, 0});  // p3 (1,1)
  const int32_t bias = maker.tensor("bias", {4}, {0, 0.5f, 0, -1});
  const int32_t output = maker.tensor("output", {1, 1, 1, 4});
  maker.op(OpType::kDepthwiseConv2D, {input, filter, bias}, output, {.depth_multiplier = 2});
  maker.output(output);
  expect_values(run(maker.graph(), {{1, 10, 2, 20, 3, 30, 4, 40}}).output(0), {10, -2.5f, 100, 19});
}

// Resizes [[0, 3], [6, 9]] (f(y, x) = 6y + 3x, which bilinear interpolation reproduces) to 4x4. Along
// one axis the source [0, 3] resamples to r = 3 * position, positions clamped to [0, 1], so the output
// is out(i, j) = 2 r[i] + r[j]:
//   align_corners:       position j/3                -> r = [0, 1, 2, 3]
//   half_pixel_centers:  (j + .5)/2 - .5 = -.25 ...  -> r = [0, .75, 2.25, 3]
//   neither (legacy):    j/2                         -> r = [0, 1.5, 3, 3]
std::vector<float> resized(const std::vector<float>& r) {
  std::vector<float> values;
  for (float row : r) {
    for (float column : r) values.push_back(2 * row + column);
  }
  return values;
}

std::vector<float> run_resize(bool align_corners, bool half_pixel_centers) {
  GraphMaker maker("resize.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 1});
  const int32_t output = maker.tensor("output", {1, 4, 4, 1});
  maker.op(OpType::kResizeBilinear, {input}, output,
           {.align_corners = align_corners, .half_pixel_centers = half_pixel_centers});
  maker.output(output);
  const Runtime runtime = run(maker.graph(), {{0, 3, 6, 9}});
  return {runtime.output(0).begin(), runtime.output(0).end()};
}

TEST(Runtime, ResizeBilinearAlignCorners) { expect_values(run_resize(true, false), resized({0, 1, 2, 3})); }
TEST(Runtime, ResizeBilinearHalfPixelCenters) { expect_values(run_resize(false, true), resized({0, 0.75f, 2.25f, 3})); }
TEST(Runtime, ResizeBilinearLegacy) { expect_values(run_resize(false, false), resized({0, 1.5f, 3, 3})); }

TEST(Runtime, PReluAlphaIsPerChannel) {
  // Alpha [1,1,2] = (.5, .25): pixel 0 (-1, 2) -> (-.5, 2); pixel 1 (-3, -4) -> (-1.5, -1).
  GraphMaker maker("prelu.tflite");
  const int32_t input = maker.input("input", {1, 1, 2, 2});
  const int32_t alpha = maker.tensor("alpha", {1, 1, 2}, {0.5f, 0.25f});
  const int32_t output = maker.tensor("output", {1, 1, 2, 2});
  maker.op(OpType::kPRelu, {input, alpha}, output);
  maker.output(output);
  expect_values(run(maker.graph(), {{-1, 2, -3, -4}}).output(0), {-0.5f, 2, -1.5f, -1});
}

TEST(Runtime, MeanOverHeightAndWidthIsGlobalAveragePooling) {
  // Channel 0 holds 1..4 (mean 2.5), channel 1 holds 10..40 (mean 25); with and without keep_dims.
  GraphMaker maker("mean.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 2});
  const int32_t flat = maker.tensor("flat", {1, 2});
  const int32_t kept = maker.tensor("kept", {1, 1, 1, 2});
  maker.op(OpType::kMean, {input}, flat, {.keep_dims = false, .axes = {1, 2}});
  maker.op(OpType::kMean, {input}, kept, {.keep_dims = true, .axes = {1, 2}});
  maker.output(flat);
  maker.output(kept);
  const Runtime runtime = run(maker.graph(), {{1, 10, 2, 20, 3, 30, 4, 40}});
  expect_values(runtime.output("flat"), {2.5f, 25});
  expect_values(runtime.output("kept"), {2.5f, 25});
}

TEST(Runtime, FullyConnectedFlattensA4DInput) {
  // Weights [[1, 0, -1], [2, 2, 2]] on (1, 2, 3): (1 - 3, 12) + bias (.5, -1) = (-1.5, 11).
  GraphMaker maker("fc.tflite");
  const int32_t input = maker.input("input", {1, 1, 1, 3});
  const int32_t weights = maker.tensor("weights", {2, 3}, {1, 0, -1, 2, 2, 2});
  const int32_t bias = maker.tensor("bias", {2}, {0.5f, -1});
  const int32_t output = maker.tensor("output", {1, 2});
  maker.op(OpType::kFullyConnected, {input, weights, bias}, output);
  maker.output(output);
  expect_values(run(maker.graph(), {{1, 2, 3}}).output(0), {-1.5f, 11});
}

TEST(Runtime, DepthToSpaceUsesTensorFlowChannelOrder) {
  // Block 2, 8 channels -> 2: output (dh, dw, c) of a pixel reads input channel (dh*2 + dw)*2 + c. Input
  // pixel 0 holds 0..7, pixel 1 holds 10..17; output rows: [0,1 2,3 10,11 12,13] and [4,5 6,7 14,15 16,17].
  GraphMaker maker("depth_to_space.tflite");
  const int32_t input = maker.input("input", {1, 1, 2, 8});
  const int32_t output = maker.tensor("output", {1, 2, 4, 2});
  maker.op(OpType::kDepthToSpace, {input}, output, {.block_size = 2});
  maker.output(output);
  const Runtime runtime = run(maker.graph(), {{0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17}});
  expect_values(runtime.output(0), {0, 1, 2, 3, 10, 11, 12, 13, 4, 5, 6, 7, 14, 15, 16, 17});
}

TEST(Runtime, PadReshapeMaxPoolAndLogistic) {
  // [1,2,2,1] = (1, -2, 3, 4) padded by one zero row below and one zero column right -> 3x3
  // (1 -2 0 / 3 4 0 / 0 0 0), flattened, then logistic (of 0: .5). Separately, a 2x2 max pool with
  // stride 2 SAME over the 2x2 input is one window: 4.
  GraphMaker maker("layout.tflite");
  const int32_t input = maker.input("input", {1, 2, 2, 1});
  const int32_t padded = maker.tensor("padded", {1, 3, 3, 1});
  const int32_t flat = maker.tensor("flat", {9});
  const int32_t sigmoid = maker.tensor("sigmoid", {9});
  const int32_t pooled = maker.tensor("pooled", {1, 1, 1, 1});
  maker.op(OpType::kPad, {input}, padded, {.paddings = {0, 0, 0, 1, 0, 1, 0, 0}});
  maker.op(OpType::kReshape, {padded}, flat);
  maker.op(OpType::kLogistic, {flat}, sigmoid);
  maker.op(OpType::kMaxPool2D, {input}, pooled,
           {.padding = Padding::kSame, .stride_height = 2, .stride_width = 2, .filter_height = 2, .filter_width = 2});
  maker.output(sigmoid);
  maker.output(pooled);
  const Runtime runtime = run(maker.graph(), {{1, -2, 3, 4}});
  const auto logistic = [](float x) { return 1.0f / (1.0f + std::exp(-x)); };
  expect_values(runtime.output("sigmoid"),
                {logistic(1), logistic(-2), 0.5f, logistic(3), logistic(4), 0.5f, 0.5f, 0.5f, 0.5f});
  expect_values(runtime.output("pooled"), {4});
}

TEST(Runtime, AddBroadcastsAConstant) {
  GraphMaker maker("add.tflite");
  const int32_t input = maker.input("input", {1, 2, 2});
  const int32_t constant = maker.tensor("constant", {2}, {10, 20});
  const int32_t output = maker.tensor("output", {1, 2, 2});
  maker.op(OpType::kAdd, {input, constant}, output, {.activation = Activation::kReluN1To1});
  maker.output(output);
  // (x + (10, 20)) clamped to [-1, 1]: (-10.5, -20, -9.2, -25) -> (-.5, 0, .8, -5) -> (-.5, 0, .8, -1).
  expect_values(run(maker.graph(), {{-10.5f, -20, -9.2f, -25}}).output(0), {-0.5f, 0, 0.8f, -1});
}

}  // namespace
}  // namespace posestream::engine
