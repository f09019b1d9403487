// Tests of vision::crop_to_tensor against hand-worked crops and MediaPipe's own OpenCV recipe.
#include "vision/crop.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

namespace posestream::vision {
namespace {

Image random_image(int width, int height, unsigned seed) {
  std::mt19937 random(seed);
  Image image = Image::allocate(width, height);
  for (uint8_t& value : image.pixels) value = static_cast<uint8_t>(random());
  return image;
}

// Each pixel's channels are (10 * x + y, 100 + 10 * x + y, 200 - 10 * x - y): every pixel distinct.
Image labelled_image(int width, int height) {
  Image image = Image::allocate(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* pixel = &image.pixels[(static_cast<size_t>(y) * width + x) * 3];
      pixel[0] = static_cast<uint8_t>(10 * x + y);
      pixel[1] = static_cast<uint8_t>(100 + 10 * x + y);
      pixel[2] = static_cast<uint8_t>(200 - 10 * x - y);
    }
  }
  return image;
}

std::array<float, 3> source_pixel(const Image& image, int x, int y) {
  const uint8_t* pixel = &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
  return {static_cast<float>(pixel[0]), static_cast<float>(pixel[1]), static_cast<float>(pixel[2])};
}

// Crops with value range [0, 255] so the output reads as source values.
std::vector<float> crop_raw(const Image& image, const RotatedRect& roi, int width, int height, BorderMode border) {
  std::vector<float> output(static_cast<size_t>(width) * height * 3, -7.0f);
  CropScratch scratch;
  const CropOptions options{width, height, false, border, {0.0f, 255.0f}};
  const CropResult result = crop_to_tensor(image, roi, options, output, scratch);
  EXPECT_TRUE(result.ok()) << result.error;
  return output;
}

void expect_output_pixel(const std::vector<float>& output, int width, int x, int y, std::array<float, 3> expected) {
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(output[(static_cast<size_t>(y) * width + x) * 3 + c], expected[c], 1e-4f)
        << "output (" << x << ", " << y << ") channel " << c;
  }
}

TEST(Crop, IdentityReproducesTheImage) {
  const Image image = random_image(37, 23, 1);
  for (const ValueRange range : {ValueRange{0.0f, 1.0f}, ValueRange{-1.0f, 1.0f}}) {
    std::vector<float> output(37 * 23 * 3);
    CropScratch scratch;
    const CropOptions options{37, 23, false, BorderMode::zero, range};
    const CropResult result = crop_whole_image_to_tensor(image, options, output, scratch);
    ASSERT_TRUE(result.ok()) << result.error;
    for (size_t i = 0; i < output.size(); ++i) {
      const float expected = range.min + static_cast<float>(image.pixels[i]) / 255.0f * (range.max - range.min);
      ASSERT_NEAR(output[i], expected, 1e-5f) << "index " << i << " range [" << range.min << ", " << range.max << "]";
    }
  }
}

// Worked by hand from MediaPipe's corner mapping. Source 3 wide, 2 high; the ROI turned a quarter turn
// covers it exactly: center (1.5, 1), width 2 (along the source's y), height 3 (along the source's x).
// Output 2 wide, 3 high. Output (x, y) samples source (3 - y, x): the output's top row reads the
// source's right edge at x = 3, which lies outside (corners map to corners, no half-pixel shift), so
// row 0 is border, row 1 is source column 2, row 2 is source column 1, and source column 0 is unused.
TEST(Crop, QuarterTurnFollowsMediaPipeCornerMapping) {
  const Image image = labelled_image(3, 2);
  const RotatedRect roi{1.5f, 1.0f, 2.0f, 3.0f, static_cast<float>(std::numbers::pi / 2)};
  for (const BorderMode border : {BorderMode::zero, BorderMode::replicate}) {
    const std::vector<float> output = crop_raw(image, roi, 2, 3, border);
    for (int x = 0; x < 2; ++x) {
      const std::array<float, 3> row0 =
          border == BorderMode::zero ? std::array<float, 3>{0, 0, 0} : source_pixel(image, 2, x);
      expect_output_pixel(output, 2, x, 0, row0);
      expect_output_pixel(output, 2, x, 1, source_pixel(image, 2, x));
      expect_output_pixel(output, 2, x, 2, source_pixel(image, 1, x));
    }
  }
}

// A half turn of a 4x3 image: output (x, y) samples source (4 - x, 3 - y).
TEST(Crop, HalfTurnOfWholeImage) {
  const Image image = labelled_image(4, 3);
  const RotatedRect roi{2.0f, 1.5f, 4.0f, 3.0f, static_cast<float>(std::numbers::pi)};
  const std::vector<float> output = crop_raw(image, roi, 4, 3, BorderMode::zero);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) {
      const bool outside = x == 0 || y == 0;
      expect_output_pixel(output, 4, x, y, outside ? std::array<float, 3>{0, 0, 0} : source_pixel(image, 4 - x, 3 - y));
    }
  }
}

TEST(Crop, LetterboxPaddingLandscapeAndPortrait) {
  RotatedRect landscape = whole_image_rect(640, 480);
  const LetterboxPadding wide = pad_roi_to_aspect(256, 256, landscape);
  EXPECT_FLOAT_EQ(wide.left, 0.0f);
  EXPECT_FLOAT_EQ(wide.top, 0.125f);
  EXPECT_FLOAT_EQ(wide.right, 0.0f);
  EXPECT_FLOAT_EQ(wide.bottom, 0.125f);
  EXPECT_FLOAT_EQ(landscape.width, 640.0f);
  EXPECT_FLOAT_EQ(landscape.height, 640.0f);

  RotatedRect portrait = whole_image_rect(480, 640);
  const LetterboxPadding tall = pad_roi_to_aspect(224, 224, portrait);
  EXPECT_FLOAT_EQ(tall.left, 0.125f);
  EXPECT_FLOAT_EQ(tall.top, 0.0f);
  EXPECT_FLOAT_EQ(tall.right, 0.125f);
  EXPECT_FLOAT_EQ(tall.bottom, 0.0f);
}

// 640x480 of value 200 into 256x256: rows 0..31 and 224..255 are padding (row 224 samples y = 480, just
// outside), rows 32..223 are image.
TEST(Crop, LetterboxedWholeImage) {
  Image image = Image::allocate(640, 480);
  std::fill(image.pixels.begin(), image.pixels.end(), uint8_t{200});
  std::vector<float> output(256 * 256 * 3);
  CropScratch scratch;
  const CropOptions options{256, 256, true, BorderMode::zero, {-1.0f, 1.0f}};
  const CropResult result = crop_whole_image_to_tensor(image, options, output, scratch);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_FLOAT_EQ(result.padding.top, 0.125f);
  EXPECT_FLOAT_EQ(result.padding.bottom, 0.125f);
  EXPECT_FLOAT_EQ(result.padding.left, 0.0f);
  const float content = -1.0f + 200.0f / 255.0f * 2.0f;
  for (int y = 0; y < 256; ++y) {
    const float expected = (y < 32 || y >= 224) ? -1.0f : content;
    for (int x = 0; x < 256; x += 51) ASSERT_NEAR(output[(y * 256 + x) * 3 + 1], expected, 1e-5f) << "row " << y;
  }
}

// The ROI hangs off the right edge by half: output column x samples source column x + 4.
TEST(Crop, BorderZeroVersusReplicate) {
  const Image image = labelled_image(8, 8);
  const RotatedRect roi{8.0f, 4.0f, 8.0f, 8.0f, 0.0f};
  const std::vector<float> zero = crop_raw(image, roi, 8, 8, BorderMode::zero);
  const std::vector<float> replicate = crop_raw(image, roi, 8, 8, BorderMode::replicate);
  for (int y = 0; y < 8; ++y) {
    for (int x = 0; x < 8; ++x) {
      const bool inside = x + 4 < 8;
      expect_output_pixel(zero, 8, x, y, inside ? source_pixel(image, x + 4, y) : std::array<float, 3>{0, 0, 0});
      expect_output_pixel(replicate, 8, x, y, source_pixel(image, inside ? x + 4 : 7, y));
    }
  }
}

// MediaPipe's ImageToTensor OpenCV converter, as it calls OpenCV: boxPoints of the rect (angle in
// degrees), getPerspectiveTransform to the output corners, warpPerspective of u8, then convertTo.
std::vector<float> mediapipe_recipe(const Image& image, const RotatedRect& roi, int width, int height, int border) {
  const cv::Mat source(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  const cv::RotatedRect rotated(cv::Point2f(roi.center_x, roi.center_y), cv::Size2f(roi.width, roi.height),
                                roi.rotation_radians * 180.f / static_cast<float>(std::numbers::pi));
  cv::Mat source_points;
  cv::boxPoints(rotated, source_points);
  const float w = static_cast<float>(width);
  const float h = static_cast<float>(height);
  float corners[8] = {0.0f, h, 0.0f, 0.0f, w, 0.0f, w, h};
  const cv::Mat destination_points(4, 2, CV_32F, corners);
  const cv::Mat projection = cv::getPerspectiveTransform(source_points, destination_points);
  cv::Mat warped;
  cv::warpPerspective(source, warped, projection, cv::Size(width, height), cv::INTER_LINEAR, border);
  std::vector<float> output(static_cast<size_t>(width) * height * 3);
  cv::Mat tensor(height, width, CV_32FC3, output.data());
  warped.convertTo(tensor, CV_32FC3, 1.0 / 255.0, 0.0);
  return output;
}

// A smooth image so that OpenCV's two fixed-point samplers (affine and perspective round the source
// position to 1/32 pixel slightly differently) can differ by at most about one level.
Image smooth_image(int width, int height) {
  Image image = Image::allocate(width, height);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* pixel = &image.pixels[(static_cast<size_t>(y) * width + x) * 3];
      pixel[0] = static_cast<uint8_t>(127.5 + 120 * std::sin(x * 0.05 + y * 0.02));
      pixel[1] = static_cast<uint8_t>(127.5 + 120 * std::cos(x * 0.03 - y * 0.04));
      pixel[2] = static_cast<uint8_t>((x + 2 * y) % 256 / 4 + 100);
    }
  }
  return image;
}

// True when output pixel (x, y) samples within 1 pixel of the image's edge, where zero border makes the
// image-to-zero step steep and the samplers' 1/32-pixel rounding differences show as several levels.
bool near_image_edge(const RotatedRect& roi, const Image& image, int x, int y, int width, int height) {
  const std::array<double, 6> m = output_to_source_transform(roi, width, height);
  const double source_x = m[0] * x + m[1] * y + m[2];
  const double source_y = m[3] * x + m[4] * y + m[5];
  const auto near = [](double value, double size) { return value > -1.0 && value < size && (value < 1.0 || value > size - 2.0); };
  const bool inside_x = source_x > -1.0 && source_x < image.width;
  const bool inside_y = source_y > -1.0 && source_y < image.height;
  return (inside_y && near(source_x, image.width)) || (inside_x && near(source_y, image.height));
}

TEST(Crop, MatchesMediaPipeOpenCvRecipe) {
  const Image image = smooth_image(200, 150);
  const std::array<RotatedRect, 3> rois = {{{100.0f, 75.0f, 80.0f, 60.0f, 0.5f},
                                            {180.0f, 20.0f, 90.0f, 120.0f, -2.4f},
                                            {60.0f, 110.0f, 150.0f, 150.0f, 1.3f}}};
  for (const RotatedRect& roi : rois) {
    for (const BorderMode border : {BorderMode::zero, BorderMode::replicate}) {
      std::vector<float> ours(64 * 48 * 3);
      CropScratch scratch;
      const CropResult result = crop_to_tensor(image, roi, {64, 48, false, border, {0.0f, 1.0f}}, ours, scratch);
      ASSERT_TRUE(result.ok()) << result.error;
      const std::vector<float> reference = mediapipe_recipe(
          image, roi, 64, 48, border == BorderMode::zero ? cv::BORDER_CONSTANT : cv::BORDER_REPLICATE);
      double total = 0.0;
      for (size_t i = 0; i < ours.size(); ++i) {
        const int x = static_cast<int>(i / 3 % 64);
        const int y = static_cast<int>(i / 3 / 64);
        const float tolerance =
            border == BorderMode::zero && near_image_edge(roi, image, x, y, 64, 48) ? 40.0f / 255.0f : 2.5f / 255.0f;
        ASSERT_NEAR(ours[i], reference[i], tolerance) << "output (" << x << ", " << y << ") rotation " << roi.rotation_radians;
        total += std::abs(ours[i] - reference[i]);
      }
      EXPECT_LT(total / static_cast<double>(ours.size()), 0.1 / 255.0) << "rotation " << roi.rotation_radians;
    }
  }
}

TEST(Crop, NormalizedRectIsScaledByImageSize) {
  const Image image = smooth_image(100, 50);
  const NormalizedRect normalized{0.4f, 0.6f, 0.3f, 0.5f, 0.25f};
  const RotatedRect pixels = pixel_rect(normalized, 100, 50);
  EXPECT_FLOAT_EQ(pixels.center_x, 40.0f);
  EXPECT_FLOAT_EQ(pixels.center_y, 30.0f);
  EXPECT_FLOAT_EQ(pixels.width, 30.0f);
  EXPECT_FLOAT_EQ(pixels.height, 25.0f);
  const CropOptions options{32, 32, true, BorderMode::replicate, {0.0f, 1.0f}};
  std::vector<float> from_normalized(32 * 32 * 3);
  std::vector<float> from_pixels(32 * 32 * 3);
  CropScratch scratch;
  const CropResult a = crop_to_tensor(image, normalized, options, from_normalized, scratch);
  const CropResult b = crop_to_tensor(image, pixels, options, from_pixels, scratch);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(from_normalized, from_pixels);
  EXPECT_FLOAT_EQ(a.padding.top, (1.0f - 25.0f / 30.0f) / 2.0f);  // Wider than tall: padded above and below.
}

TEST(Crop, ScratchIsReused) {
  const Image image = smooth_image(64, 64);
  std::vector<float> output(32 * 32 * 3);
  CropScratch scratch;
  const CropOptions options{32, 32, true, BorderMode::zero, {0.0f, 1.0f}};
  ASSERT_TRUE(crop_whole_image_to_tensor(image, options, output, scratch).ok());
  const uint8_t* buffer = scratch.warped.data();
  ASSERT_TRUE(crop_to_tensor(image, RotatedRect{10, 20, 30, 40, 1.0f}, options, output, scratch).ok());
  EXPECT_EQ(scratch.warped.data(), buffer);
}

TEST(Crop, RejectsBadArguments) {
  const Image image = smooth_image(16, 16);
  std::vector<float> output(8 * 8 * 3, 42.0f);
  CropScratch scratch;
  const CropOptions options{8, 8, true, BorderMode::zero, {0.0f, 1.0f}};
  const auto error_of = [&](const Image& source, const RotatedRect& roi, const CropOptions& crop, size_t floats) {
    return crop_to_tensor(source, roi, crop, std::span(output).first(floats), scratch).error;
  };
  const RotatedRect good{8, 8, 8, 8, 0};
  EXPECT_NE(error_of(image, {8, NAN, 8, 8, 0}, options, 192).find("NaN or infinite"), std::string::npos);
  EXPECT_NE(error_of(image, {8, 8, 8, 8, INFINITY}, options, 192).find("NaN or infinite"), std::string::npos);
  EXPECT_NE(error_of(image, {8, 8, 0, 8, 0}, options, 192).find("width and height must be > 0"), std::string::npos);
  EXPECT_NE(error_of(image, {8, 8, 8, -1, 0}, options, 192).find("width and height must be > 0"), std::string::npos);
  EXPECT_EQ(error_of(image, good, options, 191), "crop: output holds 191 floats, 8x8x3 needs 192");
  EXPECT_NE(error_of(image, good, {0, 8, true, BorderMode::zero, {0, 1}}, 192).find("output size 0x8"), std::string::npos);
  EXPECT_NE(error_of(image, good, {8, 8, true, BorderMode::zero, {1, 1}}, 192).find("needs min < max"), std::string::npos);
  EXPECT_NE(error_of(Image{}, good, options, 192).find("invalid image 0x0"), std::string::npos);
  // A 1 x 3e38 ROI padded to an 8:1 output would be 2.4e39 wide: infinite in float.
  EXPECT_NE(error_of(image, {8, 8, 1, 3e38f, 0}, {8, 1, true, BorderMode::zero, {0, 1}}, 24).find("overflows"),
            std::string::npos);
  for (float value : output) ASSERT_EQ(value, 42.0f);  // Nothing written on error.
}

}  // namespace
}  // namespace posestream::vision
