// Placeholders and attachments: encode_with_attachments (outgoing) and the Reconstructor (incoming).
#include "server/socketio/binary.h"

#include <cstdint>
#include <utility>

namespace posestream::server::socketio {
namespace {

Json placeholder(std::size_t num) {
  Json object = Json::object();
  object["_placeholder"] = true;  // Key order matters on the wire: _placeholder first, as the reference.
  object["num"] = num;
  return object;
}

// Replaces binary values by placeholders, depth-first, appending their bytes to `attachments`.
void deconstruct(Json& value, std::vector<std::string>& attachments) {
  if (value.is_binary()) {
    const std::string_view bytes = binary_bytes(value);
    attachments.emplace_back(bytes);
    value = placeholder(attachments.size() - 1);
  } else if (value.is_structured()) {
    for (auto& child : value) deconstruct(child, attachments);
  }
}

bool is_placeholder(const Json& value) {
  if (!value.is_object()) return false;
  const auto it = value.find("_placeholder");
  return it != value.end() && it->is_boolean() && it->get<bool>();
}

std::optional<DecodeError> fill_placeholder(Json& value, const std::vector<std::string>& buffers) {
  const auto num = value.find("num");
  // Integers only: the reference indexes an array with it, and a fractional index finds nothing.
  if (num == value.end() || !num->is_number_integer()) {
    return DecodeError{"illegal attachments: placeholder without an integer num"};
  }
  const bool in_range = num->is_number_unsigned() ? num->get<std::uint64_t>() < buffers.size()
                                                  : false;  // A signed integer here is negative.
  if (!in_range) {
    return DecodeError{"illegal attachments: placeholder num " + dump_json(*num) + " of " +
                       std::to_string(buffers.size()) + " attachments"};
  }
  value = make_binary(buffers[num->get<std::size_t>()]);
  return std::nullopt;
}

}  // namespace

Json make_binary(std::string_view bytes) {
  return Json::binary(Json::binary_t::container_type(bytes.begin(), bytes.end()));
}

std::string_view binary_bytes(const Json& value) {
  const auto& bytes = value.get_binary();
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

EncodedPacket encode_with_attachments(Packet packet) {
  EncodedPacket encoded;
  const bool may_carry_binary = packet.type == PacketType::event || packet.type == PacketType::ack;
  if (may_carry_binary && packet.data) deconstruct(*packet.data, encoded.attachments);
  if (!encoded.attachments.empty()) {
    packet.type = packet.type == PacketType::event ? PacketType::binary_event : PacketType::binary_ack;
    packet.attachments = encoded.attachments.size();
  }
  encoded.text = encode_packet(packet);
  return encoded;
}

std::optional<DecodeError> replace_placeholders(Json& data, const std::vector<std::string>& buffers) {
  if (is_placeholder(data)) return fill_placeholder(data, buffers);
  if (data.is_structured()) {
    for (auto& child : data) {
      if (auto error = replace_placeholders(child, buffers)) return error;
    }
  }
  return std::nullopt;
}

void Reconstructor::start(Packet packet) {
  reset();
  pending_ = std::move(packet);
}

Reconstructor::Result Reconstructor::add(std::string_view bytes) {
  if (!pending_) return DecodeError{"binary data when not reconstructing a packet"};
  if (bytes.size() > max_total_bytes_ - held_bytes_) {
    const std::size_t total = held_bytes_ + bytes.size();
    reset();
    return DecodeError{"attachments of one packet over " + std::to_string(max_total_bytes_) +
                       " bytes (" + std::to_string(total) + ")"};
  }
  held_bytes_ += bytes.size();
  buffers_.emplace_back(bytes);
  if (buffers_.size() < pending_->attachments) return std::monostate{};

  Packet packet = std::move(*pending_);
  std::vector<std::string> buffers = std::move(buffers_);
  reset();
  if (packet.data) {
    if (auto error = replace_placeholders(*packet.data, buffers)) return *error;
  }
  packet.type = packet.type == PacketType::binary_event ? PacketType::event : PacketType::ack;
  packet.attachments = 0;
  return packet;
}

void Reconstructor::reset() {
  pending_.reset();
  buffers_.clear();
  held_bytes_ = 0;
}

}  // namespace posestream::server::socketio
