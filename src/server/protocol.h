// The WebSocket wire protocol at the edge: client messages parsed into native structs, answers encoded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hands/hands.h"
#include "pose/pose.h"
#include "server/limits.h"
#include "stream/session.h"

namespace posestream::server {

// docs/PROTOCOL.md is the reference; this header is its code. Parsing never throws and never trusts a
// length or a number from the client: anything malformed becomes a FrameMessage with a `problem`
// (when the frame's sequence is known) or a BadMessage (when it is not).

// Binary frame: "PSF1", sequence (u64 LE), capture timestamp in microseconds (u64 LE), image bytes.
inline constexpr std::size_t kBinaryHeaderBytes = 20;
inline constexpr std::string_view kBinaryMagic = "PSF1";

// One camera frame. The image bytes are not inspected here (the pipeline sniffs JPEG/PNG and checks the
// size); an empty image is a problem.
struct FrameMessage {
  std::optional<std::uint64_t> sequence;     // Empty: a bare base64 text frame; see FrameNumbering.
  std::optional<std::int64_t> timestamp_us;  // Empty: a text frame without "timestamp".
  std::vector<std::uint8_t> image;           // The encoded image, moved out of the message.
  // Non-empty when the frame has a sequence but cannot be used (bad base64, no image, a timestamp that
  // is not a finite number >= 0): it is answered `dropped` `invalid`, and this says why (for the log).
  std::string problem;
};

enum class PoseSetting { off, lite, full, heavy };
enum class HandsSetting { off, lite, full };
using stream::DropPolicy;  // latest | all; stream::to_string gives the protocol's spelling.

const char* to_string(PoseSetting setting);   // "off", "lite", "full", "heavy"
const char* to_string(HandsSetting setting);  // "off", "lite", "full"

// {"type":"config", ...}: each field present changes that setting; absent ones stay as they are.
struct ConfigMessage {
  std::optional<PoseSetting> pose;
  std::optional<HandsSetting> hands;
  std::optional<bool> smoothing;
  std::optional<bool> hands_from_pose;
  std::optional<DropPolicy> drop_policy;
  // Range-checked where the stream config is (stream::validate) and against Limits::max_num_poses
  // (check_settings): the parser only requires an integer / a number.
  std::optional<int> num_poses;
  std::optional<double> detector_interval_ms;
};

// A stream's settings, as the hello reports them and a config changes them.
struct StreamSettings {
  PoseSetting pose = PoseSetting::full;
  HandsSetting hands = HandsSetting::full;
  bool smoothing = true;
  bool hands_from_pose = true;  // stream::StreamConfig::hands_from_pose.
  DropPolicy drop_policy = DropPolicy::latest;
  int num_poses = 1;            // stream::StreamConfig::num_poses; `serve --num-poses` sets a stream's start.
  double detector_interval_ms = stream::StreamConfig{}.detector_interval_ms;

  void apply(const ConfigMessage& config);
  // The stream layer's config for these settings (protocol defaults = stream defaults).
  stream::StreamConfig stream_config() const;
  friend bool operator==(const StreamSettings&, const StreamSettings&) = default;
};

// What the server's limits refuse in settings a client asked for (num_poses above
// Limits::max_num_poses), as a message naming the field, the value and the limit; empty if allowed. The
// stream config's own ranges are stream::validate's.
std::optional<std::string> check_settings(const StreamSettings& settings, const Limits& limits);

// {"type":"reset"}: the stream starts over (sequences from 0, tracking forgotten).
struct ResetMessage {};

// A message that is neither a usable control nor a frame with a known sequence: answered `error`.
struct BadMessage {
  std::string code;     // "bad_magic", "bad_json", "bad_config", "unknown_type", "bad_sequence", ...
  std::string message;  // Names the field and the bad value.
};

using ClientMessage = std::variant<FrameMessage, ConfigMessage, ResetMessage, BadMessage>;

// A binary WebSocket message. Does not retain `bytes`.
ClientMessage parse_binary_message(std::span<const std::uint8_t> bytes);
// A text WebSocket message: a JSON object (frame or control), a JSON string, or unquoted text, the last
// two holding a data URL or bare base64. Does not retain `text`.
ClientMessage parse_text_message(std::string_view text);

// The same frame and config messages as JSON values already parsed (Socket.IO event arguments: the
// binding in server/socketio_stream.cpp). A frame's "image" may also be a JSON binary value (an
// attachment): its bytes are the image. Do not retain `object`.
ClientMessage parse_frame_object(const nlohmann::json& object);
ClientMessage parse_config_object(const nlohmann::json& object);

// Numbers text frames that carry no sequence: each one is one more than the highest sequence the
// connection has seen (0 at first and after a reset).
class FrameNumbering {
 public:
  // Fills in `frame.sequence` if empty and records it. Returns the frame's sequence.
  std::uint64_t number(FrameMessage& frame);
  void reset() { highest_.reset(); }

 private:
  std::optional<std::uint64_t> highest_;
};

// Decodes standard base64 (RFC 4648 alphabet, '=' padding optional, no whitespace). Empty on any other
// character or an impossible length.
std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text);

// ---- Answers (server -> client), each one JSON text message. ----

// Per-stage times of one frame, milliseconds.
struct StageTimes {
  double queue_ms = 0;   // Arrival (or release by the reorder buffer) to a worker picking it up.
  double decode_ms = 0;
  double pose_ms = 0;
  double hands_ms = 0;
  double total_ms = 0;   // Arrival at the server to the answer being handed to the connection.
};

// What a result answer says. Does not own what it points to; it only needs to live while encoding.
struct ResultView {
  std::uint64_t sequence = 0;
  std::int64_t timestamp_us = 0;
  int image_width = 0;
  int image_height = 0;
  const pose::Pose* pose = nullptr;  // Null: no pose (found, or asked for), or several people.
  std::span<const hands::Hand> hands;  // Hands of nobody.
  // num_poses > 1: "people" (each person's id, pose and hands), "pose" null, and "runs" are written.
  bool multi_person = false;
  std::span<const stream::PersonResult> people;
  // Model runs of the frame (stream::FrameTiming), written as "runs" with multi_person.
  int pose_detector_runs = 0;
  int pose_landmark_runs = 0;
  int palm_detector_runs = 0;
  int hand_landmark_runs = 0;
  StageTimes times;
  bool stream_fields = true;  // "type", "sequence", "timestamp_us" (WebSocket answers); off for one image.
  bool angles = false;        // pose.angles: pose::JointAngles in degrees, null where undefined.
};

// A stream frame's result as the result answer: timing_ms.queue is the wait for a missing sequence plus
// the wait for a worker, timing_ms.total is arrival at the server to result ready (waits included). Also
// what POST /v1/detect answers, and what a CLI printing results should print to match it.
std::string encode_frame_result(std::uint64_t sequence, std::int64_t timestamp_us, const stream::FrameResult& result);

// One image's result, as POST /v1/detect answers it and `posestream detect` prints it: the result answer
// without its stream fields, with pose.angles.
std::string encode_image_result(const stream::FrameResult& result);

std::string encode_hello(std::string_view session_id, const Limits& limits, const StreamSettings& settings);
std::string encode_result(const ResultView& result);
// `last_sequence` > `sequence`: one answer for the whole inclusive range (long `lost` skips only).
std::string encode_dropped(std::uint64_t sequence, std::uint64_t last_sequence, std::string_view reason);
std::string encode_error(std::string_view code, std::string_view message);

// `value` rounded to `digits` significant digits, so that JSON writes it short (0.123457, not
// 0.12345678359270096). NaN and infinities pass through (nlohmann-json writes them as null).
double round_significant(double value, int digits = 6);

}  // namespace posestream::server
