// Socket.IO packet codec: every byte example of SOCKETIO_FACTS 2.1 and the 3.2 message cases.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "server/socketio/binary.h"
#include "server/socketio/packet.h"

namespace posestream::server::socketio {
namespace {

// The Engine.IO message data (the wire text without its leading "4").
Packet decode_ok(std::string_view text) {
  auto result = decode_packet(text, DecodeLimits{});
  if (auto* error = std::get_if<DecodeError>(&result)) {
    ADD_FAILURE() << "'" << text << "' did not decode: " << error->message;
    return {};
  }
  return std::get<Packet>(result);
}

std::string decode_error(std::string_view text, const DecodeLimits& limits = {}) {
  auto result = decode_packet(text, limits);
  if (auto* error = std::get_if<DecodeError>(&result)) return error->message;
  ADD_FAILURE() << "'" << text << "' decoded but should not have";
  return {};
}

TEST(SocketioCodec, ConnectExamples) {
  Packet plain = decode_ok("0");
  EXPECT_EQ(plain.type, PacketType::connect);
  EXPECT_EQ(plain.nsp, "/");
  EXPECT_FALSE(plain.data);
  EXPECT_FALSE(plain.id);

  Packet with_auth = decode_ok(R"(0{"token":"123"})");
  EXPECT_EQ(dump_json(*with_auth.data), R"({"token":"123"})");
  EXPECT_TRUE(decode_ok("0{}").data->is_object());  // python-socketio always sends an object.

  EXPECT_EQ(decode_ok("0/admin,").nsp, "/admin");
  EXPECT_EQ(decode_ok("0/admin").nsp, "/admin");  // The suite sends 40/custom without the comma.
  Packet admin_auth = decode_ok(R"(0/admin,{"token":"123"})");
  EXPECT_EQ(admin_auth.nsp, "/admin");
  EXPECT_EQ(dump_json(*admin_auth.data), R"({"token":"123"})");
}

TEST(SocketioCodec, ServerAnswersEncodeAsTheReference) {
  Packet answer{PacketType::connect, "/", std::nullopt, Json{{"sid", "wZX3oN0bSVIhsaknAAAI"}}};
  EXPECT_EQ(encode_packet(answer), R"(0{"sid":"wZX3oN0bSVIhsaknAAAI"})");
  answer.nsp = "/admin";
  answer.data = Json{{"sid", "oSO0OpakMV_3jnilAAAA"}};
  EXPECT_EQ(encode_packet(answer), R"(0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"})");

  Packet refused{PacketType::connect_error, "/random", std::nullopt, Json{{"message", "Invalid namespace"}}};
  EXPECT_EQ(encode_packet(refused), R"(4/random,{"message":"Invalid namespace"})");
  refused.nsp = "/";
  refused.data = Json{{"message", "Not authorized"}};
  EXPECT_EQ(encode_packet(refused), R"(4{"message":"Not authorized"})");

  EXPECT_EQ(encode_packet(Packet{PacketType::disconnect, "/", std::nullopt, std::nullopt}), "1");
  EXPECT_EQ(encode_packet(Packet{PacketType::disconnect, "/admin", std::nullopt, std::nullopt}), "1/admin,");
}

TEST(SocketioCodec, ConnectErrorExamplesDecode) {
  EXPECT_EQ(decode_ok(R"(4{"message":"Not authorized"})").type, PacketType::connect_error);
  EXPECT_EQ(decode_ok(R"(4/random,{"message":"Invalid namespace"})").nsp, "/random");
  EXPECT_TRUE(decode_ok(R"(4/x,"Unable to connect")").data->is_string());
}

TEST(SocketioCodec, EventAndAckExamplesRoundTripByteIdentical) {
  const std::vector<std::string> examples = {
      R"(2["foo"])",
      R"(2/admin,["bar"])",
      R"(212["foo"])",
      R"(312["bar"])",
      R"(3/admin,13["bar"])",
      R"(20["withack",5])",
      R"(21["withack",5])",
      R"(30[{"ok":true}])",
      R"(2["hello",{"x":"é"}])",
      R"(2["message",1,"2",{"3":[true]}])",
      R"(2["message-back",1,"2",{"3":[true]}])",
      R"(2456["message-with-ack",1,"2",{"3":[false]}])",
      R"(3456[1,"2",{"3":[false]}])",
      R"(2["auth",{"token":"123"}])",
      R"(2/custom,["auth",{}])",
      R"(2["frame",{"z":1,"a":2,"m":[3,-4,12345678901234]}])",
      "1",
      "1/admin,",
  };
  for (const auto& text : examples) EXPECT_EQ(encode_packet(decode_ok(text)), text) << text;
}

TEST(SocketioCodec, AckIds) {
  EXPECT_EQ(*decode_ok(R"(212["foo"])").id, 12u);
  EXPECT_EQ(*decode_ok(R"(3/admin,13["bar"])").id, 13u);
  EXPECT_EQ(*decode_ok("2" + std::to_string(kMaxAckId) + R"(["a"])").id, kMaxAckId);
  EXPECT_NE(decode_error("2" + std::to_string(kMaxAckId + 1) + R"(["a"])"), "");
  EXPECT_NE(decode_error(R"(212345678901234567["a"])"), "");  // 17 digits.
}

TEST(SocketioCodec, BinaryExamples) {
  Packet one = decode_ok(R"(51-["baz",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(one.type, PacketType::binary_event);
  EXPECT_EQ(one.attachments, 1u);
  Packet two = decode_ok(R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(two.attachments, 2u);
  EXPECT_EQ(two.nsp, "/admin");
  Packet ack = decode_ok(R"(61-15["bar",{"_placeholder":true,"num":0}])");
  EXPECT_EQ(ack.type, PacketType::binary_ack);
  EXPECT_EQ(*ack.id, 15u);
  Packet suite = decode_ok(R"(52-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(*suite.id, 789u);
  for (const auto* text : {R"(51-["baz",{"_placeholder":true,"num":0}])",
                           R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                           R"(61-15["bar",{"_placeholder":true,"num":0}])"}) {
    EXPECT_EQ(encode_packet(decode_ok(text)), text);
  }
}

TEST(SocketioCodec, InvalidPacketsOfTheSuiteAreRefused) {
  EXPECT_NE(decode_error("abc"), "");  // 4abc: unknown type 'a'.
  EXPECT_NE(decode_error("2{}"), "");  // 42{}: not an array.
  EXPECT_NE(decode_error(R"(2abc["message-with-ack",1,"2",{"3":[false]}])"), "");  // Not JSON.
}

TEST(SocketioCodec, ValidityRulesOfTheReference) {
  for (const auto* text : {"", "7", "9[]", "2[]", "2[true]", "2[null]", "2[{}]", "2\"x\"", "1{}", "1/admin,[]",
                           "0[]", "0\"x\"", "4[1]", "3{}", "3\"x\"", "2[\"a\"] x"}) {
    EXPECT_NE(decode_error(text), "") << text;
  }
  for (const auto* reserved : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                               "removeListener"}) {
    EXPECT_NE(decode_error(std::string(R"(2[")") + reserved + "\"]"), "") << reserved;
    EXPECT_NE(decode_error(std::string(R"(51-[")") + reserved + R"(",{"_placeholder":true,"num":0}])"), "");
  }
  EXPECT_EQ(decode_ok("2[1,\"a\"]").data->size(), 2u);  // A number as event name is valid.
  EXPECT_EQ(decode_ok("3[]").data->size(), 0u);
  EXPECT_FALSE(decode_ok("2").data);  // No payload: not validated, as the reference.
}

TEST(SocketioCodec, AttachmentCountsAreBounded) {
  EXPECT_NE(decode_error(R"(5-["a"])"), "");
  EXPECT_NE(decode_error(R"(50-["a"])"), "");
  EXPECT_NE(decode_error(R"(5["a"])"), "");
  EXPECT_NE(decode_error(R"(5x-["a"])"), "");
  EXPECT_NE(decode_error(R"(511-["a"])"), "");
  EXPECT_NE(decode_error(R"(599999999999999999999999999-["a"])"), "");
  EXPECT_EQ(decode_ok(R"(510-["a"])").attachments, 10u);
  DecodeLimits two;
  two.max_attachments = 2;
  EXPECT_NE(decode_error(R"(53-["a"])", two), "");
}

TEST(SocketioCodec, NestingIsBounded) {
  DecodeLimits limits;
  limits.max_json_depth = 4;
  EXPECT_TRUE(std::holds_alternative<Packet>(decode_packet(R"(2["a",[[[1]]]])", limits)));
  EXPECT_NE(decode_error(R"(2["a",[[[[1]]]]])", limits), "");
  const std::string deep = "2[\"a\"," + std::string(100000, '[') + std::string(100000, ']') + "]";
  EXPECT_NE(decode_error(deep), "");
  EXPECT_EQ(json_depth(R"(["[[[\"{{",{"a":"]]\\"}])", 10), 2u);  // Brackets in strings do not count.
}

TEST(SocketioCodec, EncodesBinaryArgumentsAsAttachments) {
  Packet event{PacketType::event, "/", std::nullopt,
               Json::array({"binout", make_binary(std::string("\x01\x02\x03\x04", 4)), "x"})};
  EncodedPacket encoded = encode_with_attachments(event);
  EXPECT_EQ(encoded.text, R"(51-["binout",{"_placeholder":true,"num":0},"x"])");
  ASSERT_EQ(encoded.attachments.size(), 1u);
  EXPECT_EQ(encoded.attachments[0], std::string("\x01\x02\x03\x04", 4));

  Packet ack{PacketType::ack, "/admin", 15, Json::array({Json{{"img", make_binary("ab")}}, make_binary("c")})};
  encoded = encode_with_attachments(ack);
  EXPECT_EQ(encoded.text, R"(62-/admin,15[{"img":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(encoded.attachments, (std::vector<std::string>{"ab", "c"}));

  Packet plain{PacketType::event, "/", std::nullopt, Json::array({"a", 1})};
  encoded = encode_with_attachments(plain);
  EXPECT_EQ(encoded.text, R"(2["a",1])");
  EXPECT_TRUE(encoded.attachments.empty());
}

TEST(SocketioCodec, ReconstructorRebuildsInOrder) {
  Reconstructor reconstructor(100);
  reconstructor.start(decode_ok(R"(52-789["message-with-ack",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}])"));
  EXPECT_TRUE(reconstructor.active());
  EXPECT_TRUE(std::holds_alternative<std::monostate>(reconstructor.add("\x01\x02\x03")));
  auto result = reconstructor.add("\x04\x05\x06");
  ASSERT_TRUE(std::holds_alternative<Packet>(result));
  EXPECT_FALSE(reconstructor.active());
  const Packet& packet = std::get<Packet>(result);
  EXPECT_EQ(packet.type, PacketType::event);
  EXPECT_EQ(*packet.id, 789u);
  EXPECT_EQ(binary_bytes(packet.data->at(1)), "\x04\x05\x06");
  EXPECT_EQ(binary_bytes(packet.data->at(2)), "\x01\x02\x03");
  // And back: the args re-encode with placeholders in argument order.
  EXPECT_EQ(encode_with_attachments(Packet{PacketType::ack, "/", 789, Json::array({packet.data->at(1)})}).text,
            R"(61-789[{"_placeholder":true,"num":0}])");
}

TEST(SocketioCodec, ReconstructorRefusesBadPlaceholdersAndExcessBytes) {
  for (const auto* text : {R"(51-["a",{"_placeholder":true,"num":1}])", R"(51-["a",{"_placeholder":true,"num":-1}])",
                           R"(51-["a",{"_placeholder":true,"num":0.5}])", R"(51-["a",{"_placeholder":true}])",
                           R"(51-["a",{"_placeholder":true,"num":"0"}])"}) {
    Reconstructor reconstructor(100);
    reconstructor.start(decode_ok(text));
    EXPECT_TRUE(std::holds_alternative<DecodeError>(reconstructor.add("x"))) << text;
    EXPECT_FALSE(reconstructor.active());
  }
  Reconstructor small(5);
  small.start(decode_ok(R"(52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])"));
  EXPECT_TRUE(std::holds_alternative<std::monostate>(small.add("abc")));
  EXPECT_TRUE(std::holds_alternative<DecodeError>(small.add("def")));
  EXPECT_FALSE(small.active());
  EXPECT_EQ(small.held_bytes(), 0u);
  EXPECT_TRUE(std::holds_alternative<DecodeError>(small.add("x")));  // Not reconstructing.
  // A placeholder-shaped object in a plain EVENT is just an object, as in the reference.
  EXPECT_TRUE(decode_ok(R"(2["a",{"_placeholder":true,"num":0}])").data->at(1).is_object());
}

}  // namespace
}  // namespace posestream::server::socketio
