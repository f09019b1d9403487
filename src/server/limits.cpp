// Validation of the server's limits, so that a bad flag fails at start-up with the flag's name.
#include "server/limits.h"

#include <string>

#include "pose/people.h"
#include "vision/decode.h"

namespace posestream::server {
namespace {

template <typename Value>
std::string describe(const char* name, Value value, const char* range) {
  return std::string("limit ") + name + " = " + std::to_string(value) + " is outside " + range;
}

}  // namespace

std::optional<std::string> validate(const Limits& limits) {
  // Below a few kilobytes not even a tiny JPEG fits; above 1 GiB one message could exhaust memory.
  if (limits.max_message_bytes < 1024 || limits.max_message_bytes > (std::size_t{1} << 30)) {
    return describe("max_message_bytes", limits.max_message_bytes, "[1024, 2^30]");
  }
  if (limits.max_image_pixels < 1 || limits.max_image_pixels > std::int64_t{16384} * 16384) {
    return describe("max_image_pixels", limits.max_image_pixels, "[1, 16384^2]");
  }
  if (limits.max_sessions < 1 || limits.max_sessions > 100'000) {
    return describe("max_sessions", limits.max_sessions, "[1, 100000]");
  }
  if (limits.max_detect_requests < 1 || limits.max_detect_requests > 1024) {
    return describe("max_detect_requests", limits.max_detect_requests, "[1, 1024]");
  }
  // The reorder buffer's own range (stream::ReorderOptions).
  if (limits.reorder_capacity < 1 || limits.reorder_capacity > 256) {
    return describe("reorder_capacity", limits.reorder_capacity, "[1, 256]");
  }
  if (limits.gap_timeout.count() < 0 || limits.gap_timeout.count() > 10'000) {
    return describe("gap_timeout_ms", limits.gap_timeout.count(), "[0, 10000]");
  }
  if (limits.idle_timeout.count() < 100 || limits.idle_timeout.count() > 86'400'000) {
    return describe("idle_timeout_ms", limits.idle_timeout.count(), "[100, 86400000]");
  }
  if (limits.max_queued_frames < 1 || limits.max_queued_frames > 1024) {
    return describe("max_queued_frames", limits.max_queued_frames, "[1, 1024]");
  }
  // At least room for one result (a pose and two hands is ~5 KB) and a few dropped answers.
  if (limits.max_write_queue_bytes < 16 * 1024 || limits.max_write_queue_bytes > (std::size_t{1} << 30)) {
    return describe("max_write_queue_bytes", limits.max_write_queue_bytes, "[16384, 2^30]");
  }
  if (limits.max_messages_per_second > 100'000) {
    return describe("max_messages_per_second", limits.max_messages_per_second, "[0, 100000]");
  }
  if (limits.message_burst < 1 || limits.message_burst > 100'000) {
    return describe("message_burst", limits.message_burst, "[1, 100000]");
  }
  if (limits.handshake_timeout.count() < 100 || limits.handshake_timeout.count() > 600'000) {
    return describe("handshake_timeout_ms", limits.handshake_timeout.count(), "[100, 600000]");
  }
  if (limits.max_num_poses < 1 || limits.max_num_poses > static_cast<std::size_t>(pose::kMaxNumPoses)) {
    return describe("max_num_poses", limits.max_num_poses, ("[1, " + std::to_string(pose::kMaxNumPoses) + "]").c_str());
  }
  return std::nullopt;
}

vision::DecodeLimits decode_limits(const Limits& limits) {
  vision::DecodeLimits decode;
  decode.max_pixels = limits.max_image_pixels;
  return decode;
}

std::string image_problem(const std::vector<std::uint8_t>& image, const Limits& limits) {
  const vision::HeaderResult header = vision::read_image_header(image);
  const std::string problem = header.ok() ? vision::check_limits(header.header, decode_limits(limits)) : header.error;
  return problem.empty() ? problem : "image: " + problem;
}

}  // namespace posestream::server
