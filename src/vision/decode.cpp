// JPEG (TurboJPEG) and PNG (OpenCV imgcodecs) decoding with header-first size limits.
#include "vision/decode.h"

#include <turbojpeg.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <exception>
#include <limits>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string_view>

namespace posestream::vision {
namespace {

constexpr std::array<uint8_t, 3> kJpegMagic = {0xFF, 0xD8, 0xFF};
constexpr std::array<uint8_t, 8> kPngSignature = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
// Signature (8) + chunk length (4) + "IHDR" (4) + 13 bytes of IHDR data + CRC (4).
constexpr size_t kPngHeaderBytes = 33;
// Progressive JPEGs with more scans than 500 are refused: a known decode-time denial of service.
constexpr int kTurboFlags = TJFLAG_LIMITSCANS;

bool starts_with(std::span<const uint8_t> bytes, std::span<const uint8_t> prefix) {
  return bytes.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), bytes.begin());
}

ImageFormat sniff_format(std::span<const uint8_t> bytes) {
  if (starts_with(bytes, kJpegMagic)) return ImageFormat::jpeg;
  if (starts_with(bytes, kPngSignature)) return ImageFormat::png;
  return ImageFormat::unknown;
}

std::string unknown_format_error(std::span<const uint8_t> bytes) {
  std::string hex;
  for (size_t i = 0; i < std::min<size_t>(bytes.size(), 4); ++i) {
    char byte[4];
    std::snprintf(byte, sizeof byte, i == 0 ? "%02x" : " %02x", bytes[i]);
    hex += byte;
  }
  return "unknown image format (first bytes " + hex + ")";
}

std::string dimensions(int width, int height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

uint32_t read_big_endian_32(std::span<const uint8_t> bytes, size_t offset) {
  return (uint32_t{bytes[offset]} << 24) | (uint32_t{bytes[offset + 1]} << 16) |
         (uint32_t{bytes[offset + 2]} << 8) | uint32_t{bytes[offset + 3]};
}

// The IHDR chunk must come first (PNG spec 5.6); its width and height are what libpng allocates from.
HeaderResult read_png_header(std::span<const uint8_t> bytes) {
  HeaderResult result;
  result.header.format = ImageFormat::png;
  if (bytes.size() < kPngHeaderBytes) {
    result.error = "truncated PNG header (" + std::to_string(bytes.size()) + " bytes, IHDR needs 33)";
    return result;
  }
  constexpr std::string_view kIhdr = "IHDR";
  const uint32_t chunk_length = read_big_endian_32(bytes, 8);
  if (chunk_length != 13 || !std::equal(kIhdr.begin(), kIhdr.end(), bytes.begin() + 12)) {
    result.error = "invalid PNG: first chunk is not a 13-byte IHDR";
    return result;
  }
  const uint32_t width = read_big_endian_32(bytes, 16);
  const uint32_t height = read_big_endian_32(bytes, 20);
  constexpr uint32_t kMaxSide = std::numeric_limits<int32_t>::max();  // PNG spec: 1 .. 2^31 - 1.
  if (width == 0 || height == 0 || width > kMaxSide || height > kMaxSide) {
    result.error = "invalid PNG: IHDR size " + std::to_string(width) + "x" + std::to_string(height);
    return result;
  }
  const int bit_depth = bytes[24];
  const int color_type = bytes[25];
  const bool known_color_type = color_type == 0 || color_type == 2 || color_type == 3 ||
                                color_type == 4 || color_type == 6;
  const bool known_depth = bit_depth == 1 || bit_depth == 2 || bit_depth == 4 || bit_depth == 8 ||
                           bit_depth == 16;
  if (!known_color_type || !known_depth) {
    result.error = "invalid PNG: IHDR bit depth " + std::to_string(bit_depth) + ", color type " +
                   std::to_string(color_type);
    return result;
  }
  // PNG defines only compression 0, filter 0 and interlace 0 (none) or 1 (Adam7).
  if (bytes[26] != 0 || bytes[27] != 0 || bytes[28] > 1) {
    result.error = "invalid PNG: IHDR compression " + std::to_string(bytes[26]) + ", filter " +
                   std::to_string(bytes[27]) + ", interlace " + std::to_string(bytes[28]);
    return result;
  }
  result.header.width = static_cast<int>(width);
  result.header.height = static_cast<int>(height);
  return result;
}

struct TurboDeleter {
  void operator()(void* handle) const noexcept { tjDestroy(handle); }
};
using TurboHandle = std::unique_ptr<void, TurboDeleter>;

// A header read may warn (e.g. junk between markers) and still deliver valid dimensions.
HeaderResult read_jpeg_header(tjhandle handle, std::span<const uint8_t> bytes, int& colorspace) {
  HeaderResult result;
  result.header.format = ImageFormat::jpeg;
  int width = 0;
  int height = 0;
  int subsampling = 0;
  const int status = tjDecompressHeader3(handle, bytes.data(), static_cast<unsigned long>(bytes.size()),
                                         &width, &height, &subsampling, &colorspace);
  // A stream that ends before its frame header reads as "tables only": status 0, sizes left untouched.
  const bool has_size = width > 0 && height > 0;
  const bool warned = tjGetErrorCode(handle) == TJERR_WARNING;
  if (!has_size || (status != 0 && !warned)) {
    const std::string message = status != 0 || warned ? tjGetErrorStr2(handle) : "no frame header";
    const bool truncated = message.find("remature end") != std::string::npos;
    result.error = (truncated ? "truncated JPEG header (" : "invalid JPEG header (") + message + ")";
    return result;
  }
  result.header.width = width;
  result.header.height = height;
  return result;
}

struct JpegPass {
  bool ok = false;
  bool warning_only = false;  // tjGetErrorCode said TJERR_WARNING (a warning happened, maybe more).
  std::string message;
};

JpegPass run_decompress(tjhandle handle, std::span<const uint8_t> bytes, uint8_t* destination,
                        const ImageHeader& header, int pixel_format, int flags) {
  const int pitch = header.width * tjPixelSize[pixel_format];
  if (tjDecompress2(handle, bytes.data(), static_cast<unsigned long>(bytes.size()), destination,
                    header.width, pitch, header.height, pixel_format, flags) == 0) {
    return {true, false, {}};
  }
  return {false, tjGetErrorCode(handle) == TJERR_WARNING, tjGetErrorStr2(handle)};
}

bool is_truncation_warning(const std::string& message) {
  // libjpeg's JWRN_JPEG_EOF "Premature end of JPEG file" and JWRN_HIT_MARKER
  // "Corrupt JPEG data: premature end of data segment".
  return message.find("remature end") != std::string::npos;
}

bool ends_with_end_of_image(std::span<const uint8_t> bytes) {
  size_t end = bytes.size();
  while (end > 0 && bytes[end - 1] == 0x00) --end;  // Some writers pad after EOI.
  return end >= 2 && bytes[end - 2] == 0xFF && bytes[end - 1] == 0xD9;
}

// TurboJPEG reports only the first warning's text, and reports TJERR_WARNING even when a fatal error
// followed one. So the first pass stops at the first warning, which tells truncation from the benign
// kinds; only for a benign one does a second pass decode the whole image, and its result is kept only
// if no fatal error replaced the message and the data ends with an EOI marker (a later truncation
// would otherwise go unseen). Clean files, the common case, take one pass.
std::string decompress_checked(tjhandle handle, std::span<const uint8_t> bytes, uint8_t* destination,
                               const ImageHeader& header, int pixel_format, std::string& warning) {
  const JpegPass first =
      run_decompress(handle, bytes, destination, header, pixel_format, kTurboFlags | TJFLAG_STOPONWARNING);
  if (first.ok) return {};
  if (!first.warning_only) return "corrupt JPEG (" + first.message + ")";
  if (is_truncation_warning(first.message)) return "truncated JPEG (" + first.message + ")";
  const JpegPass second = run_decompress(handle, bytes, destination, header, pixel_format, kTurboFlags);
  if (second.ok) return {};
  if (!second.warning_only || second.message != first.message) {
    return "corrupt JPEG (" + second.message + ")";
  }
  if (!ends_with_end_of_image(bytes)) return "truncated JPEG (no end-of-image marker; " + first.message + ")";
  warning = first.message;
  return {};
}

// Stored CMYK is Adobe-inverted (255 = no ink), so R = 255 * (1 - C) * (1 - K) = C' * K' / 255.
void inverted_cmyk_to_rgb(std::span<const uint8_t> cmyk, std::span<uint8_t> rgb) {
  const size_t pixels = rgb.size() / 3;
  for (size_t i = 0; i < pixels; ++i) {
    const unsigned key = cmyk[4 * i + 3];
    for (size_t c = 0; c < 3; ++c) rgb[3 * i + c] = static_cast<uint8_t>((cmyk[4 * i + c] * key + 127) / 255);
  }
}

DecodeResult decode_jpeg(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  DecodeResult result;
  result.format = ImageFormat::jpeg;
  TurboHandle handle(tjInitDecompress());
  if (!handle) {
    result.error = std::string("TurboJPEG: cannot create a decompressor (") + tjGetErrorStr2(nullptr) + ")";
    return result;
  }
  int colorspace = 0;
  const HeaderResult header = read_jpeg_header(handle.get(), bytes, colorspace);
  if (!header.ok()) {
    result.error = header.error;
    return result;
  }
  if (result.error = check_limits(header.header, limits); !result.error.empty()) return result;

  Image image = Image::allocate(header.header.width, header.header.height);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    std::vector<uint8_t> cmyk(image.pixels.size() / 3 * 4);
    result.error = decompress_checked(handle.get(), bytes, cmyk.data(), header.header, TJPF_CMYK, result.warning);
    if (result.ok()) inverted_cmyk_to_rgb(cmyk, image.pixels);
  } else {
    // libjpeg-turbo converts grayscale and YCbCr to RGB itself.
    result.error =
        decompress_checked(handle.get(), bytes, image.pixels.data(), header.header, TJPF_RGB, result.warning);
  }
  if (result.ok()) result.image = std::move(image);
  return result;
}

// 16-bit PNG samples keep their high byte: v >> 8 (convertTo would round instead).
cv::Mat high_bytes(const cv::Mat& samples16) {
  cv::Mat samples8(samples16.rows, samples16.cols, CV_MAKETYPE(CV_8U, samples16.channels()));
  const int row_values = samples16.cols * samples16.channels();
  for (int y = 0; y < samples16.rows; ++y) {
    const uint16_t* in = samples16.ptr<uint16_t>(y);
    uint8_t* out = samples8.ptr<uint8_t>(y);
    for (int i = 0; i < row_values; ++i) out[i] = static_cast<uint8_t>(in[i] >> 8);
  }
  return samples8;
}

// OpenCV delivers gray, BGR or BGRA (gray + alpha becomes BGRA); alpha is dropped.
std::string png_pixels_to_rgb(const cv::Mat& decoded, Image& image) {
  const cv::Mat samples8 = decoded.depth() == CV_16U ? high_bytes(decoded) : decoded;
  if (samples8.depth() != CV_8U) return "PNG decoded to unsupported depth " + std::to_string(decoded.depth());
  int conversion = 0;
  switch (samples8.channels()) {
    case 1: conversion = cv::COLOR_GRAY2RGB; break;
    case 3: conversion = cv::COLOR_BGR2RGB; break;
    case 4: conversion = cv::COLOR_BGRA2RGB; break;
    default: return "PNG decoded to unsupported channel count " + std::to_string(samples8.channels());
  }
  cv::Mat rgb(image.height, image.width, CV_8UC3, image.pixels.data());
  cv::cvtColor(samples8, rgb, conversion);
  // cvtColor reuses a destination of the right size and type; this only guards that assumption.
  if (rgb.data != image.pixels.data()) return "PNG colour conversion did not write in place";
  return {};
}

DecodeResult decode_png(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  DecodeResult result;
  result.format = ImageFormat::png;
  const HeaderResult header = read_png_header(bytes);
  if (!header.ok()) {
    result.error = header.error;
    return result;
  }
  if (result.error = check_limits(header.header, limits); !result.error.empty()) return result;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    result.error = "PNG input of " + std::to_string(bytes.size()) + " bytes is too large for OpenCV";
    return result;
  }
  cv::Mat decoded;
  try {
    // imdecode only reads the buffer; the Mat header just cannot say const.
    const cv::Mat encoded(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
    decoded = cv::imdecode(encoded, cv::IMREAD_UNCHANGED);
  } catch (const std::exception& error) {
    result.error = std::string("corrupt PNG (") + error.what() + ")";
    return result;
  }
  if (decoded.empty()) {
    result.error = "corrupt or truncated PNG (OpenCV could not decode it)";
    return result;
  }
  if (decoded.cols != header.header.width || decoded.rows != header.header.height) {
    result.error = "PNG decoded to " + dimensions(decoded.cols, decoded.rows) + ", header said " +
                   dimensions(header.header.width, header.header.height);
    return result;
  }
  Image image = Image::allocate(decoded.cols, decoded.rows);
  if (result.error = png_pixels_to_rgb(decoded, image); result.ok()) result.image = std::move(image);
  return result;
}

}  // namespace

std::string check_limits(const ImageHeader& header, const DecodeLimits& limits) {
  const std::string image = std::string(format_name(header.format)) + " image " +
                            dimensions(header.width, header.height);
  if (int64_t{header.width} * header.height > limits.max_pixels) {
    return image + " exceeds max_pixels " + std::to_string(limits.max_pixels);
  }
  if (header.width > limits.max_width) return image + " exceeds max_width " + std::to_string(limits.max_width);
  if (header.height > limits.max_height) {
    return image + " exceeds max_height " + std::to_string(limits.max_height);
  }
  return {};
}

const char* format_name(ImageFormat format) noexcept {
  switch (format) {
    case ImageFormat::jpeg: return "JPEG";
    case ImageFormat::png: return "PNG";
    case ImageFormat::unknown: break;
  }
  return "unknown";
}

HeaderResult read_image_header(std::span<const uint8_t> bytes) {
  HeaderResult result;
  if (bytes.empty()) {
    result.error = "empty input";
    return result;
  }
  switch (sniff_format(bytes)) {
    case ImageFormat::png: return read_png_header(bytes);
    case ImageFormat::jpeg: {
      TurboHandle handle(tjInitDecompress());
      if (!handle) {
        result.error = "TurboJPEG: cannot create a decompressor";
        return result;
      }
      int colorspace = 0;
      return read_jpeg_header(handle.get(), bytes, colorspace);
    }
    case ImageFormat::unknown: break;
  }
  result.error = unknown_format_error(bytes);
  return result;
}

DecodeResult decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  DecodeResult result;
  if (bytes.empty()) {
    result.error = "empty input";
    return result;
  }
  result.format = sniff_format(bytes);
  try {
    switch (result.format) {
      case ImageFormat::jpeg: return decode_jpeg(bytes, limits);
      case ImageFormat::png: return decode_png(bytes, limits);
      case ImageFormat::unknown: break;
    }
  } catch (const std::exception& error) {  // std::bad_alloc within the limits, or an OpenCV exception.
    result.error = std::string(format_name(result.format)) + " decode failed: " + error.what();
    return result;
  }
  result.error = unknown_format_error(bytes);
  return result;
}

}  // namespace posestream::vision
