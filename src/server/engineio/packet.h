// Engine.IO v4 packet codec: packets, polling payloads and base64, as pure functions on plain values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace posestream::server::engineio {

// ../shared/SOCKETIO_FACTS.md 1.1, 1.3, 1.4. Decoding never throws on client input and trusts no length:
// anything malformed is "no packet" (the reference's `error` packet), which closes the session with
// "parse error".

enum class PacketType : std::uint8_t { open = 0, close = 1, ping = 2, pong = 3, message = 4, upgrade = 5, noop = 6 };

// One packet. `binary` only for messages: raw bytes in `data` (a binary WebSocket frame, or "b" + base64
// in a polling payload); otherwise `data` is the text after the type digit.
struct Packet {
  PacketType type = PacketType::message;
  bool binary = false;
  std::string data;

  friend bool operator==(const Packet&, const Packet&) = default;
};

// The record separator between the packets of a polling payload.
inline constexpr char kRecordSeparator = '\x1e';

// A text packet as on a WebSocket text frame: "<type digit><data>". A binary packet (which goes as a raw
// binary frame on a WebSocket) encodes as "b" + base64, its polling form.
std::string encode_packet(const Packet& packet);
// Packets joined by the record separator (polling GET bodies); binary as "b" + base64 (v4 always).
std::string encode_payload(std::span<const Packet> packets);

// One text packet ("4hello", "2probe", "bAQIDBA=="). Empty: an empty string, an unknown type character,
// or "b" followed by invalid base64.
std::optional<Packet> decode_packet(std::string_view text);
// A binary WebSocket frame: always a message (raw bytes, no type prefix).
Packet binary_message(std::string bytes);

// A polling POST body split at record separators. `packets` holds every packet decoded before the first
// invalid record; `valid` is false if there was one (an empty body is one invalid record).
struct DecodedPayload {
  std::vector<Packet> packets;
  bool valid = true;
};
DecodedPayload decode_payload(std::string_view body);

// Standard base64 (RFC 4648 alphabet, '=' padding).
std::string encode_base64(std::string_view bytes);
// Standard base64, padding optional, no whitespace. Empty on any other character or a bad length.
std::optional<std::string> decode_base64(std::string_view text);
// `byte_count` random bytes from OpenSSL's CSPRNG as unpadded base64url (RFC 4648 section 5: A-Z a-z 0-9
// - _): session ids. 15 bytes give 20 characters, as the reference's ids.
std::string random_base64url(std::size_t byte_count);

}  // namespace posestream::server::engineio
