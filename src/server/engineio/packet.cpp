// Engine.IO v4 packet codec: text packets, polling payloads, base64 (Beast's) and random ids (OpenSSL's).
#include "server/engineio/packet.h"

#include <boost/beast/core/detail/base64.hpp>
#include <openssl/rand.h>

#include <stdexcept>

namespace posestream::server::engineio {
namespace base64 = boost::beast::detail::base64;

std::string encode_packet(const Packet& packet) {
  if (packet.binary) return "b" + encode_base64(packet.data);
  std::string text;
  text.reserve(1 + packet.data.size());
  text.push_back(static_cast<char>('0' + static_cast<int>(packet.type)));
  text += packet.data;
  return text;
}

std::string encode_payload(std::span<const Packet> packets) {
  std::string body;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    if (i > 0) body.push_back(kRecordSeparator);
    body += encode_packet(packets[i]);
  }
  return body;
}

std::optional<Packet> decode_packet(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char type = text.front();
  if (type == 'b') {
    std::optional<std::string> bytes = decode_base64(text.substr(1));
    if (!bytes) return std::nullopt;
    return binary_message(std::move(*bytes));
  }
  if (type < '0' || type > '6') return std::nullopt;
  return Packet{static_cast<PacketType>(type - '0'), false, std::string(text.substr(1))};
}

Packet binary_message(std::string bytes) { return Packet{PacketType::message, true, std::move(bytes)}; }

DecodedPayload decode_payload(std::string_view body) {
  DecodedPayload payload;
  std::size_t start = 0;
  // Every record, including the last (and an empty body's one empty record); a separator at the end
  // leaves an empty, invalid record, as in the reference.
  for (;;) {
    const std::size_t end = body.find(kRecordSeparator, start);
    const std::string_view record = body.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    std::optional<Packet> packet = decode_packet(record);
    if (!packet) {
      payload.valid = false;
      return payload;
    }
    payload.packets.push_back(std::move(*packet));
    if (end == std::string_view::npos) return payload;
    start = end + 1;
  }
}

std::string encode_base64(std::string_view bytes) {
  std::string text(base64::encoded_size(bytes.size()), '\0');
  text.resize(base64::encode(text.data(), bytes.data(), bytes.size()));
  return text;
}

std::optional<std::string> decode_base64(std::string_view text) {
  std::size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  const std::size_t length = text.size() - padding;
  if (length % 4 == 1 || (padding > 0 && text.size() % 4 != 0)) return std::nullopt;
  std::string bytes((length + 3) / 4 * 3, '\0');
  // Beast's decoder stops at the first character outside the alphabet: reading fewer characters than
  // the unpadded length means the text was not base64.
  const auto [written, read] = base64::decode(bytes.data(), text.data(), length);
  if (read != length) return std::nullopt;
  bytes.resize(written);
  return bytes;
}

std::string random_base64url(std::size_t byte_count) {
  std::string bytes(byte_count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("engine.io: OpenSSL RAND_bytes failed to make a session id");
  }
  std::string text = encode_base64(bytes);
  while (!text.empty() && text.back() == '=') text.pop_back();
  for (char& c : text) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return text;
}

}  // namespace posestream::server::engineio
