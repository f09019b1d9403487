// `posestream detect`: static-image pose and hands on each image given, one JSON line per image.
#include <chrono>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/pipeline_flags.h"
#include "app/precision_flag.h"
#include "app/result_json.h"
#include "stream/frame_pipeline.h"
#include "stream/model_library.h"
#include "vision/decode.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

struct DetectOptions {
  ModelFlags models;
  bool segmentation = false;
  bool hands_from_pose = false;
  PeopleFlags people;
  std::string models_dir;
  engine::Precision precision = engine::Precision::kFloat32;
  std::vector<std::string> images;
};

// IMAGE mode, as POST /v1/detect runs it: every image unrelated, detectors every time, no smoothing.
stream::StreamConfig detect_config(const DetectOptions& options) {
  stream::StreamConfig config = stream_config(options.models);
  config.segmentation = options.segmentation;
  config.static_image_mode = true;
  config.smoothing = false;
  // Off by default: MediaPipe's HandLandmarker, which ignores the pose (the palm detector finds hands).
  config.hands_from_pose = options.hands_from_pose;
  options.people.apply(config);
  return config;
}

// One image's line. Reading and decoding failures are that image's error, never the run's.
Json detect_one(stream::FramePipeline& pipeline, const stream::StreamConfig& config, const std::string& path) {
  const Clock::time_point start = Clock::now();
  vision::DecodeResult decoded;
  try {
    decoded = vision::decode_image(read_input_file(path), pipeline.options().decode_limits);
  } catch (const std::exception& error) {
    return error_json(path, std::string("read: ") + error.what());
  }
  if (!decoded.ok()) return error_json(path, "decode: " + decoded.error);
  const double decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  stream::StreamState state{.config = config};
  stream::FrameResult result = pipeline.run(decoded.image, 0, state);
  if (!result.ok()) return error_json(path, result.error);
  result.timing.decode_ms = decode_ms;
  result.timing.total_ms += decode_ms;
  Json line = result_json(result, path);
  if (!decoded.warning.empty()) line["warning"] = "decode: " + decoded.warning;
  return line;
}

void run_detect(const DetectOptions& options) {
  use_one_opencv_thread();
  const stream::StreamConfig config = detect_config(options);
  auto library = std::make_shared<stream::ModelLibrary>(resolve_models_dir(options.models_dir), options.precision);
  stream::FramePipeline pipeline(library);
  // A missing or bad model file fails the command once, up front, instead of every image.
  pipeline.prewarm(config);
  size_t failures = 0;
  for (const std::string& path : options.images) {
    const Json line = detect_one(pipeline, config, path);
    if (line.contains("error")) ++failures;
    std::cout << line.dump(-1, ' ', false, Json::error_handler_t::replace) << std::endl;  // Flushed per image.
  }
  if (failures > 0) {
    throw std::runtime_error("detect: " + std::to_string(failures) + " of " + std::to_string(options.images.size()) +
                             " images failed (see their \"error\" lines)");
  }
}

}  // namespace

void add_detect(CLI::App& app) {
  auto options = std::make_shared<DetectOptions>();
  CLI::App& command =
      *app.add_subcommand("detect", "Pose and hands on still images (IMAGE mode), one JSON line per image on stdout");
  add_model_flags(command, options->models);
  command.add_flag("--segmentation", options->segmentation,
                   "Add the pose's segmentation mask (ROI crop, 256x256 bytes in base64) to each line");
  command.add_flag("--hands-from-pose", options->hands_from_pose,
                   "Place hands at the pose's wrists as server streams do (default: the palm detector, as MediaPipe)");
  add_people_flags(command, options->people, /*interval=*/false);
  add_models_flag(command, options->models_dir);
  add_precision_flag(command, options->precision);
  command.add_option("images", options->images, "JPEG or PNG files")->required()->type_name("IMAGE");
  command.callback([options] { run_detect(*options); });
}

}  // namespace posestream::app
