// Parsing client messages (binary PSF1 frames, JSON frames, bare base64 frames, controls) at the edge.
#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <limits>

#include "server/protocol.h"

namespace posestream::server {
namespace {

using nlohmann::json;

// Frames and controls are flat objects; anything nested deeper is not ours, and skipping it while
// parsing keeps a hostile "[[[[..." from allocating a node per bracket.
constexpr int kMaxJsonDepth = 2;
// Longest value quoted back in an error message.
constexpr std::size_t kQuoteBytes = 40;

std::string quote(const json& value) {
  std::string text = value.dump(-1, ' ', true, json::error_handler_t::replace);
  if (text.size() > kQuoteBytes) text = text.substr(0, kQuoteBytes) + "...";
  return text;
}

std::uint64_t read_u64_le(std::span<const std::uint8_t> bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8; ++i) value |= std::uint64_t{bytes[i]} << (8 * i);
  return value;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

// A data URL ("data:image/jpeg;base64,...") or bare base64 into image bytes, or a problem.
void decode_image_text(std::string_view text, FrameMessage& frame) {
  if (text.starts_with("data:")) {
    const std::size_t comma = text.find(',');
    if (comma == std::string_view::npos || !text.substr(0, comma).ends_with(";base64")) {
      frame.problem = "image data URL is not base64 (expected 'data:<type>;base64,')";
      return;
    }
    text.remove_prefix(comma + 1);
  }
  std::optional<std::vector<std::uint8_t>> bytes = decode_base64(text);
  if (!bytes) {
    frame.problem = "image is not valid base64 (" + std::to_string(text.size()) + " characters)";
  } else if (bytes->empty()) {
    frame.problem = "image is empty";
  } else {
    frame.image = std::move(*bytes);
  }
}

// "timestamp" in milliseconds (fractions allowed) into microseconds, or a problem.
void read_timestamp(const json& value, FrameMessage& frame) {
  constexpr double kMaxMilliseconds = static_cast<double>(std::numeric_limits<std::int64_t>::max() / 1000);
  const double milliseconds = value.is_number() ? value.get<double>() : -1.0;
  if (!value.is_number() || !std::isfinite(milliseconds) || milliseconds < 0 || milliseconds > kMaxMilliseconds) {
    frame.problem = "timestamp must be a number of milliseconds in [0, 9.2e15], got " + quote(value);
    return;
  }
  frame.timestamp_us = std::llround(milliseconds * 1000.0);
}

ClientMessage parse_json_frame(const json& object) {
  const auto sequence = object.find("sequence");
  const auto image = object.find("image");
  if (sequence == object.end() && image == object.end()) {
    return BadMessage{"bad_message", "a text message must be a frame (with \"image\") or a control (with \"type\")"};
  }
  FrameMessage frame;
  if (sequence != object.end()) {
    if (!sequence->is_number_unsigned()) {
      return BadMessage{"bad_sequence", "sequence must be an integer in [0, 2^64), got " + quote(*sequence)};
    }
    frame.sequence = sequence->get<std::uint64_t>();
  }
  if (const auto timestamp = object.find("timestamp"); timestamp != object.end()) read_timestamp(*timestamp, frame);
  if (!frame.problem.empty()) return frame;
  if (image != object.end() && image->is_binary()) {
    frame.image = image->get_binary();
    if (frame.image.empty()) frame.problem = "image is empty";
    return frame;
  }
  if (image == object.end() || !image->is_string()) {
    frame.problem = "image must be a string (a data URL or base64)";
    return frame;
  }
  decode_image_text(image->get_ref<const std::string&>(), frame);
  return frame;
}

template <typename Setting>
std::optional<Setting> read_choice(const json& value, std::initializer_list<Setting> choices) {
  if (!value.is_string()) return std::nullopt;
  for (Setting choice : choices) {
    if (value.get_ref<const std::string&>() == to_string(choice)) return choice;
  }
  return std::nullopt;
}

// An integer that fits an int (its range is checked later, with the setting's own message); 2.0 is 2.
// Every int is exact as a double, and any number outside int's range is refused here.
std::optional<int> read_count(const json& value) {
  if (!value.is_number()) return std::nullopt;
  const double number = value.get<double>();
  if (!(number >= std::numeric_limits<int>::min() && number <= std::numeric_limits<int>::max()) ||
      number != std::floor(number)) {
    return std::nullopt;
  }
  return static_cast<int>(number);
}

ClientMessage parse_config(const json& object) {
  ConfigMessage config;
  for (const auto& [key, value] : object.items()) {
    bool ok = true;
    if (key == "type") continue;
    if (key == "pose") {
      config.pose = read_choice(value, {PoseSetting::off, PoseSetting::lite, PoseSetting::full, PoseSetting::heavy});
      ok = config.pose.has_value();
    } else if (key == "hands") {
      config.hands = read_choice(value, {HandsSetting::off, HandsSetting::lite, HandsSetting::full});
      ok = config.hands.has_value();
    } else if (key == "drop_policy") {
      config.drop_policy = read_choice(value, {DropPolicy::latest, DropPolicy::all});
      ok = config.drop_policy.has_value();
    } else if (key == "smoothing") {
      ok = value.is_boolean();
      if (ok) config.smoothing = value.get<bool>();
    } else if (key == "hands_from_pose") {
      ok = value.is_boolean();
      if (ok) config.hands_from_pose = value.get<bool>();
    } else if (key == "num_poses") {
      config.num_poses = read_count(value);
      ok = config.num_poses.has_value();
    } else if (key == "detector_interval_ms") {
      ok = value.is_number() && std::isfinite(value.get<double>());
      if (ok) config.detector_interval_ms = value.get<double>();
    } else {
      return BadMessage{"bad_config", "unknown config field '" + key.substr(0, kQuoteBytes) + "'"};
    }
    if (!ok) return BadMessage{"bad_config", "config field '" + key + "' cannot be " + quote(value)};
  }
  return config;
}

ClientMessage parse_json_object(std::string_view text) {
  const json::parser_callback_t limit_depth = [](int depth, json::parse_event_t, json&) {
    return depth <= kMaxJsonDepth;
  };
  const json object = json::parse(text.begin(), text.end(), limit_depth, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return BadMessage{"bad_json", "text message is not a valid JSON object"};
  }
  const auto type = object.find("type");
  if (type == object.end() || *type == "frame") return parse_json_frame(object);
  if (*type == "config") return parse_config(object);
  if (*type == "reset") {
    if (object.size() != 1) return BadMessage{"bad_control", "reset takes no fields"};
    return ResetMessage{};
  }
  return BadMessage{"unknown_type", "unknown message type " + quote(*type)};
}

}  // namespace

std::optional<std::vector<std::uint8_t>> decode_base64(std::string_view text) {
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::size_t length = text.size() - padding;
  if (length % 4 == 1 || (padding > 0 && text.size() % 4 != 0)) return std::nullopt;
  std::vector<std::uint8_t> bytes((length + 3) / 4 * 3);
  // Beast's decoder stops at the first character outside the alphabet; reading fewer characters than
  // the unpadded length means the text was not base64.
  const auto [written, read] = boost::beast::detail::base64::decode(bytes.data(), text.data(), length);
  if (read != length) return std::nullopt;
  bytes.resize(written);
  return bytes;
}

ClientMessage parse_binary_message(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kBinaryHeaderBytes || std::memcmp(bytes.data(), kBinaryMagic.data(), 4) != 0) {
    return BadMessage{"bad_magic", "binary message is not a PSF1 frame (" + std::to_string(bytes.size()) +
                                       " bytes; expected 'PSF1', u64 sequence, u64 timestamp, image)"};
  }
  FrameMessage frame;
  frame.sequence = read_u64_le(bytes.subspan(4, 8));
  const std::uint64_t timestamp = read_u64_le(bytes.subspan(12, 8));
  if (timestamp > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    frame.problem = "timestamp " + std::to_string(timestamp) + " us is above 2^63 - 1";
    return frame;
  }
  frame.timestamp_us = static_cast<std::int64_t>(timestamp);
  if (bytes.size() == kBinaryHeaderBytes) {
    frame.problem = "image is empty";
    return frame;
  }
  frame.image.assign(bytes.begin() + kBinaryHeaderBytes, bytes.end());
  return frame;
}

ClientMessage parse_text_message(std::string_view text) {
  text = trim(text);
  if (text.empty()) return BadMessage{"bad_message", "empty text message"};
  if (text.front() == '{') return parse_json_object(text);
  FrameMessage frame;
  if (text.front() == '"') {
    const json string = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
    if (string.is_discarded() || !string.is_string()) return BadMessage{"bad_json", "text message is not valid JSON"};
    decode_image_text(string.get_ref<const std::string&>(), frame);
  } else {
    decode_image_text(text, frame);
  }
  return frame;
}

ClientMessage parse_frame_object(const nlohmann::json& object) {
  if (!object.is_object()) return BadMessage{"bad_message", "a frame must be an object {sequence, image}"};
  return parse_json_frame(object);
}

ClientMessage parse_config_object(const nlohmann::json& object) {
  if (!object.is_object()) return BadMessage{"bad_config", "a config must be an object"};
  return parse_config(object);
}

std::uint64_t FrameNumbering::number(FrameMessage& frame) {
  if (!frame.sequence) {
    // After UINT64_MAX there is no next number; later implicit frames repeat it (and are duplicates).
    frame.sequence = !highest_ ? 0 : *highest_ == std::numeric_limits<std::uint64_t>::max() ? *highest_ : *highest_ + 1;
  }
  if (!highest_ || *frame.sequence > *highest_) highest_ = frame.sequence;
  return *frame.sequence;
}

}  // namespace posestream::server
