// The pose-assisted mode's wrist backoff: doubling intervals between attempts at an empty wrist, capped.
#include "hands/wrist_retry.h"

#include <algorithm>

#include "vision/rects.h"

namespace posestream::hands {

size_t wrist_index(vision::HandSide side) { return side == vision::HandSide::left ? 0 : 1; }

HandState::WristRetry after_empty_attempt(HandState::WristRetry wrist, int64_t frame, int max_interval) {
  // The count stops at 32: 2^31 frames exceeds any int cap, and the count cannot overflow on a long stream.
  const int attempts = std::min(wrist.empty_attempts + 1, 32);
  const int64_t interval = std::min<int64_t>(int64_t{1} << (attempts - 1), std::max(max_interval, 1));
  wrist.empty_attempts = attempts;
  wrist.next_attempt = frame + interval;
  return wrist;
}

}  // namespace posestream::hands
