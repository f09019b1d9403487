// The clock FramePipeline times its stages with (frame_pipeline.cpp, frame_pipeline_people.cpp).
#pragma once

#include <chrono>

namespace posestream::stream {

using SteadyClock = std::chrono::steady_clock;

inline double milliseconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
}

}  // namespace posestream::stream
