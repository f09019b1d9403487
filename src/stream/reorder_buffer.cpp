// SequenceLedger and option checks: the non-template half of the ReorderBuffer.
#include "stream/reorder_buffer.h"

#include <stdexcept>
#include <string>

namespace posestream::stream {
namespace {

// Hard ceilings on the settings, so that memory and work per call stay small whatever the config says.
constexpr std::size_t kMaxReorderCapacity = 256;
constexpr std::chrono::microseconds kMaxGapTimeout = std::chrono::seconds{10};
constexpr std::uint64_t kMaxLostWindow = 65536;
constexpr std::uint64_t kMaxLostBurst = 65536;

}  // namespace

std::optional<std::string> validate(const ReorderOptions& options) {
  if (options.reorder_capacity < 1 || options.reorder_capacity > kMaxReorderCapacity) {
    return "reorder_buffer: reorder_capacity " + std::to_string(options.reorder_capacity) +
           " is outside [1, " + std::to_string(kMaxReorderCapacity) + "]";
  }
  if (options.gap_timeout.count() < 0 || options.gap_timeout > kMaxGapTimeout) {
    return "reorder_buffer: gap_timeout " + std::to_string(options.gap_timeout.count()) +
           " us is outside [0, " + std::to_string(kMaxGapTimeout.count()) + "] us";
  }
  if (options.lost_window > kMaxLostWindow) {
    return "reorder_buffer: lost_window " + std::to_string(options.lost_window) + " is outside [0, " +
           std::to_string(kMaxLostWindow) + "]";
  }
  if (options.max_lost_burst < 1 || options.max_lost_burst > kMaxLostBurst) {
    return "reorder_buffer: max_lost_burst " + std::to_string(options.max_lost_burst) + " is outside [1, " +
           std::to_string(kMaxLostBurst) + "]";
  }
  return std::nullopt;
}

void throw_if_invalid(const ReorderOptions& options) {
  if (auto message = validate(options)) throw std::invalid_argument(*message);
}

const char* to_string(DropReason reason) {
  switch (reason) {
    case DropReason::late:
      return "late";
    case DropReason::duplicate:
      return "duplicate";
    case DropReason::lost:
      return "lost";
  }
  return "unknown";
}

SequenceLedger::Verdict SequenceLedger::classify_passed(std::uint64_t sequence) {
  // Behind us by more than the window: we no longer know whether it was released or lost.
  if (last_passed() - sequence >= lost_window_) return Verdict::late;
  // Find the remembered lost range holding `sequence`, if any (ranges are few and ascending).
  for (auto range = recently_lost_.begin(); range != recently_lost_.end(); ++range) {
    if (range->first > sequence) break;
    if (!range->contains(sequence)) continue;
    // It had its answer (lost); forget it so that any further copy is answered duplicate.
    if (range->first == range->last) {
      recently_lost_.erase(range);
    } else if (sequence == range->first) {
      ++range->first;
    } else if (sequence == range->last) {
      --range->last;
    } else {
      const SequenceRange upper{sequence + 1, range->last};
      range->last = sequence - 1;
      recently_lost_.insert(range + 1, upper);
    }
    return Verdict::discard_silently;
  }
  // Within the window and not lost, so it was released: this is an extra copy.
  return Verdict::duplicate;
}

void SequenceLedger::pass_released() {
  if (next_expected_ == UINT64_MAX) {
    exhausted_ = true;
  } else {
    ++next_expected_;
  }
  forget_outside_window();
}

SequenceRange SequenceLedger::pass_lost_until(std::uint64_t target) {
  const SequenceRange skipped{next_expected_, target - 1};
  recently_lost_.push_back(skipped);
  next_expected_ = target;
  forget_outside_window();
  return skipped;
}

void SequenceLedger::forget_outside_window() {
  // A range reaching into the window stays whole: classify_passed tests the window first anyway.
  const std::uint64_t newest = last_passed();
  while (!recently_lost_.empty() && newest - recently_lost_.front().last >= lost_window_) {
    recently_lost_.pop_front();
  }
}

}  // namespace posestream::stream
