// The server's limits: every bound a client can run into, named, with its default and why.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vision/decode.h"

namespace posestream::server {

// Each limit is a `posestream serve` flag of the same name (underscores as dashes) and is sent to
// every WebSocket client in its hello. docs/PROTOCOL.md "Limits" says what happens at each one.
// Library defaults (Beast's 16 MB read_message_max, unlimited queues) are not limits: these are.
struct Limits {
  // Largest WebSocket message and largest HTTP request body (POST /v1/detect), in bytes. A 1920x1080
  // webcam JPEG is 0.2-0.5 MB, a 4K one 1-3 MB, and base64 text frames add a third. Over it, a
  // WebSocket message is read in pieces and dropped, never buffered whole, and answered: a binary PSF1
  // frame `dropped` `invalid` under its sequence, anything else `error` `message_too_big`; a message over
  // 16 times the limit closes the connection with 1009. HTTP answers 413.
  std::size_t max_message_bytes = std::size_t{8} << 20;
  // Largest image, width x height, checked from the image header before anything is decoded. 4K UHD.
  // Over it: the frame is answered `dropped` `invalid`.
  std::int64_t max_image_pixels = std::int64_t{3840} * 2160;
  // Open WebSocket sessions. Over it: the upgrade is refused with HTTP 503.
  std::size_t max_sessions = 64;
  // Concurrent POST /v1/detect requests (each holds a stream session while its image runs). Over it: 503.
  std::size_t max_detect_requests = 8;
  // Frames a stream holds while waiting for a missing sequence (stream::ReorderOptions). At it the
  // stream skips to its lowest held frame; the skipped numbers are answered `lost`.
  std::size_t reorder_capacity = 8;
  // Longest wait for a missing sequence, counted from the arrival of the first frame behind the gap.
  // Then the missing numbers are answered `lost`.
  std::chrono::milliseconds gap_timeout{50};
  // A WebSocket with no message from its client for this long is closed with 1001 and the reason
  // "idle timeout". Also bounds a half-open TCP connection (a client that vanished without a FIN).
  std::chrono::milliseconds idle_timeout{60'000};
  // Frames waiting for the stream's worker under drop policy `all`. Over it: `dropped` `overflow`.
  // (Policy `latest` holds at most one waiting frame; the older ones are answered `superseded`.)
  std::size_t max_queued_frames = 32;
  // Bytes of answers queued behind the one being written to a client that reads slowly. When an answer
  // would not fit, queued results (oldest first) are replaced by their `dropped` answers, which are
  // ~60 bytes; if the answers still do not fit, the client is not reading at all and the connection is
  // closed with 1008 "slow reader". See docs/PROTOCOL.md "Slow readers".
  std::size_t max_write_queue_bytes = std::size_t{1} << 20;
  // Messages a WebSocket client may send per second, on average (0: no limit), and how many it may send
  // at once beyond that (server::MessageRate). Over it the server stops reading that socket until the
  // average is back under the limit: the client's sends block (TCP backpressure) and nothing is dropped
  // for it, so a client that floods gets no more of the server's reading, parsing and answering than
  // one at the limit. A 60 FPS camera fits; a frame every 16.7 ms beyond the burst is all a stream
  // could use anyway, since no pipeline here runs faster than that.
  std::size_t max_messages_per_second = 60;
  std::size_t message_burst = 30;
  // Time a WebSocket upgrade or close handshake, or an HTTP request, may take before the socket is
  // closed. Also the time a close frame may wait behind a write that a slow reader never accepts.
  std::chrono::milliseconds handshake_timeout{10'000};
  // People a stream may ask for (config num_poses, issue 16). Each person is one pose landmark run per
  // frame plus their hands' runs, so a frame of N people costs about N times one person's; the drop
  // policies and queue bounds above hold whatever N is, the frame rate a stream gets falls with it. Over
  // it: the config is answered `error` `bad_config` and the stream keeps its settings. At most
  // pose::kMaxNumPoses.
  std::size_t max_num_poses = 4;
};

// Empty if every limit is usable, else a message naming the bad limit and its value.
std::optional<std::string> validate(const Limits& limits);

// The decoder's limits these imply: max_image_pixels (the decoder's own side limits stay).
vision::DecodeLimits decode_limits(const Limits& limits);

// What makes a frame's image unusable before decoding, from its header alone (microseconds, on the
// connection's strand): not JPEG or PNG, or over the decoder's limits. Empty if it may go to a worker.
// Shared by /ws and Socket.IO streams.
std::string image_problem(const std::vector<std::uint8_t>& image, const Limits& limits);

}  // namespace posestream::server
