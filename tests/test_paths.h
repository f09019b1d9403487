// Where tests find models, MediaPipe's golden outputs and test data (set by CTest's environment).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace posestream::testing {

inline std::filesystem::path env_path(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return std::filesystem::path(value != nullptr && *value != '\0' ? value : fallback);
}

#ifndef POSESTREAM_SOURCE_DIR
#define POSESTREAM_SOURCE_DIR "."
#endif

// Each may be overridden by its environment variable; otherwise it is found from the source tree.
inline std::filesystem::path models_dir() { return env_path("POSESTREAM_MODELS", POSESTREAM_SOURCE_DIR "/models"); }
inline std::filesystem::path shared_dir() { return env_path("POSESTREAM_SHARED", POSESTREAM_SOURCE_DIR "/../shared"); }
inline std::filesystem::path test_data_dir() {
  return env_path("POSESTREAM_TEST_DATA", POSESTREAM_SOURCE_DIR "/tests/data");
}

}  // namespace posestream::testing
