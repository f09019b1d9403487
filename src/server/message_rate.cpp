// MessageRate: token bucket arithmetic for the per-session message rate limit.
#include "server/message_rate.h"

#include <algorithm>

namespace posestream::server {

MessageRate::MessageRate(double per_second, double burst, Clock::time_point now)
    : per_second_(std::max(per_second, 0.0)),
      burst_(std::max(burst, 1.0)),
      tokens_(burst_),
      refilled_at_(now) {}

MessageRate::Clock::duration MessageRate::pause_after_message(Clock::time_point now) {
  if (per_second_ == 0.0) return Clock::duration::zero();
  if (now > refilled_at_) {
    const double seconds = std::chrono::duration<double>(now - refilled_at_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * per_second_);
    refilled_at_ = now;
  }
  tokens_ -= 1.0;
  if (tokens_ >= 0.0) return Clock::duration::zero();
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(-tokens_ / per_second_));
}

}  // namespace posestream::server
