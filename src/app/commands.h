// The posestream CLI's subcommands: each file adds its own flags and action to the parser it is given.
#pragma once

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>

namespace posestream::app {

// `bench models`: load, runtime creation and invoke times of every model (bench_models.cpp).
void add_bench_models(CLI::App& bench);

// `bench pipeline`: per-stage medians of one frame in tracking and static modes (bench_pipeline.cpp).
void add_bench_pipeline(CLI::App& bench);

// `bench people`: tracking 1, 2 and 4 people against one person's landmark time (bench_people.cpp).
void add_bench_people(CLI::App& bench);

// `detect`: IMAGE-mode pose and hands per image, one JSON line each (detect_command.cpp).
void add_detect(CLI::App& app);

// `video`: VIDEO-mode tracking through a video file or folder of frames (video_command.cpp).
void add_video(CLI::App& app);

// `serve`: the HTTP + WebSocket server (serve_command.cpp).
void add_serve(CLI::App& app);

// `load`: simulated cameras against a server, with latency and answer checks (load_command.cpp).
void add_load(CLI::App& app);

// The models directory: the --models flag if given, else $POSESTREAM_MODELS if set, else ./models.
// Throws std::runtime_error naming all three places and what was found there when the chosen one is
// not a directory (models_dir.cpp).
std::filesystem::path resolve_models_dir(const std::string& models_flag);

// Adds the shared --models flag to `command`, storing into `destination`.
void add_models_flag(CLI::App& command, std::string& destination);

}  // namespace posestream::app
