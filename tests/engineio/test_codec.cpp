// The Engine.IO packet codec: the spec's byte examples, binary as base64, malformed input, random ids.
#include <gtest/gtest.h>

#include <set>

#include "server/engineio/packet.h"

namespace posestream::server::engineio {
namespace {

TEST(EngineIoCodec, EncodesTextPacketsAsTypeDigitAndData) {
  EXPECT_EQ(encode_packet({PacketType::message, false, "hello"}), "4hello");
  EXPECT_EQ(encode_packet({PacketType::ping, false, "probe"}), "2probe");
  EXPECT_EQ(encode_packet({PacketType::close, false, ""}), "1");
  EXPECT_EQ(encode_packet({PacketType::noop, false, ""}), "6");
}

TEST(EngineIoCodec, EncodesBinaryAsBase64WithAPrefix) {
  EXPECT_EQ(encode_packet(binary_message(std::string("\x01\x02\x03\x04", 4))), "bAQIDBA==");
}

TEST(EngineIoCodec, JoinsAPayloadWithRecordSeparators) {
  // SOCKETIO_FACTS.md 1.3, spec examples.
  const std::vector<Packet> packets = {{PacketType::message, false, "hello"}, {PacketType::ping, false, ""},
                                       {PacketType::message, false, "world"}};
  EXPECT_EQ(encode_payload(packets), "4hello\x1e" "2\x1e" "4world");
  const std::vector<Packet> mixed = {{PacketType::message, false, "hello"}, binary_message(std::string("\x01\x02\x03\x04", 4))};
  EXPECT_EQ(encode_payload(mixed), "4hello\x1e" "bAQIDBA==");
  EXPECT_EQ(encode_payload({}), "");
}

TEST(EngineIoCodec, DecodesThePayloadExamples) {
  const DecodedPayload payload = decode_payload("4hello\x1e" "2\x1e" "4world");
  ASSERT_TRUE(payload.valid);
  ASSERT_EQ(payload.packets.size(), 3u);
  EXPECT_EQ(payload.packets[0], (Packet{PacketType::message, false, "hello"}));
  EXPECT_EQ(payload.packets[1], (Packet{PacketType::ping, false, ""}));
  EXPECT_EQ(payload.packets[2], (Packet{PacketType::message, false, "world"}));
  const DecodedPayload binary = decode_payload("4hello\x1e" "bAQIDBA==");
  ASSERT_TRUE(binary.valid);
  ASSERT_EQ(binary.packets.size(), 2u);
  EXPECT_EQ(binary.packets[1], binary_message(std::string("\x01\x02\x03\x04", 4)));
}

TEST(EngineIoCodec, RoundTripsEveryTypeAndBinaryBytes) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes.push_back(static_cast<char>(i));
  std::vector<Packet> packets;
  for (int type = 0; type <= 6; ++type) packets.push_back({static_cast<PacketType>(type), false, "x\xc3\xa9"});
  packets.push_back(binary_message(all_bytes));
  packets.push_back(binary_message(""));
  const DecodedPayload decoded = decode_payload(encode_payload(packets));
  ASSERT_TRUE(decoded.valid);
  EXPECT_EQ(decoded.packets, packets);
}

TEST(EngineIoCodec, RefusesMalformedPackets) {
  EXPECT_FALSE(decode_packet(""));
  EXPECT_FALSE(decode_packet("abc"));
  EXPECT_FALSE(decode_packet("7"));
  EXPECT_FALSE(decode_packet("/"));
  EXPECT_FALSE(decode_packet("b!!!!"));
  EXPECT_FALSE(decode_packet("bA"));      // A length no base64 has.
  EXPECT_FALSE(decode_packet("bAQ=A"));   // Padding inside.
  EXPECT_TRUE(decode_packet("bAQ"));      // Unpadded is accepted.
  EXPECT_TRUE(decode_packet("b"));        // An empty binary message.
}

TEST(EngineIoCodec, AnInvalidRecordStopsThePayloadAndKeepsWhatCameBefore) {
  const DecodedPayload payload = decode_payload("4a\x1e" "abc\x1e" "4b");
  EXPECT_FALSE(payload.valid);
  ASSERT_EQ(payload.packets.size(), 1u);
  EXPECT_EQ(payload.packets[0].data, "a");
  EXPECT_FALSE(decode_payload("").valid);
  EXPECT_FALSE(decode_payload("4a\x1e").valid);  // A trailing separator leaves an empty record.
  EXPECT_FALSE(decode_payload("\x1e" "4a").valid);
}

TEST(EngineIoCodec, Base64MatchesRfc4648) {
  EXPECT_EQ(encode_base64(""), "");
  EXPECT_EQ(encode_base64("f"), "Zg==");
  EXPECT_EQ(encode_base64("fo"), "Zm8=");
  EXPECT_EQ(encode_base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(decode_base64("Zm9vYg=="), "foob");
  EXPECT_EQ(decode_base64("Zm9vYg"), "foob");
  EXPECT_FALSE(decode_base64("Zm9v YmFy"));
  EXPECT_FALSE(decode_base64("Zm9vYg="));
  EXPECT_FALSE(decode_base64("Zm9vY==="));
}

TEST(EngineIoCodec, SessionIdsAreUrlSafeAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string sid = random_base64url(15);
    ASSERT_EQ(sid.size(), 20u);
    for (char c : sid) ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << sid;
    seen.insert(sid);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace posestream::server::engineio
