// MessageRate: the token bucket behind max_messages_per_second, one per WebSocket session.
#pragma once

#include <chrono>

namespace posestream::server {

// How long a session should stop reading after each client message, so that its client sends at most
// `per_second` messages a second on average, with bursts of up to `burst` messages (a camera's jitter,
// a client that catches up after a stall). Pausing the reads, not dropping messages, is the point: the
// kernel's socket buffers fill and the client's own sends block (TCP backpressure), so a flooding client
// costs the server no more reading, parsing and answering than one at the limit, and every frame it
// manages to send still gets its one answer. A plain value; not thread-safe (the session's strand owns it).
class MessageRate {
 public:
  using Clock = std::chrono::steady_clock;

  // per_second 0: no limit. burst >= 1 (a smaller one is taken as 1).
  MessageRate(double per_second, double burst, Clock::time_point now);

  // Counts one message received at `now` and returns how long to wait before reading the next one:
  // zero while the bucket has a token, else until it will have one.
  Clock::duration pause_after_message(Clock::time_point now);

 private:
  double per_second_;
  double burst_;
  double tokens_;  // Below 0 by the fraction of a message that must still accrue.
  Clock::time_point refilled_at_;
};

}  // namespace posestream::server
