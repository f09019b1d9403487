// Hand-worked checks of the reference's arithmetic ops: conv, depthwise, pooling, FC, MEAN, element-wise.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

#include "reference/expect.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

using engine::Activation;
using engine::OpOptions;
using engine::Padding;
using testing::expect_tensor;
using testing::iota;

// The 4x4 single-channel image 1..16 used by the padding tests:
//    1  2  3  4
//    5  6  7  8
//    9 10 11 12
//   13 14 15 16
Tensor image_4x4() { return Tensor{{1, 4, 4, 1}, iota(16)}; }

Tensor ones(std::vector<int32_t> shape) {
  Tensor tensor{std::move(shape), {}};
  tensor.data.assign(size_t(tensor.element_count()), 1.0f);
  return tensor;
}

TEST(ReferenceWindow, SamePutsTheOddPaddingAfter) {
  const Window three = compute_window(4, 3, 2, 1, Padding::kSame);  // total (2-1)*2 + 3 - 4 = 1
  EXPECT_EQ(three.output, 2);
  EXPECT_EQ(three.pad_before, 0);
  EXPECT_EQ(three.pad_after, 1);
  const Window five = compute_window(4, 5, 2, 1, Padding::kSame);  // total 2 + 5 - 4 = 3
  EXPECT_EQ(five.output, 2);
  EXPECT_EQ(five.pad_before, 1);
  EXPECT_EQ(five.pad_after, 2);
  const Window stride_one = compute_window(5, 3, 1, 1, Padding::kSame);
  EXPECT_EQ(stride_one.output, 5);
  EXPECT_EQ(stride_one.pad_before, 1);
  EXPECT_EQ(stride_one.pad_after, 1);
}

TEST(ReferenceWindow, ValidCountsOnlyWholeDilatedWindows) {
  EXPECT_EQ(compute_window(7, 3, 1, 2, Padding::kValid).output, 3);  // effective kernel 5
  EXPECT_EQ(compute_window(4, 3, 2, 1, Padding::kValid).output, 1);
  EXPECT_EQ(compute_window(4, 2, 2, 1, Padding::kValid).output, 2);
  EXPECT_THROW(compute_window(4, 5, 1, 1, Padding::kValid), std::runtime_error);
  EXPECT_THROW(compute_window(4, 3, 0, 1, Padding::kSame), std::runtime_error);
}

TEST(ReferenceConv2D, SameStride2With3x3PadsOnlyBottomRight) {
  // Windows: rows/cols 0-2 and 2-4, where index 4 is padding.
  // (0,0) 1+2+3+5+6+7+9+10+11 = 54; (0,1) 3+4+7+8+11+12 = 45; (1,0) 9+10+11+13+14+15 = 72;
  // (1,1) 11+12+15+16 = 54; plus bias 0.5.
  const OpOptions options{.padding = Padding::kSame, .stride_height = 2, .stride_width = 2};
  const Tensor output = conv_2d(image_4x4(), ones({1, 3, 3, 1}), Tensor{{1}, {0.5f}}, options);
  expect_tensor(output, {1, 2, 2, 1}, {54.5f, 45.5f, 72.5f, 54.5f});
}

TEST(ReferenceConv2D, SameStride2With5x5PadsOneBeforeTwoAfter) {
  // Rows/cols -1..3 and 1..5. (0,0) is the whole image, 136; (0,1) drops column 0 (1+5+9+13 = 28): 108;
  // (1,0) drops row 0 (1+2+3+4 = 10): 126; (1,1) is rows and cols 1-3: 6+7+8+10+11+12+14+15+16 = 99.
  const OpOptions options{.padding = Padding::kSame, .stride_height = 2, .stride_width = 2};
  const Tensor output = conv_2d(image_4x4(), ones({1, 5, 5, 1}), Tensor{}, options);
  expect_tensor(output, {1, 2, 2, 1}, {136, 108, 126, 99});
}

TEST(ReferenceConv2D, ValidStride2) {
  // 2x2 blocks: 1+2+5+6, 3+4+7+8, 9+10+13+14, 11+12+15+16.
  const OpOptions options{.padding = Padding::kValid, .stride_height = 2, .stride_width = 2};
  const Tensor output = conv_2d(image_4x4(), ones({1, 2, 2, 1}), Tensor{}, options);
  expect_tensor(output, {1, 2, 2, 1}, {14, 22, 46, 54});
}

TEST(ReferenceConv2D, DilationSpreadsTheTaps) {
  // Input v(y,x) = 5y + x + 1 on 5x5; taps [[1,2],[3,4]] at dilation 2 read (0,0),(0,2),(2,0),(2,2):
  // out(0,0) = 1*1 + 2*3 + 3*11 + 4*13 = 92, and each step adds (sum of taps = 10) * (5 dy + dx).
  const OpOptions options{.dilation_height = 2, .dilation_width = 2};
  const Tensor output = conv_2d(Tensor{{1, 5, 5, 1}, iota(25)}, Tensor{{1, 2, 2, 1}, {1, 2, 3, 4}}, Tensor{}, options);
  expect_tensor(output, {1, 3, 3, 1}, {92, 102, 112, 142, 152, 162, 192, 202, 212});
}

TEST(ReferenceConv2D, FilterIsOutputMajorAndReluClamps) {
  // Pixel [1, 2]; filters [O=3, 1, 1, I=2] = [1,0], [0,1], [1,-1] -> [1, 2, -1] -> RELU [1, 2, 0].
  const OpOptions options{.activation = Activation::kRelu};
  const Tensor output =
      conv_2d(Tensor{{1, 1, 1, 2}, {1, 2}}, Tensor{{3, 1, 1, 2}, {1, 0, 0, 1, 1, -1}}, Tensor{}, options);
  expect_tensor(output, {1, 1, 1, 3}, {1, 2, 0});
}

TEST(ReferenceConv2D, RejectsMismatchedChannels) {
  EXPECT_THROW(conv_2d(Tensor{{1, 1, 1, 2}, {1, 2}}, ones({1, 1, 1, 3}), Tensor{}, OpOptions{}), std::runtime_error);
  EXPECT_THROW(conv_2d(Tensor{{1, 1, 1, 2}, {1, 2}}, ones({1, 1, 1, 2}), Tensor{{2}, {1, 2}}, OpOptions{}),
               std::runtime_error);  // Bias of 2 for 1 output channel.
}

TEST(ReferenceDepthwiseConv2D, MultiplierTwoKeepsInputChannelOuter) {
  // Input channels c0 = [1,2,3,4], c1 = [10,20,30,40] over the 2x2 pixels. Output channel c*2+m reads c:
  //   0 (c0): taps 1,1,1,1          -> 10
  //   1 (c0): taps 1,0,0,-1         -> 1 - 4 = -3   (reading c1 instead would give -30)
  //   2 (c1): taps 0,1,0,0          -> 20
  //   3 (c1): taps .5 each, bias 1  -> 50 + 1 = 51
  const Tensor input{{1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}};
  const Tensor filter{{1, 2, 2, 4}, {1, 1, 0, 0.5f, 1, 0, 1, 0.5f, 1, 0, 0, 0.5f, 1, -1, 0, 0.5f}};
  const OpOptions options{.depth_multiplier = 2};
  expect_tensor(depthwise_conv_2d(input, filter, Tensor{{4}, {0, 0, 0, 1}}, options), {1, 1, 1, 4}, {10, -3, 20, 51});
}

TEST(ReferenceDepthwiseConv2D, SameStride2PadsBottomRight) {
  // Same windows as the CONV_2D case above.
  const OpOptions options{.padding = Padding::kSame, .stride_height = 2, .stride_width = 2};
  expect_tensor(depthwise_conv_2d(image_4x4(), ones({1, 3, 3, 1}), Tensor{}, options), {1, 2, 2, 1}, {54, 45, 72, 54});
}

TEST(ReferenceDepthwiseConv2D, RejectsFilterNotMatchingMultiplier) {
  const OpOptions options{.depth_multiplier = 2};
  EXPECT_THROW(depthwise_conv_2d(image_4x4(), ones({1, 3, 3, 1}), Tensor{}, options), std::runtime_error);
}

TEST(ReferenceMaxPool2D, SamePaddingIsIgnoredNotZero) {
  // -1..-9 on 3x3; 2x2 stride 2 SAME pads 0 before, 1 after. With padding counted as 0, the edges
  // would read 0; ignored, they are the maxima of the real values.
  const OpOptions options{
      .padding = Padding::kSame, .stride_height = 2, .stride_width = 2, .filter_height = 2, .filter_width = 2};
  const Tensor input{{1, 3, 3, 1}, {-1, -2, -3, -4, -5, -6, -7, -8, -9}};
  expect_tensor(max_pool_2d(input, options), {1, 2, 2, 1}, {-1, -3, -7, -9});
}

TEST(ReferenceMaxPool2D, SameStride2On4x4WindowsStartAtZero) {
  // Windows rows/cols 0-2 and 2-3: maxima 11, 12, 15, 16 (a symmetric pad would give 6 first).
  const OpOptions options{
      .padding = Padding::kSame, .stride_height = 2, .stride_width = 2, .filter_height = 3, .filter_width = 3};
  expect_tensor(max_pool_2d(image_4x4(), options), {1, 2, 2, 1}, {11, 12, 15, 16});
}

TEST(ReferenceMaxPool2D, ChannelsAreIndependent) {
  // Two channels: +v and -v of 1..4 on 2x2, one 2x2 VALID window: max 4 and max -1.
  const Tensor input{{1, 2, 2, 2}, {1, -1, 2, -2, 3, -3, 4, -4}};
  const OpOptions options{.filter_height = 2, .filter_width = 2};
  expect_tensor(max_pool_2d(input, options), {1, 1, 1, 2}, {4, -1});
}

TEST(ReferenceFullyConnected, WithAndWithoutBias) {
  // [1,2,3] . [1,0,-1] = -2; [1,2,3] . [.5,.5,.5] = 3.
  const Tensor weights{{2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f}};
  expect_tensor(fully_connected(Tensor{{1, 3}, {1, 2, 3}}, weights, Tensor{}, Activation::kNone), {1, 2}, {-2, 3});
  expect_tensor(fully_connected(Tensor{{1, 3}, {1, 2, 3}}, weights, Tensor{{2}, {10, -1}}, Activation::kNone), {1, 2},
                {8, 2});
}

TEST(ReferenceFullyConnected, FlattensInputIntoRowsOfTheWeightDepth) {
  // [1,1,1,6] -> rows [1,2,3] and [4,5,6]; second row: 4 - 6 = -2, 7.5; RELU6 clamps 7.5 to 6.
  const Tensor weights{{2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f}};
  expect_tensor(fully_connected(Tensor{{1, 1, 1, 6}, iota(6)}, weights, Tensor{}, Activation::kRelu6), {2, 2},
                {0, 3, 0, 6});
  EXPECT_THROW(fully_connected(Tensor{{1, 4}, iota(4)}, weights, Tensor{}, Activation::kNone), std::runtime_error);
}

TEST(ReferenceMean, OverHeightAndWidth) {
  // Pixels [1,10], [2,20], [3,30], [4,40]: per-channel means 2.5 and 25.
  const Tensor input{{1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}};
  expect_tensor(mean(input, {1, 2}, false), {1, 2}, {2.5f, 25});
  expect_tensor(mean(input, {2, 1}, true), {1, 1, 1, 2}, {2.5f, 25});
}

TEST(ReferenceMean, NegativeAxisAndSingleAxis) {
  const Tensor input{{1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40}};
  expect_tensor(mean(input, {-1}, false), {1, 2, 2}, {5.5f, 11, 16.5f, 22});
  expect_tensor(mean(input, {1}, false), {1, 2, 2}, {2, 20, 3, 30});  // Rows averaged: (1+3)/2, (10+30)/2...
  EXPECT_THROW(mean(input, {4}, false), std::runtime_error);
}

TEST(ReferenceActivation, ClampsOfEveryFusedActivation) {
  EXPECT_FLOAT_EQ(activate(-2.0, Activation::kNone), -2.0f);
  EXPECT_FLOAT_EQ(activate(-2.0, Activation::kRelu), 0.0f);
  EXPECT_FLOAT_EQ(activate(9.0, Activation::kRelu), 9.0f);
  EXPECT_FLOAT_EQ(activate(-2.0, Activation::kReluN1To1), -1.0f);
  EXPECT_FLOAT_EQ(activate(0.3, Activation::kReluN1To1), 0.3f);
  EXPECT_FLOAT_EQ(activate(1.5, Activation::kReluN1To1), 1.0f);
  EXPECT_FLOAT_EQ(activate(-0.5, Activation::kRelu6), 0.0f);
  EXPECT_FLOAT_EQ(activate(5.5, Activation::kRelu6), 5.5f);
  EXPECT_FLOAT_EQ(activate(7.0, Activation::kRelu6), 6.0f);
}

TEST(ReferenceAdd, EqualShapesScalarAndChannelBroadcast) {
  expect_tensor(add(Tensor{{1, 2}, {1, 2}}, Tensor{{1, 2}, {3, 4}}, Activation::kNone), {1, 2}, {4, 6});
  // [-3,2,5,9] + 0.5 = [-2.5, 2.5, 5.5, 9.5], then RELU6.
  expect_tensor(add(Tensor{{1, 2, 2}, {-3, 2, 5, 9}}, Tensor{{}, {0.5f}}, Activation::kRelu6), {1, 2, 2},
                {0, 2.5f, 5.5f, 6});
  expect_tensor(add(Tensor{{1, 2, 2}, {1, 2, 3, 4}}, Tensor{{2}, {10, 20}}, Activation::kNone), {1, 2, 2},
                {11, 22, 13, 24});
  // [2,1] + [1,3] broadcasts both ways to [2,3].
  expect_tensor(add(Tensor{{2, 1}, {1, 2}}, Tensor{{1, 3}, {10, 20, 30}}, Activation::kNone), {2, 3},
                {11, 21, 31, 12, 22, 32});
  EXPECT_THROW(add(Tensor{{2}, {1, 2}}, Tensor{{3}, {1, 2, 3}}, Activation::kNone), std::runtime_error);
}

TEST(ReferencePRelu, AlphaBroadcastsOverChannels) {
  // Pixels [-1,2,-3] and [4,-5,6] with alpha per channel [.1,.2,.3].
  const Tensor input{{1, 1, 2, 3}, {-1, 2, -3, 4, -5, 6}};
  const std::vector<float> expected{-0.1f, 2, -0.9f, 4, -1.0f, 6};
  expect_tensor(prelu(input, Tensor{{1, 1, 3}, {0.1f, 0.2f, 0.3f}}), {1, 1, 2, 3}, expected);
  expect_tensor(prelu(input, Tensor{{3}, {0.1f, 0.2f, 0.3f}}), {1, 1, 2, 3}, expected);
  expect_tensor(prelu(input, Tensor{{1, 1, 2, 3}, iota(6)}), {1, 1, 2, 3}, {-1, 2, -9, 4, -25, 6});
  EXPECT_THROW(prelu(input, Tensor{{2}, {1, 2}}), std::runtime_error);
}

TEST(ReferenceLogistic, KnownValues) {
  // 1 / (1 + e^-x): 0 -> 1/2; ln 3 -> 1/(1 + 1/3) = 3/4; -ln 3 -> 1/4.
  const float ln3 = static_cast<float>(std::log(3.0));
  expect_tensor(logistic(Tensor{{3}, {0, ln3, -ln3}}), {3}, {0.5f, 0.75f, 0.25f}, 1e-6f);
}

}  // namespace
}  // namespace posestream::reference
