// MediaPipe's ImageToTensor on CPU: a rotated-rect crop of an Image into a float32 NHWC tensor.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vision/geometry.h"
#include "vision/image.h"

namespace posestream::vision {

// A rotated rectangle in PIXELS of the source image (MediaPipe's internal RotatedRect, what GetRoi makes
// from a NormalizedRect: center_x = x_center * image_width, width = width * image_width, and so on).
// rotation_radians turns the rect clockwise on screen (image y points down), as NormalizedRect.rotation.
struct RotatedRect {
  float center_x = 0.0f;
  float center_y = 0.0f;
  float width = 0.0f;
  float height = 0.0f;
  float rotation_radians = 0.0f;
};

enum class BorderMode {
  zero,       // Outside the image reads as 0 before value scaling (i.e. value_range.min). cv::BORDER_CONSTANT.
  replicate,  // Outside the image repeats the nearest edge pixel. cv::BORDER_REPLICATE.
};

// Source values 0..255 map linearly onto [min, max]; min < max.
struct ValueRange {
  float min = 0.0f;
  float max = 1.0f;
};

struct CropOptions {
  int output_width = 0;   // 1 .. kMaxCropSide
  int output_height = 0;  // 1 .. kMaxCropSide
  // Pads the ROI to the output's aspect ratio (MediaPipe's PadRoi) instead of stretching it.
  bool keep_aspect_ratio = true;
  BorderMode border_mode = BorderMode::zero;
  ValueRange value_range;
};

inline constexpr int kMaxCropSide = 4096;  // Far above any model input; keeps sizes well inside int.

// The caller-owned u8 buffer the warp writes into before the float conversion. Reuse one per thread:
// after the first call with a given output size, crop_to_tensor allocates nothing.
struct CropScratch {
  std::vector<uint8_t> warped;
};

struct CropResult {
  LetterboxPadding padding;  // All zero without keep_aspect_ratio.
  RotatedRect roi;           // The ROI actually sampled: the input ROI after PadRoi.
  std::string error;         // Empty on success; the output was not written otherwise.
  bool ok() const noexcept { return error.empty(); }
};

// The ROI covering the whole image, unrotated: MediaPipe's GetRoi without a NormalizedRect.
RotatedRect whole_image_rect(int image_width, int image_height);

// MediaPipe's GetRoi with a NormalizedRect: scales center and size by the image's width and height.
RotatedRect pixel_rect(const NormalizedRect& rect, int image_width, int image_height);

// MediaPipe's PadRoi: grows `roi` (width or height) to the output aspect ratio and returns the
// resulting padding. Precondition: all sizes > 0 (crop_to_tensor checks them first).
LetterboxPadding pad_roi_to_aspect(int output_width, int output_height, RotatedRect& roi);

// The 2x3 affine mapping output pixel coordinates (x, y) to source pixel coordinates:
// source = M * (x, y, 1), M row-major. It is the map MediaPipe builds with cv::boxPoints and
// cv::getPerspectiveTransform: the ROI's corners go to the output's corners (0,0), (W,0), (W,H), (0,H),
// with no half-pixel offset, so output pixel (0,0) samples the ROI's top-left corner, not the centre of
// the first ROI cell. (MediaPipe's GPU path samples at pixel centres instead; its CPU path is this one.)
std::array<double, 6> output_to_source_transform(const RotatedRect& roi, int output_width, int output_height);

// Crops `roi` (after PadRoi when keep_aspect_ratio) out of `image` into `output` as float32 NHWC with
// N = 1, C = 3 (RGB): cv::warpAffine of the u8 pixels (bilinear, fixed-point as OpenCV does it), then
// one conversion to float with the value range. Writes output_width * output_height * 3 floats at the
// front of `output`; `output` may be larger. Does not retain `image`, `output` or `scratch`.
// Errors (nothing written): invalid image, ROI with a NaN or infinite field or width/height <= 0,
// output size outside 1..kMaxCropSide, value_range.min >= max, `output` too small. Never throws.
CropResult crop_to_tensor(const Image& image, const RotatedRect& roi, const CropOptions& options,
                          std::span<float> output, CropScratch& scratch);

// The same with the ROI given as MediaPipe's NormalizedRect of the image (converted by pixel_rect).
CropResult crop_to_tensor(const Image& image, const NormalizedRect& roi, const CropOptions& options,
                          std::span<float> output, CropScratch& scratch);

// The detectors' input: the whole image, letterboxed when options.keep_aspect_ratio.
CropResult crop_whole_image_to_tensor(const Image& image, const CropOptions& options, std::span<float> output,
                                      CropScratch& scratch);

}  // namespace posestream::vision
