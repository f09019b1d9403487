// What detect, video and bench pipeline share: the model-variant flags and reading an input file.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "stream/frame_pipeline.h"

namespace posestream::app {

// Input files larger than this are refused before reading: the decoder's pixel limit (vision/decode.h)
// bounds what decoding allocates, this bounds what reading a mistaken argument (a disk image) would.
inline constexpr std::uintmax_t kMaxInputFileBytes = std::uintmax_t{256} << 20;

struct ModelFlags {
  std::string pose = "full";   // lite | full | heavy | off
  std::string hands = "full";  // lite | full | off
};

// Adds --pose and --hands (checked against the names above) to `command`, storing into `flags`.
void add_model_flags(CLI::App& command, ModelFlags& flags);

// Several people per stream (issue 16): stream::StreamConfig's num_poses and detector_interval_ms.
struct PeopleFlags {
  int num_poses = 1;
  double detector_interval_ms = stream::StreamConfig{}.detector_interval_ms;

  void apply(stream::StreamConfig& config) const {
    config.num_poses = num_poses;
    config.detector_interval_ms = detector_interval_ms;
  }
};

// Adds --num-poses ([1, pose::kMaxNumPoses]) and, with `interval` (VIDEO mode only: IMAGE mode runs
// the detector on every image), --detector-interval-ms to `command`, storing into `flags`.
void add_people_flags(CLI::App& command, PeopleFlags& flags, bool interval);

// A stream config with the flags' models and every other setting at its default.
stream::StreamConfig stream_config(const ModelFlags& flags);

// The whole file. Throws std::runtime_error naming the path and why ("not a regular file", the size
// above kMaxInputFileBytes, a read error).
std::vector<std::uint8_t> read_input_file(const std::filesystem::path& path);

// OpenCV's own thread pool would compete with the pipeline's runtimes (which run on the calling
// thread) for the same cores; the commands call this first.
void use_one_opencv_thread();

}  // namespace posestream::app
