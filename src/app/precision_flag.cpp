// The --precision flag: f32 or int8 (engine::Precision).
#include "app/precision_flag.h"

namespace posestream::app {

const std::map<std::string, engine::Precision>& precision_names() {
  static const std::map<std::string, engine::Precision> names = {{"f32", engine::Precision::kFloat32},
                                                                 {"int8", engine::Precision::kInt8}};
  return names;
}

void add_precision_flag(CLI::App& command, engine::Precision& precision) {
  command
      .add_option("--precision", precision,
                  "Model arithmetic: f32, or int8 (dynamic-range int8 convolutions for each model that keeps "
                  "MediaPipe's accuracy in int8; the others stay f32)")
      ->transform(CLI::CheckedTransformer(precision_names()))
      ->capture_default_str();
}

}  // namespace posestream::app
