// Rotated-rect crop to a float tensor, reproducing MediaPipe's ImageToTensor OpenCV converter.
#include "vision/crop.h"

#include <cmath>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace posestream::vision {
namespace {

bool is_finite(const RotatedRect& roi) {
  return std::isfinite(roi.center_x) && std::isfinite(roi.center_y) && std::isfinite(roi.width) &&
         std::isfinite(roi.height) && std::isfinite(roi.rotation_radians);
}

std::string describe(const RotatedRect& roi) {
  return "{center " + std::to_string(roi.center_x) + ", " + std::to_string(roi.center_y) + ", size " +
         std::to_string(roi.width) + " x " + std::to_string(roi.height) + ", rotation " +
         std::to_string(roi.rotation_radians) + " rad}";
}

std::string validate(const Image& image, const RotatedRect& roi, const CropOptions& options, size_t output_floats) {
  if (!image.is_valid()) {
    return "crop: invalid image " + std::to_string(image.width) + "x" + std::to_string(image.height) + " with " +
           std::to_string(image.pixels.size()) + " bytes";
  }
  if (!is_finite(roi)) return "crop: ROI has a NaN or infinite field " + describe(roi);
  if (!(roi.width > 0.0f && roi.height > 0.0f)) return "crop: ROI width and height must be > 0, got " + describe(roi);
  const int width = options.output_width;
  const int height = options.output_height;
  if (width < 1 || height < 1 || width > kMaxCropSide || height > kMaxCropSide) {
    return "crop: output size " + std::to_string(width) + "x" + std::to_string(height) + " outside 1.." +
           std::to_string(kMaxCropSide);
  }
  if (!(options.value_range.min < options.value_range.max)) {
    return "crop: value range [" + std::to_string(options.value_range.min) + ", " +
           std::to_string(options.value_range.max) + "] needs min < max";
  }
  const size_t needed = static_cast<size_t>(width) * static_cast<size_t>(height) * Image::channels;
  if (output_floats < needed) {
    return "crop: output holds " + std::to_string(output_floats) + " floats, " + std::to_string(width) + "x" +
           std::to_string(height) + "x3 needs " + std::to_string(needed);
  }
  return {};
}

int opencv_border(BorderMode mode) { return mode == BorderMode::replicate ? cv::BORDER_REPLICATE : cv::BORDER_CONSTANT; }

// Warps u8 into the scratch, then converts once to float: faster than warping float pixels.
void warp_and_convert(const Image& image, const RotatedRect& roi, const CropOptions& options,
                      std::span<float> output, CropScratch& scratch) {
  const int width = options.output_width;
  const int height = options.output_height;
  std::array<double, 6> transform = output_to_source_transform(roi, width, height);
  // The Mat headers only borrow the buffers; warpAffine reads `source` and never writes it.
  const cv::Mat source(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
  scratch.warped.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * Image::channels);
  cv::Mat warped(height, width, CV_8UC3, scratch.warped.data());
  const cv::Mat matrix(2, 3, CV_64F, transform.data());
  cv::warpAffine(source, warped, matrix, warped.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 opencv_border(options.border_mode), cv::Scalar::all(0));

  const float scale = (options.value_range.max - options.value_range.min) / 255.0f;
  cv::Mat tensor(height, width, CV_32FC3, output.data());
  warped.convertTo(tensor, CV_32F, scale, options.value_range.min);
}

}  // namespace

RotatedRect whole_image_rect(int image_width, int image_height) {
  return {0.5f * static_cast<float>(image_width), 0.5f * static_cast<float>(image_height),
          static_cast<float>(image_width), static_cast<float>(image_height), 0.0f};
}

RotatedRect pixel_rect(const NormalizedRect& rect, int image_width, int image_height) {
  const auto width = static_cast<float>(image_width);
  const auto height = static_cast<float>(image_height);
  return {rect.x_center * width, rect.y_center * height, rect.width * width, rect.height * height, rect.rotation};
}

// Same float arithmetic as MediaPipe's PadRoi, so the padding matches it bit for bit.
LetterboxPadding pad_roi_to_aspect(int output_width, int output_height, RotatedRect& roi) {
  const float tensor_aspect = static_cast<float>(output_height) / static_cast<float>(output_width);
  const float roi_aspect = roi.height / roi.width;
  LetterboxPadding padding;
  if (tensor_aspect > roi_aspect) {
    roi.height = roi.width * tensor_aspect;
    padding.top = padding.bottom = (1.0f - roi_aspect / tensor_aspect) / 2.0f;
  } else {
    roi.width = roi.height / tensor_aspect;
    padding.left = padding.right = (1.0f - tensor_aspect / roi_aspect) / 2.0f;
  }
  return padding;
}

// source = center + R(rotation) * ((x / W - 0.5) * roi.width, (y / H - 0.5) * roi.height): the inverse
// of the map cv::getPerspectiveTransform(cv::boxPoints(roi), output corners) gives, written out.
std::array<double, 6> output_to_source_transform(const RotatedRect& roi, int output_width, int output_height) {
  const double cosine = std::cos(static_cast<double>(roi.rotation_radians));
  const double sine = std::sin(static_cast<double>(roi.rotation_radians));
  const double width = roi.width;
  const double height = roi.height;
  return {cosine * width / output_width,
          -sine * height / output_height,
          roi.center_x - 0.5 * cosine * width + 0.5 * sine * height,
          sine * width / output_width,
          cosine * height / output_height,
          roi.center_y - 0.5 * sine * width - 0.5 * cosine * height};
}

CropResult crop_to_tensor(const Image& image, const RotatedRect& roi, const CropOptions& options,
                          std::span<float> output, CropScratch& scratch) {
  CropResult result;
  if (result.error = validate(image, roi, options, output.size()); !result.ok()) return result;
  result.roi = roi;
  if (options.keep_aspect_ratio) {
    result.padding = pad_roi_to_aspect(options.output_width, options.output_height, result.roi);
    if (!is_finite(result.roi)) {
      result.error = "crop: ROI overflows when padded to the output aspect ratio " + describe(roi);
      return result;
    }
  }
  try {
    warp_and_convert(image, result.roi, options, output, scratch);
  } catch (const std::exception& error) {  // cv::Exception or bad_alloc; not expected after validation.
    result.error = std::string("crop: OpenCV failed: ") + error.what();
  }
  return result;
}

CropResult crop_to_tensor(const Image& image, const NormalizedRect& roi, const CropOptions& options,
                          std::span<float> output, CropScratch& scratch) {
  return crop_to_tensor(image, pixel_rect(roi, image.width, image.height), options, output, scratch);
}

CropResult crop_whole_image_to_tensor(const Image& image, const CropOptions& options, std::span<float> output,
                                      CropScratch& scratch) {
  return crop_to_tensor(image, whole_image_rect(image.width, image.height), options, output, scratch);
}

}  // namespace posestream::vision
