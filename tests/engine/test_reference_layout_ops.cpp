// Hand-worked checks of the reference's layout ops: RESIZE_BILINEAR, PAD, CONCATENATION, DEPTH_TO_SPACE, RESHAPE.
#include <gtest/gtest.h>

#include <stdexcept>

#include "reference/expect.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

using engine::Activation;
using testing::expect_tensor;
using testing::iota;

// Bilinear interpolation reproduces a linear function exactly, so on v(y,x) = a*y + b*x every output is
// a*cy + b*cx, with cy, cx the (clamped) input coordinates each mode samples. The 2x2 input below is
// v(y,x) = 8y + 4x = [[0,4],[8,12]].
const Tensor kLinear2x2{{1, 2, 2, 1}, {0, 4, 8, 12}};

TEST(ReferenceResizeBilinear, AlignCorners2x2To4x4) {
  // scale (2-1)/(4-1) = 1/3: coordinates 0, 1/3, 2/3, 1.
  expect_tensor(resize_bilinear(kLinear2x2, 4, 4, true, false), {1, 4, 4, 1},
                {0, 4.f / 3, 8.f / 3, 4,           //
                 8.f / 3, 4, 16.f / 3, 20.f / 3,   //
                 16.f / 3, 20.f / 3, 8, 28.f / 3,  //
                 8, 28.f / 3, 32.f / 3, 12});
}

TEST(ReferenceResizeBilinear, HalfPixelCenters2x2To4x4) {
  // scale 1/2: (i + .5)/2 - .5 = -.25, .25, .75, 1.25, clamped to 0, .25, .75, 1.
  expect_tensor(resize_bilinear(kLinear2x2, 4, 4, false, true), {1, 4, 4, 1},
                {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12});
}

TEST(ReferenceResizeBilinear, Legacy2x2To4x4RepeatsTheLastRow) {
  // scale 1/2: i/2 = 0, .5, 1, 1.5; the top neighbour of 1.5 is clamped to row 1, so 1.5 reads 1.
  expect_tensor(resize_bilinear(kLinear2x2, 4, 4, false, false), {1, 4, 4, 1},
                {0, 2, 4, 4, 4, 6, 8, 8, 8, 10, 12, 12, 8, 10, 12, 12});
}

TEST(ReferenceResizeBilinear, Legacy2x2To2x4ScalesAxesSeparately) {
  // Rows scale 1 (coordinates 0, 1), columns scale 1/2 (0, .5, 1, 1).
  expect_tensor(resize_bilinear(kLinear2x2, 2, 4, false, false), {1, 2, 4, 1}, {0, 2, 4, 4, 8, 10, 12, 12});
}

TEST(ReferenceResizeBilinear, Downscale3x3To2x2InEveryMode) {
  // v(y,x) = 3y + x = [[0,1,2],[3,4,5],[6,7,8]]; channel 1 is the constant 100.
  Tensor input{{1, 3, 3, 2}, {}};
  for (float value : iota(9, 0.0f)) input.data.insert(input.data.end(), {value, 100.0f});
  // align_corners: scale 2, coordinates 0 and 2.
  expect_tensor(resize_bilinear(input, 2, 2, true, false), {1, 2, 2, 2}, {0, 100, 2, 100, 6, 100, 8, 100});
  // half_pixel_centers: scale 1.5, coordinates .25 and 1.75: 3cy + cx.
  expect_tensor(resize_bilinear(input, 2, 2, false, true), {1, 2, 2, 2}, {1, 100, 2.5f, 100, 5.5f, 100, 7, 100});
  // legacy: scale 1.5, coordinates 0 and 1.5.
  expect_tensor(resize_bilinear(input, 2, 2, false, false), {1, 2, 2, 2}, {0, 100, 1.5f, 100, 4.5f, 100, 6, 100});
}

TEST(ReferenceResizeBilinear, NonLinearInputWeighsCornersByProduct) {
  // [[0,0],[0,4]] is 4*y*x; align_corners to 3x3 samples y, x in {0, .5, 1}: 4 * cy * cx.
  expect_tensor(resize_bilinear(Tensor{{1, 2, 2, 1}, {0, 0, 0, 4}}, 3, 3, true, false), {1, 3, 3, 1},
                {0, 0, 0, 0, 1, 2, 0, 2, 4});
}

TEST(ReferenceResizeBilinear, RejectsBothFlags) {
  EXPECT_THROW(resize_bilinear(kLinear2x2, 4, 4, true, true), std::runtime_error);
}

TEST(ReferencePad, PadsHeightWidthAndChannels) {
  // [1,1,2,2] = pixels [1,2], [3,4]; one row before, one column after, two channels after:
  // row 0 is 3 pixels x 4 channels of zeros; row 1 is [1,2,0,0], [3,4,0,0], [0,0,0,0].
  const Tensor output = pad(Tensor{{1, 1, 2, 2}, {1, 2, 3, 4}}, {{{0, 0}}, {{1, 0}}, {{0, 1}}, {{0, 2}}});
  expect_tensor(output, {1, 2, 3, 4}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                       1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0, 0});
}

TEST(ReferencePad, Rank2AndBadPaddings) {
  expect_tensor(pad(Tensor{{1, 2}, {5, 6}}, {{{1, 1}}, {{0, 1}}}), {3, 3}, {0, 0, 0, 5, 6, 0, 0, 0, 0});
  EXPECT_THROW(pad(Tensor{{1, 2}, {5, 6}}, {{{1, 1}}}), std::runtime_error);             // One pair for rank 2.
  EXPECT_THROW(pad(Tensor{{1, 2}, {5, 6}}, {{{0, 0}}, {{-1, 0}}}), std::runtime_error);  // Negative.
}

TEST(ReferenceConcatenation, LastAxis) {
  // [1,2,2] rows [1,2], [3,4] joined with [1,2,1] rows [9], [8].
  const std::vector<Tensor> inputs{Tensor{{1, 2, 2}, {1, 2, 3, 4}}, Tensor{{1, 2, 1}, {9, 8}}};
  expect_tensor(concatenation(inputs, 2, Activation::kNone), {1, 2, 3}, {1, 2, 9, 3, 4, 8});
  expect_tensor(concatenation(inputs, -1, Activation::kNone), {1, 2, 3}, {1, 2, 9, 3, 4, 8});
}

TEST(ReferenceConcatenation, MiddleAxisWithTwoBatches) {
  // Batch 0: a [1,2] then b [10,11],[12,13]; batch 1: a [3,4] then b [14,15],[16,17].
  const std::vector<Tensor> inputs{Tensor{{2, 1, 2}, {1, 2, 3, 4}}, Tensor{{2, 2, 2}, iota(8, 10)}};
  expect_tensor(concatenation(inputs, 1, Activation::kNone), {2, 3, 2}, {1, 2, 10, 11, 12, 13, 3, 4, 14, 15, 16, 17});
  EXPECT_THROW(concatenation(inputs, 2, Activation::kNone), std::runtime_error);  // Axis 1 differs.
  EXPECT_THROW(concatenation(inputs, 3, Activation::kNone), std::runtime_error);
}

TEST(ReferenceConcatenation, AppliesActivation) {
  const std::vector<Tensor> inputs{Tensor{{2}, {-1, 7}}, Tensor{{1}, {3}}};
  expect_tensor(concatenation(inputs, 0, Activation::kRelu6), {3}, {0, 6, 3});
}

TEST(ReferenceDepthToSpace, BlockIsOuterToChannelsInTensorFlowOrder) {
  // [1,1,2,4], block 2, 1 output channel: output[0, dh, 2w+dw] = input[0, 0, w, 2dh+dw].
  // Pixel 0 holds 0,1,2,3 and pixel 1 holds 4,5,6,7: row 0 = 0,1,4,5; row 1 = 2,3,6,7.
  expect_tensor(depth_to_space(Tensor{{1, 1, 2, 4}, iota(8, 0)}, 2), {1, 2, 4, 1}, {0, 1, 4, 5, 2, 3, 6, 7});
}

TEST(ReferenceDepthToSpace, OutputChannelsAreInnermost) {
  // [1,1,1,8], block 2, 2 output channels: channel (2dh+dw)*2 + c, so pixel (dh,dw) gets a consecutive
  // pair. (A channel-outer order, c*4 + 2dh+dw, would give pixel (0,0) the values 0 and 4.)
  expect_tensor(depth_to_space(Tensor{{1, 1, 1, 8}, iota(8, 0)}, 2), {1, 2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  EXPECT_THROW(depth_to_space(Tensor{{1, 1, 1, 6}, iota(6)}, 2), std::runtime_error);
}

TEST(ReferenceReshape, KeepsDataAndInfersOneDim) {
  expect_tensor(reshape(Tensor{{2, 3}, iota(6)}, {3, -1}), {3, 2}, iota(6));
  expect_tensor(reshape(Tensor{{1, 1, 1, 4}, iota(4)}, {1, 4}), {1, 4}, iota(4));
  EXPECT_THROW(reshape(Tensor{{2, 3}, iota(6)}, {4, -1}), std::runtime_error);
  EXPECT_THROW(reshape(Tensor{{2, 3}, iota(6)}, {-1, -1}), std::runtime_error);
  EXPECT_THROW(reshape(Tensor{{2, 3}, iota(6)}, {7}), std::runtime_error);
}

TEST(ReferenceTensor, RejectsDataNotMatchingShape) {
  EXPECT_THROW(logistic(Tensor{{2, 2}, {1, 2, 3}}), std::runtime_error);
}

}  // namespace
}  // namespace posestream::reference
