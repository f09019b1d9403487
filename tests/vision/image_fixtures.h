// Test-only image makers for the decode tests: TurboJPEG encoding and a minimal hand-written PNG writer.
#pragma once

#include <turbojpeg.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace posestream::testing {

// Encodes packed pixels of `pixel_format` (TJPF_RGB, TJPF_GRAY, TJPF_CMYK) with TurboJPEG.
inline std::vector<uint8_t> encode_jpeg(const std::vector<uint8_t>& pixels, int width, int height, int pixel_format,
                                        int subsampling = TJSAMP_444, int quality = 95, int flags = 0) {
  tjhandle handle = tjInitCompress();
  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  const int status = tjCompress2(handle, pixels.data(), width, width * tjPixelSize[pixel_format], height,
                                 pixel_format, &jpeg, &size, subsampling, quality, flags);
  std::string error = status != 0 ? tjGetErrorStr2(handle) : "";
  std::vector<uint8_t> bytes(jpeg, jpeg + (status == 0 ? size : 0));
  tjFree(jpeg);
  tjDestroy(handle);
  if (status != 0) throw std::runtime_error("tjCompress2: " + error);
  return bytes;
}

// A smooth RGB test pattern (JPEG keeps it well): R rises left to right, G top to bottom, B diagonally.
inline std::vector<uint8_t> gradient_rgb(int width, int height) {
  std::vector<uint8_t> pixels(static_cast<size_t>(width) * height * 3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      uint8_t* pixel = &pixels[(static_cast<size_t>(y) * width + x) * 3];
      pixel[0] = static_cast<uint8_t>(20 + 200 * x / std::max(1, width - 1));
      pixel[1] = static_cast<uint8_t>(30 + 180 * y / std::max(1, height - 1));
      pixel[2] = static_cast<uint8_t>(40 + 150 * (x + y) / std::max(1, width + height - 2));
    }
  }
  return pixels;
}

// PNG written by hand (stored, uncompressed deflate blocks) so the tests can make colour types and
// depths OpenCV's encoder cannot (gray + alpha) and know every byte of the file.
class PngWriter {
 public:
  // `samples`: rows of width * channels(color_type) samples, 1 byte each (bit_depth 8) or 2 bytes
  // big-endian (bit_depth 16).
  static std::vector<uint8_t> write(int width, int height, int bit_depth, int color_type,
                                    const std::vector<uint8_t>& samples) {
    const size_t row_bytes = samples.size() / height;
    std::vector<uint8_t> raw;  // Each row prefixed with filter type 0.
    for (int y = 0; y < height; ++y) {
      raw.push_back(0);
      raw.insert(raw.end(), samples.begin() + y * row_bytes, samples.begin() + (y + 1) * row_bytes);
    }
    std::vector<uint8_t> png = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A};
    std::vector<uint8_t> header;
    put32(header, width);
    put32(header, height);
    header.insert(header.end(), {static_cast<uint8_t>(bit_depth), static_cast<uint8_t>(color_type), 0, 0, 0});
    chunk(png, "IHDR", header);
    chunk(png, "IDAT", zlib_stored(raw));
    chunk(png, "IEND", {});
    return png;
  }

  // PNG's chunk CRC (ISO 3309 / zlib crc32) over `bytes`.
  static uint32_t crc32(std::span<const uint8_t> bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (uint8_t byte : bytes) {
      crc ^= byte;
      for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
  }

 private:
  static void put32(std::vector<uint8_t>& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<uint8_t>(value >> shift));
  }

  static void chunk(std::vector<uint8_t>& png, const char* type, const std::vector<uint8_t>& data) {
    put32(png, static_cast<uint32_t>(data.size()));
    std::vector<uint8_t> typed(type, type + 4);
    typed.insert(typed.end(), data.begin(), data.end());
    png.insert(png.end(), typed.begin(), typed.end());
    put32(png, crc32(typed));
  }

  static std::vector<uint8_t> zlib_stored(const std::vector<uint8_t>& raw) {
    std::vector<uint8_t> out = {0x78, 0x01};
    size_t offset = 0;
    do {
      const size_t length = std::min<size_t>(raw.size() - offset, 65535);
      const bool last = offset + length == raw.size();
      out.push_back(last ? 1 : 0);
      out.insert(out.end(), {static_cast<uint8_t>(length), static_cast<uint8_t>(length >> 8),
                             static_cast<uint8_t>(~length), static_cast<uint8_t>(~length >> 8)});
      out.insert(out.end(), raw.begin() + offset, raw.begin() + offset + length);
      offset += length;
    } while (offset < raw.size());
    uint32_t a = 1;
    uint32_t b = 0;
    for (uint8_t byte : raw) {
      a = (a + byte) % 65521;
      b = (b + a) % 65521;
    }
    put32(out, (b << 16) | a);
    return out;
  }
};

// Offset of the first SOFn marker's segment (the FF byte) in a JPEG, walking the marker segments; the
// height is at +5 and the width at +7, big-endian. Returns 0 if none.
inline size_t find_jpeg_sof(const std::vector<uint8_t>& jpeg) {
  size_t offset = 2;
  while (offset + 4 <= jpeg.size() && jpeg[offset] == 0xFF) {
    const uint8_t marker = jpeg[offset + 1];
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) return offset;
    offset += 2 + ((jpeg[offset + 2] << 8) | jpeg[offset + 3]);
  }
  return 0;
}

inline void patch_jpeg_size(std::vector<uint8_t>& jpeg, uint16_t width, uint16_t height) {
  const size_t sof = find_jpeg_sof(jpeg);
  if (sof == 0) throw std::runtime_error("no SOF marker");
  jpeg[sof + 5] = static_cast<uint8_t>(height >> 8);
  jpeg[sof + 6] = static_cast<uint8_t>(height);
  jpeg[sof + 7] = static_cast<uint8_t>(width >> 8);
  jpeg[sof + 8] = static_cast<uint8_t>(width);
}

// Overwrites the IHDR width and height (bytes 16..23); the chunk's CRC is left stale on purpose.
inline void patch_png_size(std::vector<uint8_t>& png, uint32_t width, uint32_t height) {
  for (int i = 0; i < 4; ++i) {
    png[16 + i] = static_cast<uint8_t>(width >> (24 - 8 * i));
    png[20 + i] = static_cast<uint8_t>(height >> (24 - 8 * i));
  }
}

// Rewrites every complete chunk's CRC so that a mutated PNG gets past libpng's CRC check and into the
// decoder proper. Stops at the first chunk whose length runs past the end.
inline void fix_png_crcs(std::vector<uint8_t>& png) {
  size_t offset = 8;
  while (offset + 12 <= png.size()) {
    const uint32_t length = (uint32_t{png[offset]} << 24) | (uint32_t{png[offset + 1]} << 16) |
                            (uint32_t{png[offset + 2]} << 8) | uint32_t{png[offset + 3]};
    if (length > png.size() - offset - 12) return;
    const uint32_t crc = PngWriter::crc32(std::span(png).subspan(offset + 4, length + 4));
    for (int i = 0; i < 4; ++i) png[offset + 8 + length + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
    offset += 12 + length;
  }
}

}  // namespace posestream::testing
