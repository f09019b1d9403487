// Where `posestream video` reads frames: a video file (OpenCV videoio) or a folder of image files.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "vision/image.h"

namespace posestream::app {

// One input frame, decoded both ways: RGB for the pipeline, BGR for drawing and the video writer.
struct SourceFrame {
  vision::Image rgb;
  cv::Mat bgr;
  std::int64_t timestamp_us = 0;    // Strictly increasing over a source's frames.
  std::optional<std::string> path;  // The file, for a folder's frames.
  std::string error;                // Non-empty: this frame could not be read (rgb and bgr are empty).
  double read_ms = 0;               // Reading and decoding this frame (and the colour conversion).
};

class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // The next frame into `frame`; false at the end. A frame that cannot be decoded is returned with
  // `error` set and the source goes on (a folder's next file); a video stops at its first unreadable
  // frame, as its decoder does.
  virtual bool next(SourceFrame& frame) = 0;
  // Total frames if known (a folder's file count, a container's frame count), for progress lines.
  virtual std::optional<std::int64_t> frame_count() const = 0;
  // Frames per second for the annotated output: the container's rate, or the folder's --fps.
  virtual double fps() const = 0;
};

// A folder of .jpg/.jpeg/.png files (sorted by name, other files ignored) timed i * 1e6 / folder_fps us,
// or a video file timed by its frames' presentation times (a time that does not increase, as some
// decoders report for the last frames, becomes the previous one plus one frame interval). Throws
// std::runtime_error naming the input when it is neither, or holds no frames to read.
std::unique_ptr<FrameSource> open_frame_source(const std::filesystem::path& input, double folder_fps);

}  // namespace posestream::app
