// Tests of vision::decode_image on JPEGs and PNGs made at test time, valid, odd and broken.
#include "vision/decode.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "vision/image_fixtures.h"

// Records the largest single C++ allocation while `tracking` is on, to show the size limit is checked
// before the pixel buffer exists.
namespace {
std::atomic<bool> tracking{false};
std::atomic<size_t> largest_allocation{0};
}  // namespace

// GCC pairs the replaced new/delete with malloc/free and warns about the mix; it is the intended pairing.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t size) {
  if (tracking.load(std::memory_order_relaxed) && size > largest_allocation.load(std::memory_order_relaxed)) {
    largest_allocation.store(size, std::memory_order_relaxed);
  }
  if (void* pointer = std::malloc(size == 0 ? 1 : size)) return pointer;
  throw std::bad_alloc();
}
void operator delete(void* pointer) noexcept { std::free(pointer); }
void operator delete(void* pointer, size_t) noexcept { std::free(pointer); }
#pragma GCC diagnostic pop

namespace posestream::vision {
namespace {

using testing::encode_jpeg;
using testing::gradient_rgb;
using testing::PngWriter;

const uint8_t* pixel(const Image& image, int x, int y) {
  return &image.pixels[(static_cast<size_t>(y) * image.width + x) * 3];
}

int max_abs_difference(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  int worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// OpenCV's own decoder as an independent reference, converted from BGR to RGB bytes.
std::vector<uint8_t> opencv_rgb(const std::vector<uint8_t>& bytes) {
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  std::vector<uint8_t> rgb;
  for (int y = 0; y < decoded.rows; ++y) {
    for (int x = 0; x < decoded.cols; ++x) {
      const cv::Vec3b bgr = decoded.at<cv::Vec3b>(y, x);
      rgb.insert(rgb.end(), {bgr[2], bgr[1], bgr[0]});
    }
  }
  return rgb;
}

std::vector<uint8_t> noisy_rgb(int width, int height, unsigned seed) {
  std::mt19937 random(seed);
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  for (uint8_t& value : pixels) value = static_cast<uint8_t>(random());
  return pixels;
}

TEST(DecodeJpeg, RgbMatchesSourceAndOpenCv) {
  const std::vector<uint8_t> source = gradient_rgb(64, 48);
  const std::vector<uint8_t> jpeg = encode_jpeg(source, 64, 48, TJPF_RGB);
  const DecodeResult result = decode_image(jpeg);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.format, ImageFormat::jpeg);
  EXPECT_TRUE(result.warning.empty());
  ASSERT_EQ(result.image.width, 64);
  ASSERT_EQ(result.image.height, 48);
  ASSERT_TRUE(result.image.is_valid());
  EXPECT_LE(max_abs_difference(result.image.pixels, source), 6);  // Quality 95, 4:4:4, smooth content.
  EXPECT_LE(max_abs_difference(result.image.pixels, opencv_rgb(jpeg)), 1);
}

TEST(DecodeJpeg, ProgressiveAndSubsampled) {
  const std::vector<uint8_t> source = gradient_rgb(50, 30);
  const std::vector<uint8_t> jpeg = encode_jpeg(source, 50, 30, TJPF_RGB, TJSAMP_420, 90, TJFLAG_PROGRESSIVE);
  const DecodeResult result = decode_image(jpeg);
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.image.width, 50);
  ASSERT_EQ(result.image.height, 30);
  EXPECT_LE(max_abs_difference(result.image.pixels, opencv_rgb(jpeg)), 1);
}

TEST(DecodeJpeg, GrayscaleGivesEqualChannels) {
  std::vector<uint8_t> gray(40 * 20);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(60 + (i % 40) * 4);
  const DecodeResult result = decode_image(encode_jpeg(gray, 40, 20, TJPF_GRAY, TJSAMP_GRAY));
  ASSERT_TRUE(result.ok()) << result.error;
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 40; ++x) {
      const uint8_t* rgb = pixel(result.image, x, y);
      ASSERT_EQ(rgb[0], rgb[1]);
      ASSERT_EQ(rgb[1], rgb[2]);
      ASSERT_NEAR(rgb[0], gray[y * 40 + x], 4);
    }
  }
}

// Four 16x16 patches of Adobe-inverted CMYK (255 = no ink): red, green, blue, and 50% black.
TEST(DecodeJpeg, CmykDecodesToExpectedColours) {
  const std::array<std::array<uint8_t, 4>, 4> stored = {{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255},
                                                          {255, 255, 255, 128}}};
  const std::array<std::array<int, 3>, 4> expected_rgb = {{{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {128, 128, 128}}};
  std::vector<uint8_t> cmyk(32 * 32 * 4);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      const auto& patch = stored[(y / 16) * 2 + x / 16];
      std::copy(patch.begin(), patch.end(), cmyk.begin() + (y * 32 + x) * 4);
    }
  }
  const std::vector<uint8_t> jpeg = encode_jpeg(cmyk, 32, 32, TJPF_CMYK);
  const DecodeResult result = decode_image(jpeg);
  ASSERT_TRUE(result.ok()) << result.error;
  for (int patch = 0; patch < 4; ++patch) {
    const uint8_t* rgb = pixel(result.image, (patch % 2) * 16 + 8, (patch / 2) * 16 + 8);
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(rgb[c], expected_rgb[patch][c], 10) << "patch " << patch << " channel " << c;
  }
  EXPECT_LE(max_abs_difference(result.image.pixels, opencv_rgb(jpeg)), 2);  // OpenCV also reads it inverted.
}

TEST(DecodeJpeg, OneByOne) {
  const DecodeResult result = decode_image(encode_jpeg({10, 200, 90}, 1, 1, TJPF_RGB));
  ASSERT_TRUE(result.ok()) << result.error;
  ASSERT_EQ(result.image.width, 1);
  ASSERT_EQ(result.image.height, 1);
  EXPECT_NEAR(result.image.pixels[0], 10, 6);
  EXPECT_NEAR(result.image.pixels[1], 200, 6);
  EXPECT_NEAR(result.image.pixels[2], 90, 6);
}

TEST(DecodeJpeg, TruncatedIsAnError) {
  const std::vector<uint8_t> jpeg = encode_jpeg(noisy_rgb(64, 64, 1), 64, 64, TJPF_RGB);
  const std::vector<uint8_t> half(jpeg.begin(), jpeg.begin() + jpeg.size() / 2);
  const DecodeResult result = decode_image(half);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.image.empty());
  EXPECT_EQ(result.format, ImageFormat::jpeg);
  EXPECT_NE(result.error.find("truncated JPEG"), std::string::npos) << result.error;
}

TEST(DecodeJpeg, TruncatedInsideTheHeaderIsAnError) {
  const std::vector<uint8_t> jpeg = encode_jpeg(gradient_rgb(16, 16), 16, 16, TJPF_RGB);
  const DecodeResult result = decode_image(std::span(jpeg).first(40));
  EXPECT_EQ(result.error, "truncated JPEG header (Premature end of JPEG file)");
  EXPECT_FALSE(read_image_header(std::span(jpeg).first(40)).ok());
}

// Junk between header segments makes libjpeg warn "extraneous bytes before marker" and carry on;
// such files come from real cameras, so the image is kept and the warning reported.
std::vector<uint8_t> with_junk_before_sof(std::vector<uint8_t> jpeg) {
  const size_t sof = testing::find_jpeg_sof(jpeg);
  jpeg.insert(jpeg.begin() + static_cast<std::ptrdiff_t>(sof), {0x12, 0x34, 0x56});
  return jpeg;
}

TEST(DecodeJpeg, BenignWarningKeepsTheImage) {
  const std::vector<uint8_t> clean = encode_jpeg(gradient_rgb(32, 24), 32, 24, TJPF_RGB);
  const DecodeResult reference = decode_image(clean);
  const DecodeResult result = decode_image(with_junk_before_sof(clean));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_NE(result.warning.find("extraneous bytes"), std::string::npos) << result.warning;
  EXPECT_EQ(result.image.pixels, reference.image.pixels);
}

// TurboJPEG reports only the first warning's text; a truncation after a benign warning must still fail.
TEST(DecodeJpeg, TruncationAfterABenignWarningIsAnError) {
  const std::vector<uint8_t> jpeg = with_junk_before_sof(encode_jpeg(noisy_rgb(64, 64, 2), 64, 64, TJPF_RGB));
  const DecodeResult result = decode_image(std::span(jpeg).first(jpeg.size() / 2));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("truncated JPEG"), std::string::npos) << result.error;
}

TEST(DecodeJpeg, HugeHeaderRefusedBeforeAllocation) {
  std::vector<uint8_t> jpeg = encode_jpeg(gradient_rgb(16, 16), 16, 16, TJPF_RGB);
  testing::patch_jpeg_size(jpeg, 60000, 60000);
  const HeaderResult header = read_image_header(jpeg);
  ASSERT_TRUE(header.ok()) << header.error;
  EXPECT_EQ(header.header.width, 60000);
  EXPECT_EQ(header.header.height, 60000);

  largest_allocation = 0;
  tracking = true;
  const DecodeResult result = decode_image(jpeg);
  tracking = false;
  EXPECT_EQ(result.error, "JPEG image 60000x60000 exceeds max_pixels 16777216");
  EXPECT_LT(largest_allocation.load(), size_t{1} << 20);
}

TEST(DecodeJpeg, WidthLimitNamed) {
  std::vector<uint8_t> jpeg = encode_jpeg(gradient_rgb(16, 16), 16, 16, TJPF_RGB);
  testing::patch_jpeg_size(jpeg, 9000, 16);
  EXPECT_EQ(decode_image(jpeg).error, "JPEG image 9000x16 exceeds max_width 8192");
  EXPECT_EQ(decode_image(jpeg, {.max_pixels = 1000}).error, "JPEG image 9000x16 exceeds max_pixels 1000");
  testing::patch_jpeg_size(jpeg, 16, 9000);
  EXPECT_EQ(decode_image(jpeg).error, "JPEG image 16x9000 exceeds max_height 8192");
}

TEST(DecodePng, RgbIsExact) {
  cv::Mat bgr(7, 5, CV_8UC3);
  cv::randu(bgr, 0, 256);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  const DecodeResult result = decode_image(png);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.format, ImageFormat::png);
  ASSERT_EQ(result.image.width, 5);
  ASSERT_EQ(result.image.height, 7);
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 5; ++x) {
      const cv::Vec3b expected = bgr.at<cv::Vec3b>(y, x);
      const uint8_t* rgb = pixel(result.image, x, y);
      ASSERT_EQ(rgb[0], expected[2]);
      ASSERT_EQ(rgb[1], expected[1]);
      ASSERT_EQ(rgb[2], expected[0]);
    }
  }
}

TEST(DecodePng, GrayAndOneByOne) {
  const DecodeResult gray = decode_image(PngWriter::write(3, 1, 8, 0, {0, 128, 255}));
  ASSERT_TRUE(gray.ok()) << gray.error;
  EXPECT_EQ(gray.image.pixels, (std::vector<uint8_t>{0, 0, 0, 128, 128, 128, 255, 255, 255}));
  const DecodeResult single = decode_image(PngWriter::write(1, 1, 8, 2, {1, 2, 3}));
  ASSERT_TRUE(single.ok()) << single.error;
  EXPECT_EQ(single.image.pixels, (std::vector<uint8_t>{1, 2, 3}));
}

TEST(DecodePng, AlphaIsDroppedNotComposited) {
  // Gray + alpha: (gray 200, alpha 0), (gray 50, alpha 128).
  const DecodeResult gray_alpha = decode_image(PngWriter::write(2, 1, 8, 4, {200, 0, 50, 128}));
  ASSERT_TRUE(gray_alpha.ok()) << gray_alpha.error;
  EXPECT_EQ(gray_alpha.image.pixels, (std::vector<uint8_t>{200, 200, 200, 50, 50, 50}));
  // RGBA.
  const DecodeResult rgba = decode_image(PngWriter::write(2, 1, 8, 6, {10, 20, 30, 0, 40, 50, 60, 255}));
  ASSERT_TRUE(rgba.ok()) << rgba.error;
  EXPECT_EQ(rgba.image.pixels, (std::vector<uint8_t>{10, 20, 30, 40, 50, 60}));
}

TEST(DecodePng, SixteenBitKeepsHighByte) {
  // Big-endian 16-bit RGB samples: 0x80FF would round to 129, the high byte is 128.
  const std::vector<uint8_t> samples = {0x80, 0xFF, 0xFF, 0xFF, 0x00, 0xFF, 0x01, 0x00, 0x7F, 0x80, 0x00, 0x00};
  const DecodeResult result = decode_image(PngWriter::write(2, 1, 16, 2, samples));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.image.pixels, (std::vector<uint8_t>{0x80, 0xFF, 0x00, 0x01, 0x7F, 0x00}));
  // 16-bit gray + alpha.
  const DecodeResult gray_alpha = decode_image(PngWriter::write(1, 1, 16, 4, {0xAB, 0xCD, 0x00, 0x00}));
  ASSERT_TRUE(gray_alpha.ok()) << gray_alpha.error;
  EXPECT_EQ(gray_alpha.image.pixels, (std::vector<uint8_t>{0xAB, 0xAB, 0xAB}));
}

TEST(DecodePng, TruncatedIsAnError) {
  cv::Mat bgr(64, 64, CV_8UC3);
  cv::randu(bgr, 0, 256);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", bgr, png));
  const DecodeResult result = decode_image(std::span(png).first(png.size() / 2));
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("PNG"), std::string::npos) << result.error;
  EXPECT_EQ(decode_image(std::span(png).first(20)).error, "truncated PNG header (20 bytes, IHDR needs 33)");
}

TEST(DecodePng, HugeHeaderRefusedBeforeAllocation) {
  std::vector<uint8_t> png = PngWriter::write(2, 2, 8, 2, std::vector<uint8_t>(12, 7));
  testing::patch_png_size(png, 60000, 60000);
  largest_allocation = 0;
  tracking = true;
  const DecodeResult result = decode_image(png);
  tracking = false;
  EXPECT_EQ(result.error, "PNG image 60000x60000 exceeds max_pixels 16777216");
  EXPECT_LT(largest_allocation.load(), size_t{1} << 20);
  testing::patch_png_size(png, 0, 5);
  EXPECT_EQ(decode_image(png).error, "invalid PNG: IHDR size 0x5");
}

TEST(DecodeInput, EmptyAndUnknown) {
  EXPECT_EQ(decode_image({}).error, "empty input");
  const std::string html = "<html><body>";
  const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(html.data()), html.size());
  const DecodeResult result = decode_image(bytes);
  EXPECT_EQ(result.error, "unknown image format (first bytes 3c 68 74 6d)");
  EXPECT_EQ(result.format, ImageFormat::unknown);
  const std::vector<uint8_t> two = {0xFF, 0xD8};
  EXPECT_EQ(decode_image(two).error, "unknown image format (first bytes ff d8)");
}

TEST(DecodeInput, RandomBytesNeverDecode) {
  std::mt19937 random(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint8_t> bytes(1 + random() % 300);
    for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random());
    if (round % 3 == 1) bytes.insert(bytes.begin(), {0xFF, 0xD8, 0xFF});
    if (round % 3 == 2) bytes.insert(bytes.begin(), {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A});
    const DecodeResult result = decode_image(bytes);
    EXPECT_FALSE(result.ok()) << "round " << round;
    EXPECT_FALSE(result.error.empty());
  }
}

}  // namespace
}  // namespace posestream::vision
