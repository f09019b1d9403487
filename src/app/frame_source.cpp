// Frame sources for `posestream video`: OpenCV's video decoder, or a sorted folder of images.
#include "app/frame_source.h"

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <vector>

#include "app/measure.h"
#include "app/pipeline_flags.h"
#include "vision/decode.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

std::int64_t frame_interval_us(double fps) { return std::llround(1e6 / fps); }

// The pipeline's RGB image from a decoder's 8-bit BGR frame.
vision::Image rgb_from_bgr(const cv::Mat& bgr) {
  vision::Image image = vision::Image::allocate(bgr.cols, bgr.rows);
  cv::Mat rgb(image.height, image.width, CV_8UC3, image.pixels.data());  // Writes into `image`.
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return image;
}

cv::Mat bgr_from_rgb(const vision::Image& image) {
  const cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<std::uint8_t*>(image.pixels.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

class VideoFileSource final : public FrameSource {
 public:
  explicit VideoFileSource(const std::filesystem::path& path) : capture_(path.string()), path_(path) {
    if (!capture_.isOpened()) throw std::runtime_error(path.string() + ": OpenCV cannot open it as a video");
    const double rate = capture_.get(cv::CAP_PROP_FPS);
    fps_ = std::isfinite(rate) && rate > 0 && rate < 1000 ? rate : 30.0;
  }

  bool next(SourceFrame& frame) override {
    const Clock::time_point start = Clock::now();
    frame = SourceFrame{};
    if (!capture_.read(frame.bgr) || frame.bgr.empty()) return false;
    frame.timestamp_us = next_timestamp_us(capture_.get(cv::CAP_PROP_POS_MSEC));
    if (frame.bgr.type() != CV_8UC3) {
      frame.error = path_.string() + ": frame " + std::to_string(index_) + " is not 8-bit BGR (OpenCV type " +
                    std::to_string(frame.bgr.type()) + ")";
      frame.bgr.release();
    } else {
      frame.rgb = rgb_from_bgr(frame.bgr);
    }
    ++index_;
    frame.read_ms = milliseconds_since(start);
    return true;
  }

  std::optional<std::int64_t> frame_count() const override {
    const double count = capture_.get(cv::CAP_PROP_FRAME_COUNT);
    if (std::isfinite(count) && count > 0) return static_cast<std::int64_t>(count);
    return std::nullopt;
  }

  double fps() const override { return fps_; }

 private:
  // The decoder's time for the frame just read, kept strictly increasing (the trackers require it).
  std::int64_t next_timestamp_us(double position_ms) {
    std::int64_t timestamp = std::isfinite(position_ms) ? std::llround(position_ms * 1000.0) : -1;
    if (previous_us_ && timestamp <= *previous_us_) timestamp = *previous_us_ + frame_interval_us(fps_);
    if (!previous_us_ && timestamp < 0) timestamp = 0;
    previous_us_ = timestamp;
    return timestamp;
  }

  cv::VideoCapture capture_;
  std::filesystem::path path_;
  double fps_ = 30.0;
  std::int64_t index_ = 0;
  std::optional<std::int64_t> previous_us_;
};

bool is_image_file(const std::filesystem::directory_entry& entry) {
  if (!entry.is_regular_file()) return false;
  std::string extension = entry.path().extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

class FolderSource final : public FrameSource {
 public:
  FolderSource(const std::filesystem::path& folder, double fps) : fps_(fps) {
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      if (is_image_file(entry)) files_.push_back(entry.path());
    }
    std::sort(files_.begin(), files_.end());
    if (files_.empty()) throw std::runtime_error(folder.string() + ": no .jpg, .jpeg or .png files in the folder");
  }

  bool next(SourceFrame& frame) override {
    if (index_ >= files_.size()) return false;
    const Clock::time_point start = Clock::now();
    frame = SourceFrame{};
    const std::filesystem::path& file = files_[index_];
    frame.path = file.string();
    frame.timestamp_us = std::llround(static_cast<double>(index_) * 1e6 / fps_);
    ++index_;
    try {
      vision::DecodeResult decoded = vision::decode_image(read_input_file(file));
      if (!decoded.ok()) throw std::runtime_error("decode: " + decoded.error);
      frame.rgb = std::move(decoded.image);
      frame.bgr = bgr_from_rgb(frame.rgb);
    } catch (const std::exception& error) {
      frame.error = error.what();
    }
    frame.read_ms = milliseconds_since(start);
    return true;
  }

  std::optional<std::int64_t> frame_count() const override { return static_cast<std::int64_t>(files_.size()); }
  double fps() const override { return fps_; }

 private:
  std::vector<std::filesystem::path> files_;
  std::size_t index_ = 0;
  double fps_;
};

}  // namespace

std::unique_ptr<FrameSource> open_frame_source(const std::filesystem::path& input, double folder_fps) {
  if (!(std::isfinite(folder_fps) && folder_fps > 0)) {
    throw std::invalid_argument("video: --fps " + std::to_string(folder_fps) + " must be a positive number");
  }
  std::error_code error;
  if (std::filesystem::is_directory(input, error)) return std::make_unique<FolderSource>(input, folder_fps);
  if (!std::filesystem::is_regular_file(input, error)) {
    throw std::runtime_error(input.string() + ": no such video file or folder of frames");
  }
  return std::make_unique<VideoFileSource>(input);
}

}  // namespace posestream::app
