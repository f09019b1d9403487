// frame_input(): a parsed client frame turned into the stream layer's input, for /ws and Socket.IO alike.
#pragma once

#include <chrono>
#include <utility>

#include "server/limits.h"
#include "server/protocol.h"
#include "stream/session.h"

namespace posestream::server {

// Numbers `frame` if it has no sequence, stamps frames without "timestamp" with their arrival time since
// the connection opened (which increases along arrival order), and checks the image against the limits.
// A frame with a problem keeps no bytes: the session answers it `invalid` in its turn, without a worker.
inline stream::FrameInput frame_input(FrameMessage&& frame, FrameNumbering& numbering, const Limits& limits,
                                      std::chrono::steady_clock::time_point now,
                                      std::chrono::steady_clock::time_point opened_at) {
  stream::FrameInput input;
  input.sequence = numbering.number(frame);
  input.received_at = now;
  input.timestamp_us = frame.timestamp_us.value_or(
      std::chrono::duration_cast<std::chrono::microseconds>(now - opened_at).count());
  input.problem = frame.problem.empty() ? image_problem(frame.image, limits) : std::move(frame.problem);
  if (input.problem.empty()) input.bytes = std::move(frame.image);
  return input;
}

}  // namespace posestream::server
