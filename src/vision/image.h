// The decoded-image value type of the vision layer: 8-bit RGB, interleaved, rows packed, owning its pixels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace posestream::vision {

// Why a std::vector and not a cv::Mat: an Image is a value that crosses layers (decode -> trackers ->
// server), so copies must be deep and predictable (a cv::Mat copy shares the buffer through a refcount,
// which makes "mutate my copy" silently mutate everyone's); moving a vector is three pointer swaps; and
// this header stays free of OpenCV, which only decode.cpp and crop.cpp need. Code that wants OpenCV
// wraps `pixels` in a cv::Mat header without copying (as crop.cpp does).
//
// Invariant kept by every producer in this layer (checked by is_valid(), which crop_to_tensor calls):
// width > 0, height > 0, pixels.size() == width * height * 3, row y starts at y * width * 3.
// A default-constructed Image is empty (0x0, no pixels) and not valid.
struct Image {
  static constexpr int channels = 3;

  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // R, G, B, R, G, B, ... row-major, no row padding.

  // A width x height image with every byte zero. Callers check the size against their own limits first:
  // this allocates width * height * 3 bytes.
  static Image allocate(int width, int height) {
    Image image;
    image.width = width;
    image.height = height;
    image.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * channels);
    return image;
  }

  bool empty() const noexcept { return pixels.empty(); }

  bool is_valid() const noexcept {
    return width > 0 && height > 0 &&
           pixels.size() == static_cast<size_t>(width) * static_cast<size_t>(height) * channels;
  }

  size_t row_bytes() const noexcept { return static_cast<size_t>(width) * channels; }

  // One row's bytes. Precondition: is_valid() and 0 <= y < height.
  std::span<const uint8_t> row(int y) const noexcept {
    return {pixels.data() + static_cast<size_t>(y) * row_bytes(), row_bytes()};
  }
  std::span<uint8_t> row(int y) noexcept {
    return {pixels.data() + static_cast<size_t>(y) * row_bytes(), row_bytes()};
  }
};

}  // namespace posestream::vision
