// JPEG and PNG decoding of untrusted bytes into an RGB Image, with size limits enforced before allocation.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "vision/image.h"

namespace posestream::vision {

enum class ImageFormat { unknown, jpeg, png };

const char* format_name(ImageFormat format) noexcept;  // "JPEG", "PNG", "unknown"

// Sizes the decoder refuses, checked against the header's dimensions before any pixel buffer exists.
// Defaults: 4096 x 4096 = 16,777,216 pixels (48 MiB of RGB output; a progressive JPEG of that size also
// needs about twice that in libjpeg-turbo's coefficient buffers), and no side above 8192. That is far
// above what the models need (they see at most 256 x 256) and what a webcam sends (1920 x 1080), and low
// enough that a handful of concurrent hostile frames cannot exhaust memory.
struct DecodeLimits {
  int64_t max_pixels = int64_t{4096} * 4096;
  int max_width = 8192;
  int max_height = 8192;
};

// Dimensions read from the header alone (no pixel data touched).
struct ImageHeader {
  ImageFormat format = ImageFormat::unknown;
  int width = 0;
  int height = 0;
};

struct HeaderResult {
  ImageHeader header;
  std::string error;  // Empty on success.
  bool ok() const noexcept { return error.empty(); }
};

struct DecodeResult {
  Image image;          // Valid (Image::is_valid) when ok(); empty otherwise.
  ImageFormat format = ImageFormat::unknown;  // Set as soon as the magic bytes were recognised.
  std::string error;    // Empty on success, e.g. "truncated JPEG (Premature end of JPEG file)".
  std::string warning;  // A non-fatal codec warning the image decoded despite, e.g. "Corrupt JPEG data:
                        // 3 extraneous bytes before marker 0xd9". Empty when there was none.
  bool ok() const noexcept { return error.empty(); }
};

// Sniffs the format from the magic bytes (JPEG: FF D8 FF; PNG: the 8-byte PNG signature) and reads the
// dimensions: for PNG by parsing the IHDR chunk here, for JPEG with TurboJPEG's header reader.
// Does not retain `bytes`. Never throws.
HeaderResult read_image_header(std::span<const uint8_t> bytes);

// Empty if an image of this header is within `limits`, else the error decode_image gives for it, e.g.
// "PNG image 60000x60000 exceeds max_pixels 16777216". Lets a caller refuse an image from its header
// alone, before handing the bytes to whoever decodes them.
std::string check_limits(const ImageHeader& header, const DecodeLimits& limits);

// Decodes a JPEG (libjpeg-turbo's TurboJPEG, accurate IDCT and fancy upsampling, the library defaults
// that OpenCV's imread also uses) or a PNG (OpenCV imgcodecs) into 8-bit RGB. Does not retain `bytes`.
// Never throws; every failure is a DecodeResult with `error` set. Conversions:
// - JPEG grayscale -> R = G = B. JPEG CMYK/YCCK -> RGB by R = C * K / 255 (same for G with M, B with Y),
//   treating the stored values as Adobe-inverted (255 = no ink), as Photoshop writes them and as OpenCV's
//   imread reads them. Progressive JPEGs are fine; more than 500 scans is refused (TJFLAG_LIMITSCANS,
//   a known decode-time denial of service). EXIF orientation is ignored (pixels are returned as stored).
// - A truncated JPEG is an error, although libjpeg would return it padded with grey: libjpeg's
//   "Premature end of JPEG file" and "premature end of data segment" warnings become
//   "truncated JPEG (...)". Other libjpeg warnings (e.g. extraneous bytes before a marker, which many
//   cameras produce) keep the image and are reported in `warning`.
// - PNG gray, gray + alpha, RGB, RGBA and palette images -> RGB; alpha is dropped, not composited
//   (MediaPipe's ImageToTensor drops it too). 16-bit samples -> 8-bit by keeping the high byte (v >> 8).
// - Images larger than `limits` are refused before any pixel buffer is allocated, with an error naming
//   the limit, e.g. "PNG image 60000x60000 exceeds max_pixels 16777216".
DecodeResult decode_image(std::span<const uint8_t> bytes, const DecodeLimits& limits = {});

}  // namespace posestream::vision
