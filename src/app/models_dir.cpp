// Where the CLI finds model files: --models, then $POSESTREAM_MODELS, then ./models.
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "app/commands.h"

namespace posestream::app {
namespace {

// "--models = 'x' (not a directory, used)", "$POSESTREAM_MODELS (not set)", "./models (a directory)".
std::string describe(const std::string& place, const std::string& value, bool chosen) {
  if (value.empty()) return place + " (not set)";
  const std::string status = std::filesystem::is_directory(value) ? "a directory" : "not a directory";
  const std::string shown = value == place ? place : place + " = '" + value + "'";
  return shown + " (" + status + (chosen ? ", used)" : ")");
}

}  // namespace

std::filesystem::path resolve_models_dir(const std::string& models_flag) {
  const char* environment = std::getenv("POSESTREAM_MODELS");
  const std::string environment_value = environment != nullptr ? environment : "";
  const std::string fallback = "./models";
  // An explicit choice that is wrong is an error, not a reason to look elsewhere.
  const std::string& chosen = !models_flag.empty()         ? models_flag
                              : !environment_value.empty() ? environment_value
                                                           : fallback;
  if (std::filesystem::is_directory(chosen)) return chosen;
  throw std::runtime_error("no models directory; looked at " +
                           describe("--models", models_flag, &chosen == &models_flag) + ", " +
                           describe("$POSESTREAM_MODELS", environment_value, &chosen == &environment_value) + ", " +
                           describe(fallback, fallback, &chosen == &fallback) +
                           ". Fetch the models with scripts/fetch-models or pass --models DIR.");
}

void add_models_flag(CLI::App& command, std::string& destination) {
  command
      .add_option("--models", destination, "Directory of the .tflite files (else $POSESTREAM_MODELS, else ./models)")
      ->type_name("DIR");
}

}  // namespace posestream::app
