// The --precision flag (f32 | int8) of serve, detect, video and bench: which arithmetic the models run in.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <string>

#include "engine/engine.h"

namespace posestream::app {

// "f32" -> kFloat32, "int8" -> kInt8, for CLI11's CheckedTransformer.
const std::map<std::string, engine::Precision>& precision_names();

// Adds --precision to `command`, storing into `precision`. In int8 mode each model whose int8 outputs
// keep MediaPipe's accuracy runs int8; the others stay float32 (stream::ModelLibrary decides).
void add_precision_flag(CLI::App& command, engine::Precision& precision);

}  // namespace posestream::app
