// Tests of the low-pass, One Euro, landmark and visibility smoothers against hand-computed steps.
//
// One Euro by hand: alpha(rate, cutoff) = 1 / (1 + tau / te) with te = 1 / rate, tau = 1 / (2 pi cutoff).
//   alpha(30, 1) = 1 / (1 + 30 / 2pi)  = 0.1731707
//   alpha(10, 1) = 1 / (1 + 10 / 2pi)  = 0.3858695
// Step 2 of a filter fed 1.0 at t = 1 s and 2.0 at t = 1.1 s (rate 10 Hz):
//   derivative = (2 - 1) * value_scale * 10; smoothed = alpha(10, 1) * derivative (the derivative
//   filter's first value is 0); cutoff = min_cutoff + beta * |smoothed|;
//   x = a * 2 + (1 - a) * 1 with a = alpha(10, cutoff).
#include <gtest/gtest.h>

#include <vector>

#include "vision/filters.h"

namespace posestream::vision {
namespace {

constexpr int64_t kSecond = 1'000'000;  // Microseconds.
constexpr double kTolerance = 1e-5;

TEST(LowPassFilter, FirstValuePassesThenAverages) {
  LowPassFilter filter(0.1f);
  EXPECT_FALSE(filter.has_last_raw_value());
  EXPECT_FLOAT_EQ(filter.apply(10.0f), 10.0f);
  EXPECT_FLOAT_EQ(filter.apply(20.0f), 11.0f);  // 0.1 * 20 + 0.9 * 10.
  EXPECT_FLOAT_EQ(filter.apply(0.0f), 9.9f);    // 0.9 * 11.
  EXPECT_TRUE(filter.has_last_raw_value());
  EXPECT_FLOAT_EQ(filter.last_raw_value(), 0.0f);
  EXPECT_FLOAT_EQ(filter.last_value(), 9.9f);
  EXPECT_FLOAT_EQ(filter.apply_with_alpha(10.0f, 0.5f), 9.95f);
  EXPECT_FLOAT_EQ(filter.apply_with_alpha(0.0f, 1.5f), 4.975f);  // Invalid alpha: 0.5 is kept.
}

TEST(OneEuroFilter, FirstValuePassesThrough) {
  OneEuroFilter filter(30.0, 1.0, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(filter.apply(kSecond, 1.0, 1.0), 1.0);
}

TEST(OneEuroFilter, RateFromTimestampsWithoutBeta) {
  // beta 0: cutoff 1 -> x = 0.3858695 * 2 + 0.6141305 * 1 = 1.3858695.
  OneEuroFilter filter(30.0, 1.0, 0.0, 1.0);
  filter.apply(kSecond, 1.0, 1.0);
  EXPECT_NEAR(filter.apply(kSecond + kSecond / 10, 1.0, 2.0), 1.3858695, kTolerance);
}

TEST(OneEuroFilter, BetaRaisesTheCutoffWithSpeed) {
  // beta 0.5: smoothed derivative 0.3858695 * 10 = 3.858695; cutoff 2.929348; a = 0.6479572;
  // x2 = 1.6479572. Step 3, 2.0 again at 1.2 s: derivative 0, smoothed 0.6141305 * 3.858695 =
  // 2.369742; cutoff 2.184871; a = 0.5785561; x3 = 0.5785561 * 2 + 0.4214439 * 1.6479572 = 1.8516337.
  OneEuroFilter filter(30.0, 1.0, 0.5, 1.0);
  filter.apply(kSecond, 1.0, 1.0);
  EXPECT_NEAR(filter.apply(kSecond + kSecond / 10, 1.0, 2.0), 1.6479572, kTolerance);
  EXPECT_NEAR(filter.apply(kSecond + 2 * kSecond / 10, 1.0, 2.0), 1.8516337, kTolerance);
}

TEST(OneEuroFilter, ValueScaleScalesTheDerivative) {
  // value_scale 0.5: derivative 5, smoothed 1.929348, cutoff 1.964674, a = 0.5524608 -> 1.5524608.
  OneEuroFilter filter(30.0, 1.0, 0.5, 1.0);
  filter.apply(kSecond, 0.5, 1.0);
  EXPECT_NEAR(filter.apply(kSecond + kSecond / 10, 0.5, 2.0), 1.5524608, kTolerance);
}

TEST(OneEuroFilter, NonIncreasingTimestampReturnsTheRawValue) {
  OneEuroFilter filter(30.0, 1.0, 0.5, 1.0);
  filter.apply(kSecond, 1.0, 1.0);
  EXPECT_DOUBLE_EQ(filter.apply(kSecond, 1.0, 7.0), 7.0);
  EXPECT_DOUBLE_EQ(filter.apply(kSecond - 5, 1.0, 8.0), 8.0);
  // State untouched: the next step is the same as without the rejected calls.
  EXPECT_NEAR(filter.apply(kSecond + kSecond / 10, 1.0, 2.0), 1.6479572, kTolerance);
  // A first timestamp of 0 is not after MediaPipe's initial "last time" 0 either.
  OneEuroFilter at_zero(30.0, 1.0, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(at_zero.apply(0, 1.0, 3.0), 3.0);
  EXPECT_DOUBLE_EQ(at_zero.apply(0, 1.0, 4.0), 4.0);
}

TEST(OneEuroFilter, HugeTimestampsSaturateInsteadOfOverflowing) {
  OneEuroFilter filter(30.0, 1.0, 0.0, 1.0);
  EXPECT_DOUBLE_EQ(filter.apply(INT64_MAX, 1.0, 1.0), 1.0);
  EXPECT_DOUBLE_EQ(filter.apply(INT64_MAX, 1.0, 2.0), 2.0);  // Not after the saturated last time.
}

TEST(LandmarksSmoother, FiltersInPixelsWithTheRoiObjectScale) {
  // 100x200 image; ROI 0.5 x 0.25 -> (50 + 50) / 2 = 50 px object scale, value scale 0.02.
  // x: 50 px -> 60 px in 0.1 s: derivative 10 * 0.02 * 10 = 2, smoothed 0.7717391, cutoff (beta 10)
  // 8.717391, a = 0.8456146 -> 58.456146 px = 0.58456146. z: 10 px -> 20 px the same: 0.18456146.
  // y does not move.
  OneEuroOptions options;
  options.beta = 10.0f;
  LandmarksSmoother smoother(options);
  const NormalizedRect roi{0.5f, 0.5f, 0.5f, 0.25f, 0.0f};
  const std::vector<Landmark> first = {{0.5f, 0.5f, 0.1f, 0.7f, 0.6f}};
  const std::vector<Landmark> out1 = smoother.apply(first, kSecond, {100, 200}, roi);
  ASSERT_EQ(out1.size(), 1u);
  EXPECT_NEAR(out1[0].x, 0.5f, kTolerance);
  const std::vector<Landmark> second = {{0.6f, 0.5f, 0.2f, 0.3f, 0.2f}};
  const std::vector<Landmark> out2 = smoother.apply(second, kSecond + kSecond / 10, {100, 200}, roi);
  ASSERT_EQ(out2.size(), 1u);
  EXPECT_NEAR(out2[0].x, 0.58456146, kTolerance);
  EXPECT_NEAR(out2[0].y, 0.5, kTolerance);
  EXPECT_NEAR(out2[0].z, 0.18456146, kTolerance);
  EXPECT_EQ(out2[0].visibility, 0.3f);  // Passed through.
  EXPECT_EQ(out2[0].presence, 0.2f);
}

TEST(LandmarksSmoother, EmptyListResets) {
  OneEuroOptions options;
  options.beta = 10.0f;
  LandmarksSmoother smoother(options);
  const NormalizedRect roi{0.5f, 0.5f, 0.5f, 0.25f, 0.0f};
  smoother.apply(std::vector<Landmark>{{0.5f, 0.5f, 0.1f, 0, 0}}, kSecond, {100, 200}, roi);
  EXPECT_TRUE(smoother.apply({}, kSecond + 1000, {100, 200}, roi).empty());
  // Fresh filters: the next value passes through.
  const std::vector<Landmark> out =
      smoother.apply(std::vector<Landmark>{{0.9f, 0.1f, 0.1f, 0, 0}}, kSecond + 2000, {100, 200}, roi);
  EXPECT_NEAR(out[0].x, 0.9f, kTolerance);
  EXPECT_NEAR(out[0].y, 0.1f, kTolerance);
}

TEST(LandmarksSmoother, TinyObjectScaleReturnsRawLandmarks) {
  OneEuroOptions options;
  options.beta = 10.0f;
  LandmarksSmoother smoother(options);
  const NormalizedRect empty_roi{0.5f, 0.5f, 0.0f, 0.0f, 0.0f};
  smoother.apply(std::vector<Landmark>{{0.5f, 0.5f, 0, 0, 0}}, kSecond, {100, 200}, empty_roi);
  const std::vector<Landmark> out =
      smoother.apply(std::vector<Landmark>{{0.6f, 0.5f, 0, 0, 0}}, kSecond + kSecond / 10, {100, 200}, empty_roi);
  EXPECT_NEAR(out[0].x, 0.6f, kTolerance);
}

TEST(LandmarksSmoother, WithoutRoiTheBoundingBoxGivesTheScale) {
  // Two landmarks 50 px apart in x and 100 px in y (100x200 image): scale (50 + 100) / 2 = 75 px.
  // Landmark 0 x: 25 -> 35 px: derivative 10 / 75 * 10 = 1.333333, smoothed 0.5144927, cutoff 6.144927,
  // a = 0.7942798 -> 32.942798 px.
  OneEuroOptions options;
  options.beta = 10.0f;
  LandmarksSmoother smoother(options);
  smoother.apply(std::vector<Landmark>{{0.25f, 0.25f, 0, 0, 0}, {0.75f, 0.75f, 0, 0, 0}}, kSecond, {100, 200},
                 std::nullopt);
  const std::vector<Landmark> out = smoother.apply(
      std::vector<Landmark>{{0.35f, 0.25f, 0, 0, 0}, {0.85f, 0.75f, 0, 0, 0}}, kSecond + kSecond / 10, {100, 200},
      std::nullopt);
  EXPECT_NEAR(out[0].x, 0.32942798, kTolerance);
}

TEST(LandmarksSmoother, WorldLandmarksWithoutValueScaling) {
  // pose_world_landmark_smoothing_options: min cutoff 0.1, beta 40, value scale 1. x 1 -> 2 m:
  // derivative 10, smoothed 3.858695, cutoff 0.1 + 154.3478 = 154.4478, a = 0.9898003 -> 1.9898003.
  LandmarksSmoother smoother(pose_world_landmark_smoothing_options());
  smoother.apply_absolute(std::vector<Landmark>{{1.0f, 0.0f, 0.0f, 0, 0}}, kSecond);
  const std::vector<Landmark> out =
      smoother.apply_absolute(std::vector<Landmark>{{2.0f, 0.0f, 0.0f, 0, 0}}, kSecond + kSecond / 10);
  EXPECT_NEAR(out[0].x, 1.9898003, kTolerance);
}

TEST(VisibilitySmoother, LowPassesVisibilityOnly) {
  VisibilitySmoother smoother(0.1f);
  std::vector<Landmark> out = smoother.apply(std::vector<Landmark>{{0.1f, 0.2f, 0.3f, 1.0f, 0.5f}});
  EXPECT_FLOAT_EQ(out[0].visibility, 1.0f);
  out = smoother.apply(std::vector<Landmark>{{0.4f, 0.5f, 0.6f, 0.0f, 0.9f}});
  EXPECT_FLOAT_EQ(out[0].visibility, 0.9f);  // 0.1 * 0 + 0.9 * 1.
  EXPECT_EQ(out[0].x, 0.4f);
  EXPECT_EQ(out[0].presence, 0.9f);
  EXPECT_TRUE(smoother.apply({}).empty());
  out = smoother.apply(std::vector<Landmark>{{0.4f, 0.5f, 0.6f, 0.2f, 0.9f}});
  EXPECT_FLOAT_EQ(out[0].visibility, 0.2f);  // Reset: passes through.
}

}  // namespace
}  // namespace posestream::vision
