// Socket.IO v5 packets as text: decoding a client's packet header and JSON, encoding the server's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace posestream::server::socketio {

// ordered_json keeps an object's keys in the order they arrived and integers as integers, so a payload
// decoded and encoded again is byte-identical to what the client sent (SOCKETIO_FACTS 3.2 compares
// the echoed strings). Binary arguments are Json binary values (Json::binary); on the wire they are
// placeholders plus attachments (binary.h).
using Json = nlohmann::ordered_json;

// SOCKETIO_FACTS section 2; the digit is the first character of the packet.
enum class PacketType : std::uint8_t {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

// `<type>[<attachments>-][<nsp>,][<id>][<json>]`.
struct Packet {
  PacketType type = PacketType::event;
  std::string nsp = "/";               // Always starts with '/'; "/" is not written on the wire.
  std::optional<std::uint64_t> id;     // The ack id, when the sender asks for (or answers) an ack.
  std::optional<Json> data;            // Absent: nothing after the header.
  std::size_t attachments = 0;         // Binary types only: how many binary messages follow.
};

bool is_binary_type(PacketType type);

// The bounds decode_packet applies to client input. The Engine.IO layer already bounds the packet's
// length (its max_payload).
struct DecodeLimits {
  // Attachments one BINARY_EVENT / BINARY_ACK may announce: the reference parser's maxAttachments (10).
  // More: the packet is invalid.
  std::size_t max_attachments = 10;
  // Deepest nesting of arrays and objects in a payload. Our encoder and the placeholder walk recurse
  // once per level, so this bounds their stack. The reference has no such limit (JSON.parse goes as
  // deep as V8's stack); no real client nests a payload this deep. Deeper: the packet is invalid.
  std::size_t max_json_depth = 32;
};

// The largest ack id accepted: 2^53 - 1, the largest integer the reference (a JavaScript Number) holds
// exactly. The reference accepts longer digit strings but rounds them, so its answer would carry
// another id; here they make the packet invalid.
inline constexpr std::uint64_t kMaxAckId = (std::uint64_t{1} << 53) - 1;

struct DecodeError {
  std::string message;  // Names the part and the bad value, e.g. "unknown packet type 'a'".
};

using DecodeResult = std::variant<Packet, DecodeError>;

// Decodes one text packet with the reference parser's validity rules (socket.io-parser decodeString and
// isPayloadValid): CONNECT's payload an object or absent, DISCONNECT none, CONNECT_ERROR a string or an
// object, EVENT / BINARY_EVENT a non-empty array whose first element is a number or a string that is
// not a reserved event name, ACK / BINARY_ACK an array. Binary types keep their placeholders (the
// Reconstructor replaces them). Never throws; every number is bounded.
DecodeResult decode_packet(std::string_view text, const DecodeLimits& limits);

// The text of a packet whose data holds no binary values (encode binaries with binary.h's
// encode_with_attachments). Never throws: invalid UTF-8 in strings is replaced by U+FFFD.
std::string encode_packet(const Packet& packet);

// The deepest nesting of arrays and objects in `text` (JSON), stopping as soon as it exceeds `limit`
// (then returns limit + 1). Strings are skipped with their escapes. Linear; does not validate.
std::size_t json_depth(std::string_view text, std::size_t limit);

// The compact JSON of `value` as the reference's JSON.stringify writes it for decoded input. Never throws.
std::string dump_json(const Json& value);

}  // namespace posestream::server::socketio
