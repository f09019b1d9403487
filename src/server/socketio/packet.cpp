// Socket.IO v5 packet text codec: decode_packet (client input, never throws) and encode_packet.
#include "server/socketio/packet.h"

#include <algorithm>
#include <array>
#include <string>

namespace posestream::server::socketio {
namespace {

// socket.io-parser RESERVED_EVENTS: names with a meaning of their own on either side; an EVENT using
// one is invalid and closes the connection.
constexpr std::array<std::string_view, 6> kReservedEvents = {
    "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"};

// kMaxAckId has 16 digits; a 17th makes the id too large whatever it is.
constexpr std::size_t kMaxAckIdDigits = 16;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 40;  // Enough to recognise the value in a log line.
  std::string out = "'";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown) out += "...";
  return out + "'";
}

// Reads `<digits>-` at `pos` (just after the type digit). On success `pos` is after the '-'.
std::optional<DecodeError> read_attachments(std::string_view text, std::size_t& pos,
                                            const DecodeLimits& limits, std::size_t& attachments) {
  const std::size_t dash = text.find('-', pos);
  const std::string_view digits =
      dash == std::string_view::npos ? text.substr(pos) : text.substr(pos, dash - pos);
  if (dash == std::string_view::npos || digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), is_digit)) {
    return DecodeError{"illegal attachments " + quoted(digits)};
  }
  std::size_t count = 0;
  for (char c : digits) {
    count = count * 10 + static_cast<std::size_t>(c - '0');
    if (count > limits.max_attachments) {
      return DecodeError{"too many attachments " + quoted(digits) + ", at most " +
                         std::to_string(limits.max_attachments)};
    }
  }
  if (count < 1) return DecodeError{"illegal attachments " + quoted(digits)};
  attachments = count;
  pos = dash + 1;
  return std::nullopt;
}

// Reads `/<nsp>[,]` at `pos` if a '/' is there (the comma may be missing at the end: "40/custom").
void read_namespace(std::string_view text, std::size_t& pos, std::string& nsp) {
  if (pos >= text.size() || text[pos] != '/') return;
  const std::size_t comma = text.find(',', pos);
  const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
  nsp.assign(text.substr(pos, end - pos));
  pos = comma == std::string_view::npos ? text.size() : comma + 1;
}

std::optional<DecodeError> read_ack_id(std::string_view text, std::size_t& pos,
                                       std::optional<std::uint64_t>& id) {
  const std::size_t start = pos;
  std::uint64_t value = 0;
  while (pos < text.size() && is_digit(text[pos])) {
    if (pos - start >= kMaxAckIdDigits) return DecodeError{"ack id too long " + quoted(text.substr(start))};
    value = value * 10 + static_cast<std::uint64_t>(text[pos] - '0');
    ++pos;
  }
  if (pos == start) return std::nullopt;
  if (value > kMaxAckId) return DecodeError{"ack id over 2^53-1 " + quoted(text.substr(start, pos - start))};
  id = value;
  return std::nullopt;
}

bool is_event_name(const Json& first) {
  if (first.is_number()) return true;
  if (!first.is_string()) return false;
  const auto& name = first.get_ref<const std::string&>();
  return std::find(kReservedEvents.begin(), kReservedEvents.end(), name) == kReservedEvents.end();
}

// socket.io-parser isPayloadValid, for a payload that is present.
bool is_payload_valid(PacketType type, const Json& data) {
  switch (type) {
    case PacketType::connect:
      return data.is_object();
    case PacketType::disconnect:
      return false;
    case PacketType::connect_error:
      return data.is_string() || data.is_object();
    case PacketType::event:
    case PacketType::binary_event:
      return data.is_array() && !data.empty() && is_event_name(data.front());
    case PacketType::ack:
    case PacketType::binary_ack:
      return data.is_array();
  }
  return false;
}

std::optional<DecodeError> read_payload(std::string_view text, PacketType type,
                                        const DecodeLimits& limits, std::optional<Json>& data) {
  if (text.empty()) return std::nullopt;
  if (json_depth(text, limits.max_json_depth) > limits.max_json_depth) {
    return DecodeError{"payload nested deeper than " + std::to_string(limits.max_json_depth)};
  }
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return DecodeError{"payload is not JSON: " + quoted(text)};
  if (!is_payload_valid(type, parsed)) {
    return DecodeError{"invalid payload for packet type " +
                       std::to_string(static_cast<int>(type)) + ": " + quoted(text)};
  }
  data = std::move(parsed);
  return std::nullopt;
}

}  // namespace

bool is_binary_type(PacketType type) {
  return type == PacketType::binary_event || type == PacketType::binary_ack;
}

DecodeResult decode_packet(std::string_view text, const DecodeLimits& limits) {
  if (text.empty()) return DecodeError{"empty packet"};
  if (text[0] < '0' || text[0] > '6') return DecodeError{"unknown packet type " + quoted(text.substr(0, 1))};
  Packet packet;
  packet.type = static_cast<PacketType>(text[0] - '0');
  std::size_t pos = 1;
  if (is_binary_type(packet.type)) {
    if (auto error = read_attachments(text, pos, limits, packet.attachments)) return *error;
  }
  read_namespace(text, pos, packet.nsp);
  if (auto error = read_ack_id(text, pos, packet.id)) return *error;
  if (auto error = read_payload(text.substr(pos), packet.type, limits, packet.data)) return *error;
  return packet;
}

std::string encode_packet(const Packet& packet) {
  std::string out(1, static_cast<char>('0' + static_cast<int>(packet.type)));
  if (is_binary_type(packet.type)) {
    out += std::to_string(packet.attachments);
    out += '-';
  }
  if (!packet.nsp.empty() && packet.nsp != "/") {
    out += packet.nsp;
    out += ',';
  }
  if (packet.id) out += std::to_string(*packet.id);
  if (packet.data) out += dump_json(*packet.data);
  return out;
}

std::size_t json_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  std::size_t deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // The escaped character cannot end the string.
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return limit + 1;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

std::string dump_json(const Json& value) {
  // -1: compact, as JSON.stringify. ensure_ascii false: raw UTF-8, as the reference server sends.
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace posestream::server::socketio
