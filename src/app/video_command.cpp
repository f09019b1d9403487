// `posestream video`: VIDEO-mode tracking through a video file or a folder of frames, JSON lines and an
// optional annotated video.
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/annotate.h"
#include "app/commands.h"
#include "app/frame_source.h"
#include "app/pipeline_flags.h"
#include "app/precision_flag.h"
#include "app/result_json.h"
#include "stream/frame_pipeline.h"
#include "stream/model_library.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

struct VideoOptions {
  std::string input;
  std::string jsonl;     // Empty: stdout.
  std::string annotate;  // Empty: no annotated video.
  ModelFlags models;
  PeopleFlags people;
  double fps = 30.0;  // A folder's frame rate.
  std::string models_dir;
  engine::Precision precision = engine::Precision::kFloat32;
};

// Codecs to try per container, first that opens wins. avc1 (H.264, through FFmpeg's libx264) plays in
// browsers; mp4v (MPEG-4 part 2) is FFmpeg's own encoder, always there; MJPG for AVI and Matroska.
std::vector<std::string> codecs_for(const std::filesystem::path& path) {
  const std::string extension = path.extension().string();
  if (extension == ".mp4" || extension == ".m4v" || extension == ".mov") return {"avc1", "mp4v"};
  if (extension == ".avi" || extension == ".mkv") return {"MJPG"};
  throw std::runtime_error("video: --annotate " + path.string() + ": use a .mp4, .m4v, .mov, .avi or .mkv file");
}

// The annotated output, opened on the first frame (its size is the video's size; later frames of
// another size, possible in a folder, are scaled to it).
class AnnotatedVideo {
 public:
  AnnotatedVideo(std::filesystem::path path, double fps)
      : path_(std::move(path)), fps_(fps), codecs_(codecs_for(path_)) {}

  void write(const cv::Mat& bgr) {
    if (!writer_.isOpened()) open(bgr.size());
    if (bgr.size() == size_) {
      writer_.write(bgr);
      return;
    }
    cv::Mat scaled;
    cv::resize(bgr, scaled, size_, 0, 0, cv::INTER_AREA);
    writer_.write(scaled);
  }

  // A frame that could not be read keeps its place in time as a black frame.
  void write_blank() {
    if (writer_.isOpened()) writer_.write(cv::Mat(size_, CV_8UC3, cv::Scalar::all(0)));
  }

  void close() { writer_.release(); }

 private:
  void open(cv::Size size) {
    for (const std::string& codec : codecs_) {
      const int fourcc = cv::VideoWriter::fourcc(codec[0], codec[1], codec[2], codec[3]);
      if (writer_.open(path_.string(), fourcc, fps_, size)) {
        size_ = size;
        return;
      }
    }
    std::string tried;
    for (const std::string& codec : codecs_) tried += (tried.empty() ? "" : ", ") + codec;
    throw std::runtime_error("video: OpenCV cannot write " + path_.string() + " (codecs tried: " + tried + ")");
  }

  std::filesystem::path path_;
  double fps_;
  std::vector<std::string> codecs_;
  cv::VideoWriter writer_;
  cv::Size size_;
};

// "\rvideo: frame 120/300, 14.2 frames/s" on stderr, at most twice a second, only when stderr is a
// terminal (a log file should not fill with carriage returns).
class Progress {
 public:
  explicit Progress(std::optional<std::int64_t> total) : enabled_(isatty(STDERR_FILENO) == 1), total_(total) {}

  void update(std::int64_t frames_done) {
    if (!enabled_) return;
    const Clock::time_point now = Clock::now();
    if (now - last_print_ < std::chrono::milliseconds(500)) return;
    last_print_ = now;
    print(frames_done, now);
  }

  // The final count, if a progress line was shown at all.
  void finish(std::int64_t frames_done) {
    if (!printed_) return;
    print(frames_done, Clock::now());
    std::fprintf(stderr, "\n");
  }

 private:
  void print(std::int64_t frames_done, Clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - start_).count();
    std::fprintf(stderr, "\rvideo: frame %lld", static_cast<long long>(frames_done));
    if (total_) std::fprintf(stderr, "/%lld", static_cast<long long>(*total_));
    std::fprintf(stderr, ", %.1f frames/s   ", seconds > 0 ? static_cast<double>(frames_done) / seconds : 0.0);
    printed_ = true;
  }

  bool enabled_;
  std::optional<std::int64_t> total_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_print_{};
  bool printed_ = false;
};

// One frame's line: {"frame", "timestamp_us"} then the detect line's fields. Draws onto frame.bgr.
Json track_frame(stream::FramePipeline& pipeline, stream::StreamState& state, SourceFrame& frame, std::int64_t index,
                 bool annotate) {
  const Json front = {{"frame", index}, {"timestamp_us", frame.timestamp_us}};
  if (!frame.error.empty()) return joined(front, error_json(frame.path, frame.error));
  stream::FrameResult result = pipeline.run(frame.rgb, frame.timestamp_us, state);
  // The decoder's time is this frame's decode stage; the pipeline saw an already decoded image.
  result.timing.decode_ms = frame.read_ms;
  result.timing.total_ms += frame.read_ms;
  if (!result.ok()) return joined(front, error_json(frame.path, result.error));
  if (annotate) {
    draw_result(frame.bgr, result.pose ? &*result.pose : nullptr, result.hands);
    for (const stream::PersonResult& person : result.people) draw_result(frame.bgr, &person.pose, person.hands);
  }
  return joined(front, result_json(result, frame.path));
}

void run_video(const VideoOptions& options) {
  use_one_opencv_thread();
  stream::StreamConfig config = stream_config(options.models);  // VIDEO mode, smoothing on: the defaults.
  options.people.apply(config);
  auto library = std::make_shared<stream::ModelLibrary>(resolve_models_dir(options.models_dir), options.precision);
  stream::FramePipeline pipeline(library);
  pipeline.prewarm(config);
  const std::unique_ptr<FrameSource> source = open_frame_source(options.input, options.fps);

  std::ofstream jsonl_file;
  if (!options.jsonl.empty()) {
    jsonl_file.open(options.jsonl);
    if (!jsonl_file) throw std::runtime_error("video: cannot write --jsonl " + options.jsonl);
  }
  std::ostream& out = options.jsonl.empty() ? std::cout : jsonl_file;
  std::optional<AnnotatedVideo> annotated;
  if (!options.annotate.empty()) annotated.emplace(options.annotate, source->fps());

  stream::StreamState state{.config = config};
  Progress progress(source->frame_count());
  std::int64_t frames = 0;
  std::int64_t failures = 0;
  for (SourceFrame frame; source->next(frame); ++frames) {
    const Json line = track_frame(pipeline, state, frame, frames, annotated.has_value());
    if (line.contains("error")) ++failures;
    out << line.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    if (annotated && frame.bgr.empty()) {
      annotated->write_blank();
    } else if (annotated) {
      annotated->write(frame.bgr);
    }
    progress.update(frames + 1);
  }
  progress.finish(frames);
  out.flush();
  if (annotated) annotated->close();
  if (!out) throw std::runtime_error("video: writing the JSON lines failed");
  if (frames == 0) throw std::runtime_error("video: " + options.input + ": no frame could be read");
  if (failures > 0) {
    throw std::runtime_error("video: " + std::to_string(failures) + " of " + std::to_string(frames) +
                             " frames failed (see their \"error\" lines)");
  }
}

}  // namespace

void add_video(CLI::App& app) {
  auto options = std::make_shared<VideoOptions>();
  CLI::App& command = *app.add_subcommand(
      "video", "Track pose and hands through a video file or a folder of frames (VIDEO mode), one JSON line per frame");
  command.add_option("input", options->input, "Video file (OpenCV/FFmpeg) or folder of .jpg/.png frames (sorted)")
      ->required()
      ->type_name("INPUT");
  command.add_option("--jsonl", options->jsonl, "Write the JSON lines to this file instead of stdout")
      ->type_name("OUT");
  command.add_option("--annotate", options->annotate, "Write a video with skeletons and hands drawn (.mp4 or .avi)")
      ->type_name("OUT.mp4");
  add_model_flags(command, options->models);
  add_people_flags(command, options->people, /*interval=*/true);
  command.add_option("--fps", options->fps, "Frame rate of a folder of frames (timestamps i * 1000 / fps ms)")
      ->capture_default_str()
      ->check(CLI::Range(0.001, 1000.0));
  add_models_flag(command, options->models_dir);
  add_precision_flag(command, options->precision);
  command.callback([options] { run_video(*options); });
}

}  // namespace posestream::app
