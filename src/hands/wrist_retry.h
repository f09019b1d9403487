// The pose-assisted mode's backoff at a wrist whose hand ROI held no hand (the rule is in hands.h).
#pragma once

#include <cstdint>

#include "hands/hand_association.h"
#include "hands/hands.h"

namespace posestream::hands {

// Index of HandState::wrists: 0 left, 1 right.
size_t wrist_index(vision::HandSide side);

// Whether the wrist's pose ROI may be tried for a new hand on `frame`.
inline bool wrist_due(const HandState::WristRetry& wrist, int64_t frame) { return frame >= wrist.next_attempt; }

// The wrist after an attempt on `frame` that found no new hand: with k consecutive such attempts, the next
// is min(2^(k-1), max_interval) frames later (k = 1: the next frame). max_interval >= 1.
HandState::WristRetry after_empty_attempt(HandState::WristRetry wrist, int64_t frame, int max_interval);

}  // namespace posestream::hands
