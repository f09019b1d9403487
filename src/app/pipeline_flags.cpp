// The model-variant flags shared by detect, video and bench pipeline, and reading an input file whole.
#include "app/pipeline_flags.h"

#include <opencv2/core.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace posestream::app {

void add_model_flags(CLI::App& command, ModelFlags& flags) {
  command.add_option("--pose", flags.pose, "Pose landmark model")
      ->capture_default_str()
      ->check(CLI::IsMember({"lite", "full", "heavy", "off"}));
  command.add_option("--hands", flags.hands, "Hand landmark and palm models")
      ->capture_default_str()
      ->check(CLI::IsMember({"lite", "full", "off"}));
}

void add_people_flags(CLI::App& command, PeopleFlags& flags, bool interval) {
  command.add_option("--num-poses", flags.num_poses,
                     "Up to this many people per frame (1: the single-person output; more: a \"people\" list, "
                     "each person with their own hands)")
      ->capture_default_str()
      ->check(CLI::Range(1, pose::kMaxNumPoses));
  if (!interval) return;
  command.add_option("--detector-interval-ms", flags.detector_interval_ms,
                     "With --num-poses > 1: the pose detector looks for newcomers at most once per this many ms of "
                     "stream time while fewer people are tracked (0: every frame, as MediaPipe)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, stream::kMaxDetectorIntervalMs));
}

stream::StreamConfig stream_config(const ModelFlags& flags) {
  stream::StreamConfig config;
  config.pose = flags.pose == "off" ? std::nullopt : pose::parse_pose_model(flags.pose);
  config.hands = flags.hands == "off" ? std::nullopt : stream::parse_hand_model(flags.hands);
  // The flags were checked against the names at parse time; a mismatch here is a bug in this file.
  if (flags.pose != "off" && !config.pose) throw std::logic_error("--pose '" + flags.pose + "' has no model");
  if (flags.hands != "off" && !config.hands) throw std::logic_error("--hands '" + flags.hands + "' has no model");
  return config;
}

std::vector<std::uint8_t> read_input_file(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw std::runtime_error(path.string() + ": not a regular file" + (error ? " (" + error.message() + ")" : ""));
  }
  const std::uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw std::runtime_error(path.string() + ": cannot read its size (" + error.message() + ")");
  if (size > kMaxInputFileBytes) {
    throw std::runtime_error(path.string() + ": " + std::to_string(size) + " bytes exceeds the limit of " +
                             std::to_string(kMaxInputFileBytes));
  }
  std::ifstream file(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  if (!file || !file.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()))) {
    throw std::runtime_error(path.string() + ": cannot read (" + std::strerror(errno) + ")");
  }
  return bytes;
}

void use_one_opencv_thread() { cv::setNumThreads(1); }

}  // namespace posestream::app
