// Seeded mutation fuzzing of vision::decode_image under ASan+UBSan: every input yields an image or an error.
#include <gtest/gtest.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>

#include "vision/decode.h"
#include "vision/image_fixtures.h"

namespace posestream::vision {
namespace {

using Bytes = std::vector<uint8_t>;

// Small limits keep each iteration's allocations small; the limit checks themselves get exercised too.
constexpr DecodeLimits kLimits{.max_pixels = 512 * 512, .max_width = 1024, .max_height = 1024};
constexpr int kIterationsPerSeed = 2500;

std::vector<Bytes> jpeg_seeds() {
  Bytes rgb = testing::gradient_rgb(24, 16);
  std::mt19937 random(11);
  for (uint8_t& value : rgb) value = static_cast<uint8_t>(value + random() % 32);
  Bytes gray(24 * 16);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 7);
  Bytes cmyk(8 * 8 * 4);
  for (size_t i = 0; i < cmyk.size(); ++i) cmyk[i] = static_cast<uint8_t>(i * 13);
  return {testing::encode_jpeg(rgb, 24, 16, TJPF_RGB, TJSAMP_420, 80),
          testing::encode_jpeg(rgb, 24, 16, TJPF_RGB, TJSAMP_444, 90, TJFLAG_PROGRESSIVE),
          testing::encode_jpeg(gray, 24, 16, TJPF_GRAY, TJSAMP_GRAY, 75),
          testing::encode_jpeg(cmyk, 8, 8, TJPF_CMYK, TJSAMP_444, 85)};
}

std::vector<Bytes> png_seeds() {
  cv::Mat bgr(12, 10, CV_8UC3);
  cv::randu(bgr, 0, 256);
  cv::Mat bgra(5, 6, CV_8UC4);
  cv::randu(bgra, 0, 256);
  Bytes compressed;
  Bytes with_alpha;
  cv::imencode(".png", bgr, compressed);
  cv::imencode(".png", bgra, with_alpha);
  Bytes samples16(4 * 3 * 4);  // 4x3 gray + alpha, 16-bit.
  for (size_t i = 0; i < samples16.size(); ++i) samples16[i] = static_cast<uint8_t>(i * 29);
  return {compressed, with_alpha, testing::PngWriter::write(4, 3, 16, 4, samples16),
          testing::PngWriter::write(3, 2, 8, 0, {1, 2, 3, 4, 5, 6})};
}

uint32_t pick_dimension(std::mt19937& random) {
  static constexpr std::array<uint32_t, 8> kInteresting = {0, 1, 2, 7, 1024, 1025, 65535, 60000};
  return random() % 2 == 0 ? kInteresting[random() % kInteresting.size()] : 1 + random() % 700;
}

void mutate(Bytes& bytes, std::mt19937& random, bool is_png) {
  const auto position = [&] { return bytes.empty() ? size_t{0} : random() % bytes.size(); };
  switch (random() % 7) {
    case 0:  // Flip a few bits.
      for (int i = 0, n = 1 + random() % 4; i < n && !bytes.empty(); ++i) bytes[position()] ^= 1u << (random() % 8);
      break;
    case 1:  // Overwrite a few bytes.
      for (int i = 0, n = 1 + random() % 8; i < n && !bytes.empty(); ++i) bytes[position()] = static_cast<uint8_t>(random());
      break;
    case 2:  // Truncate.
      bytes.resize(position());
      break;
    case 3: {  // Insert random bytes.
      Bytes inserted(1 + random() % 16);
      for (uint8_t& value : inserted) value = static_cast<uint8_t>(random());
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(position()), inserted.begin(), inserted.end());
      break;
    }
    case 4: {  // Delete a range.
      const size_t start = position();
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                  bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), start + 1 + random() % 32)));
      break;
    }
    case 5:  // Duplicate a range at the end (e.g. extra scans or chunks).
      if (!bytes.empty()) {
        const size_t start = position();
        const Bytes copy(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                         bytes.begin() + static_cast<std::ptrdiff_t>(std::min(bytes.size(), start + 64)));
        bytes.insert(bytes.end(), copy.begin(), copy.end());
      }
      break;
    default:  // Lie about the dimensions.
      if (is_png && bytes.size() >= 24) {
        testing::patch_png_size(bytes, pick_dimension(random), pick_dimension(random));
      } else if (!is_png && testing::find_jpeg_sof(bytes) != 0 && testing::find_jpeg_sof(bytes) + 9 <= bytes.size()) {
        testing::patch_jpeg_size(bytes, static_cast<uint16_t>(pick_dimension(random)),
                                 static_cast<uint16_t>(pick_dimension(random)));
      }
      break;
  }
  if (is_png && random() % 2 == 0) testing::fix_png_crcs(bytes);  // Get past the CRC check half the time.
}

void check_outcome(const Bytes& input, const DecodeResult& result, int iteration) {
  ASSERT_EQ(result.ok(), result.error.empty()) << "iteration " << iteration;
  if (!result.ok()) {
    ASSERT_TRUE(result.image.empty()) << "iteration " << iteration;
    return;
  }
  ASSERT_TRUE(result.image.is_valid()) << "iteration " << iteration << " size " << input.size();
  ASSERT_LE(int64_t{result.image.width} * result.image.height, kLimits.max_pixels);
  ASSERT_LE(result.image.width, kLimits.max_width);
  ASSERT_LE(result.image.height, kLimits.max_height);
  const HeaderResult header = read_image_header(input);
  ASSERT_TRUE(header.ok()) << header.error;
  ASSERT_EQ(header.header.width, result.image.width);
  ASSERT_EQ(header.header.height, result.image.height);
}

// Each iteration mutates a fresh copy of a seed 1 to 3 times, so damage stays near-valid and reaches
// deep into the decoders rather than failing at the magic bytes.
void fuzz(const std::vector<Bytes>& seeds, bool is_png, unsigned seed) {
  std::mt19937 random(seed);
  int decoded = 0;
  for (const Bytes& original : seeds) {
    ASSERT_TRUE(decode_image(original, kLimits).ok());
    for (int iteration = 0; iteration < kIterationsPerSeed; ++iteration) {
      Bytes input = original;
      for (int round = 0, rounds = 1 + random() % 3; round < rounds; ++round) mutate(input, random, is_png);
      const DecodeResult result = decode_image(input, kLimits);
      check_outcome(input, result, iteration);
      if (::testing::Test::HasFatalFailure()) return;
      decoded += result.ok() ? 1 : 0;
    }
  }
  // Not an assertion on behaviour, just evidence the fuzzing reached successful decodes too.
  std::printf("%d of %zu mutated inputs decoded\n", decoded, seeds.size() * kIterationsPerSeed);
}

TEST(FuzzDecode, MutatedJpegs) { fuzz(jpeg_seeds(), false, 20240601); }

TEST(FuzzDecode, MutatedPngs) { fuzz(png_seeds(), true, 20240602); }

TEST(FuzzDecode, RandomBytesBehindMagic) {
  std::mt19937 random(3);
  for (int iteration = 0; iteration < 1000; ++iteration) {
    Bytes input = iteration % 2 == 0 ? Bytes{0xFF, 0xD8, 0xFF} : Bytes{0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    for (int i = 0, n = static_cast<int>(random() % 200); i < n; ++i) input.push_back(static_cast<uint8_t>(random()));
    check_outcome(input, decode_image(input, kLimits), iteration);
    if (HasFatalFailure()) return;
  }
}

}  // namespace
}  // namespace posestream::vision
