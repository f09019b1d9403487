// Binary arguments: placeholders and attachments in and out (socket.io-parser binary.ts), bounded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/socketio/packet.h"

namespace posestream::server::socketio {

// A binary argument: a Json binary value holding a copy of `bytes`.
Json make_binary(std::string_view bytes);
// The bytes of a binary value. Precondition: value.is_binary(). Valid while `value` is.
std::string_view binary_bytes(const Json& value);

// An outgoing packet as Engine.IO messages: the text packet, then each attachment as a binary message.
struct EncodedPacket {
  std::string text;
  std::vector<std::string> attachments;
};

// Encodes an EVENT or ACK whose data may hold binary values: with none, as it is; with some, as
// BINARY_EVENT / BINARY_ACK, each binary value replaced by {"_placeholder":true,"num":N} in depth-first
// order and sent as attachment N (the reference's deconstructPacket). Other types are encoded as they
// are. Never throws.
EncodedPacket encode_with_attachments(Packet packet);

// Collects the attachments a BINARY_EVENT / BINARY_ACK announced and rebuilds the packet. The count is
// bounded when the header is decoded (DecodeLimits::max_attachments) and each attachment by the
// Engine.IO layer's max_payload; the total held here is bounded by max_total_bytes, so a client that
// announces attachments and sends large ones costs at most that much memory. Attachments announced and
// never sent are held until the session closes (Connection drops the Reconstructor with it).
// Single-threaded (the connection's strand).
class Reconstructor {
 public:
  explicit Reconstructor(std::size_t max_total_bytes) : max_total_bytes_(max_total_bytes) {}

  // True between start() and the packet's last attachment (or an error).
  bool active() const { return pending_.has_value(); }

  // Starts collecting for `packet`. Precondition: is_binary_type(packet.type), packet.attachments >= 1.
  void start(Packet packet);

  // Nothing yet: more attachments are expected. A Packet: the last attachment arrived; its type is
  // EVENT or ACK, its placeholders replaced by binary values. A DecodeError: over max_total_bytes, or
  // a placeholder that is malformed or names a missing attachment ("illegal attachments"). After a
  // Packet or an error the Reconstructor is idle again.
  using Result = std::variant<std::monostate, Packet, DecodeError>;
  Result add(std::string_view bytes);

  // Forgets the packet being collected.
  void reset();

  std::size_t held_bytes() const { return held_bytes_; }

 private:
  std::size_t max_total_bytes_;
  std::optional<Packet> pending_;
  std::vector<std::string> buffers_;
  std::size_t held_bytes_ = 0;
};

// Replaces every object with "_placeholder": true in `data` by binary value `num` of `buffers`
// (socket.io-parser reconstructPacket). An error if `num` is not an integer in [0, buffers.size()).
// Recurses once per nesting level: `data` must come from decode_packet (depth-bounded).
std::optional<DecodeError> replace_placeholders(Json& data, const std::vector<std::string>& buffers);

}  // namespace posestream::server::socketio
