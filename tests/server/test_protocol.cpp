// Protocol parsing and encoding against hand-worked messages (docs/PROTOCOL.md) and RFC 4648 vectors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>

#include "server/protocol.h"

namespace posestream::server {
namespace {

using Bytes = std::vector<std::uint8_t>;
using nlohmann::json;

Bytes binary_frame(std::uint64_t sequence, std::uint64_t timestamp, const Bytes& image) {
  Bytes bytes = {'P', 'S', 'F', '1'};
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(sequence >> (8 * i)));
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(timestamp >> (8 * i)));
  bytes.insert(bytes.end(), image.begin(), image.end());
  return bytes;
}

// A copy, so that callers may pass a temporary message.
template <typename Expected>
Expected as(const ClientMessage& message) {
  EXPECT_TRUE(std::holds_alternative<Expected>(message)) << "variant index " << message.index();
  return std::holds_alternative<Expected>(message) ? std::get<Expected>(message) : Expected{};
}

TEST(BinaryFrame, ReadsLittleEndianHeaderAndImage) {
  const Bytes frame = binary_frame(0x0102030405060708, 1'234'567, {0xFF, 0xD8, 0xFF, 0xE0});
  // Byte 4 is the sequence's lowest byte.
  EXPECT_EQ(frame[4], 0x08);
  const FrameMessage parsed = as<FrameMessage>(parse_binary_message(frame));
  EXPECT_EQ(parsed.sequence, 0x0102030405060708u);
  EXPECT_EQ(parsed.timestamp_us, 1'234'567);
  EXPECT_EQ(parsed.image, (Bytes{0xFF, 0xD8, 0xFF, 0xE0}));
  EXPECT_EQ(parsed.problem, "");
}

TEST(BinaryFrame, WrongMagicOrShortHeaderIsBadMessage) {
  Bytes wrong = binary_frame(1, 2, {1});
  wrong[3] = '2';
  EXPECT_EQ(as<BadMessage>(parse_binary_message(wrong)).code, "bad_magic");
  const Bytes header = binary_frame(1, 2, {});
  EXPECT_EQ(as<BadMessage>(parse_binary_message(std::span(header).first(19))).code, "bad_magic");
  EXPECT_EQ(as<BadMessage>(parse_binary_message({})).code, "bad_magic");
}

TEST(BinaryFrame, MissingImageOrHugeTimestampIsAnInvalidFrameWithItsSequence) {
  const FrameMessage empty = as<FrameMessage>(parse_binary_message(binary_frame(7, 2, {})));
  EXPECT_EQ(empty.sequence, 7u);
  EXPECT_NE(empty.problem, "");
  const FrameMessage huge = as<FrameMessage>(parse_binary_message(binary_frame(8, std::uint64_t{1} << 63, {1})));
  EXPECT_EQ(huge.sequence, 8u);
  EXPECT_NE(huge.problem.find("timestamp"), std::string::npos);
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"Zg==", "f"},         {"Zm8=", "fo"},
                                                        {"Zm9v", "foo"},  {"Zm9vYg==", "foob"}, {"Zm9vYmE=", "fooba"},
                                                        {"Zm9vYmFy", "foobar"}};
  for (const auto& [encoded, decoded] : vectors) {
    const auto bytes = decode_base64(encoded);
    ASSERT_TRUE(bytes.has_value()) << encoded;
    EXPECT_EQ(std::string(bytes->begin(), bytes->end()), decoded) << encoded;
  }
}

TEST(Base64, UnpaddedAcceptedMalformedRefused) {
  const auto unpadded = decode_base64("Zm8");
  ASSERT_TRUE(unpadded.has_value());
  EXPECT_EQ(std::string(unpadded->begin(), unpadded->end()), "fo");
  for (const char* bad : {"Z", "Zm9vY", "Zm=", "Zm8==", "Zm 9v", "Zm9v\n", "Zm-v", "=Zm9", "Zg==Zg=="}) {
    EXPECT_FALSE(decode_base64(bad).has_value()) << bad;
  }
}

TEST(TextFrame, JsonWithDataUrlSequenceAndTimestamp) {
  const auto message = parse_text_message(R"({"sequence":42,"timestamp":12.5,"image":"data:image/jpeg;base64,Zm9v"})");
  const FrameMessage frame = as<FrameMessage>(message);
  EXPECT_EQ(frame.sequence, 42u);
  EXPECT_EQ(frame.timestamp_us, 12'500);  // Milliseconds in, microseconds out.
  EXPECT_EQ(std::string(frame.image.begin(), frame.image.end()), "foo");
  EXPECT_EQ(frame.problem, "");
}

TEST(TextFrame, BareAndQuotedBase64HaveNoSequenceOrTimestamp) {
  for (const char* text : {"Zm9v", "  data:image/png;base64,Zm9v\n", "\"Zm9v\"", "\"data:image/jpeg;base64,Zm9v\""}) {
    const FrameMessage frame = as<FrameMessage>(parse_text_message(text));
    EXPECT_FALSE(frame.sequence.has_value()) << text;
    EXPECT_FALSE(frame.timestamp_us.has_value()) << text;
    EXPECT_EQ(std::string(frame.image.begin(), frame.image.end()), "foo") << text;
  }
}

TEST(TextFrame, UnusableImageIsAProblemButKeepsTheSequence) {
  for (const char* text : {R"({"sequence":3,"image":"Zm!v"})", R"({"sequence":3,"image":""})",
                           R"({"sequence":3,"image":5})", R"({"sequence":3})",
                           R"({"sequence":3,"image":"data:image/jpeg,Zm9v"})",
                           R"({"sequence":3,"timestamp":-1,"image":"Zm9v"})",
                           R"({"sequence":3,"timestamp":"5","image":"Zm9v"})"}) {
    const FrameMessage frame = as<FrameMessage>(parse_text_message(text));
    EXPECT_EQ(frame.sequence, 3u) << text;
    EXPECT_NE(frame.problem, "") << text;
  }
  // Not base64 at all, without JSON: a frame (numbered by the connection) answered invalid.
  const FrameMessage bare = as<FrameMessage>(parse_text_message("hello there"));
  EXPECT_FALSE(bare.sequence.has_value());
  EXPECT_NE(bare.problem, "");
}

TEST(TextFrame, SequenceMustBeAnUnsignedInteger) {
  for (const char* text : {R"({"sequence":-1,"image":"Zm9v"})", R"({"sequence":1.5,"image":"Zm9v"})",
                           R"({"sequence":"1","image":"Zm9v"})", R"({"sequence":18446744073709551616,"image":"Zm9v"})"}) {
    EXPECT_EQ(as<BadMessage>(parse_text_message(text)).code, "bad_sequence") << text;
  }
  const FrameMessage largest = as<FrameMessage>(parse_text_message(R"({"sequence":18446744073709551615,"image":"Zm9v"})"));
  EXPECT_EQ(largest.sequence, std::numeric_limits<std::uint64_t>::max());
}

// Socket.IO events arrive parsed (non-negative integers as unsigned, as the JSON parser makes them): the
// same frame rules, and a binary value (an attachment) as the image.
TEST(ObjectFrame, ParsedJsonWithTextOrBinaryImage) {
  const FrameMessage text = as<FrameMessage>(parse_frame_object(json{{"sequence", 7u}, {"image", "Zm9v"}}));
  EXPECT_EQ(text.sequence, 7u);
  EXPECT_EQ(std::string(text.image.begin(), text.image.end()), "foo");
  const FrameMessage binary =
      as<FrameMessage>(parse_frame_object(json{{"sequence", 8u}, {"timestamp", 1}, {"image", json::binary({1, 2, 3})}}));
  EXPECT_EQ(binary.image, (Bytes{1, 2, 3}));
  EXPECT_EQ(binary.timestamp_us, 1'000);
  EXPECT_EQ(binary.problem, "");
  EXPECT_NE(as<FrameMessage>(parse_frame_object(json{{"sequence", 9u}, {"image", json::binary({})}})).problem, "");
  EXPECT_EQ(as<BadMessage>(parse_frame_object(json{{"sequence", "9"}, {"image", "Zm9v"}})).code, "bad_sequence");
  EXPECT_EQ(as<BadMessage>(parse_frame_object(json::array({1}))).code, "bad_message");
  EXPECT_EQ(as<ConfigMessage>(parse_config_object(json{{"drop_policy", "all"}})).drop_policy, DropPolicy::all);
  EXPECT_EQ(as<BadMessage>(parse_config_object(json{{"fps", 3}})).code, "bad_config");
}

TEST(TextMessage, MalformedJsonAndUnknownTypes) {
  EXPECT_EQ(as<BadMessage>(parse_text_message("{\"sequence\":1,")).code, "bad_json");
  EXPECT_EQ(as<BadMessage>(parse_text_message("\"unterminated")).code, "bad_json");
  EXPECT_EQ(as<BadMessage>(parse_text_message("   ")).code, "bad_message");
  EXPECT_EQ(as<BadMessage>(parse_text_message("{}")).code, "bad_message");
  EXPECT_EQ(as<BadMessage>(parse_text_message(R"({"type":"hello"})")).code, "unknown_type");
  EXPECT_EQ(as<BadMessage>(parse_text_message(R"({"type":7})")).code, "unknown_type");
}

TEST(TextMessage, DeepNestingIsSkippedNotBuilt) {
  const std::string deep = R"({"sequence":1,"image":"Zm9v","extra":)" + std::string(100'000, '[') +
                           std::string(100'000, ']') + "}";
  const FrameMessage frame = as<FrameMessage>(parse_text_message(deep));
  EXPECT_EQ(frame.sequence, 1u);
  EXPECT_EQ(frame.problem, "");
}

TEST(Control, ConfigReadsEveryField) {
  const ConfigMessage config = as<ConfigMessage>(
      parse_text_message(R"({"type":"config","pose":"lite","hands":"off","smoothing":false,"hands_from_pose":false,)"
                         R"("drop_policy":"all"})"));
  EXPECT_EQ(config.pose, PoseSetting::lite);
  EXPECT_EQ(config.hands, HandsSetting::off);
  EXPECT_EQ(config.smoothing, false);
  EXPECT_EQ(config.hands_from_pose, false);
  EXPECT_EQ(config.drop_policy, DropPolicy::all);

  StreamSettings settings;
  settings.apply(as<ConfigMessage>(parse_text_message(R"({"type":"config","hands":"lite"})")));
  StreamSettings expected;
  expected.hands = HandsSetting::lite;
  EXPECT_EQ(settings, expected);
}

TEST(Control, BadConfigIsRefusedWhole) {
  for (const char* text : {R"({"type":"config","pose":"huge"})", R"({"type":"config","hands":"heavy"})",
                           R"({"type":"config","smoothing":1})", R"({"type":"config","drop_policy":"none"})",
                           R"({"type":"config","pose":"lite","posee":"full"})",
                           R"({"type":"config","hands_from_pose":"no"})"}) {
    EXPECT_EQ(as<BadMessage>(parse_text_message(text)).code, "bad_config") << text;
  }
}

TEST(Control, Reset) {
  EXPECT_TRUE(std::holds_alternative<ResetMessage>(parse_text_message(R"({"type":"reset"})")));
  EXPECT_EQ(as<BadMessage>(parse_text_message(R"({"type":"reset","now":true})")).code, "bad_control");
}

TEST(FrameNumbering, ImplicitIsOneAboveTheHighestSeen) {
  FrameNumbering numbering;
  FrameMessage implicit;
  EXPECT_EQ(numbering.number(implicit), 0u);
  FrameMessage five{.sequence = 5};
  EXPECT_EQ(numbering.number(five), 5u);
  FrameMessage three{.sequence = 3};
  EXPECT_EQ(numbering.number(three), 3u);
  FrameMessage next;
  EXPECT_EQ(numbering.number(next), 6u);
  EXPECT_EQ(next.sequence, 6u);
  numbering.reset();
  FrameMessage after_reset;
  EXPECT_EQ(numbering.number(after_reset), 0u);
  FrameMessage last{.sequence = std::numeric_limits<std::uint64_t>::max()};
  numbering.number(last);
  FrameMessage beyond;
  EXPECT_EQ(numbering.number(beyond), std::numeric_limits<std::uint64_t>::max());
}

TEST(Encode, DroppedAndErrorAreExact) {
  EXPECT_EQ(encode_dropped(3, 3, "lost"), R"({"type":"dropped","sequence":3,"reason":"lost"})");
  EXPECT_EQ(encode_dropped(3, 2000, "lost"), R"({"type":"dropped","sequence":3,"reason":"lost","last_sequence":2000})");
  EXPECT_EQ(encode_error("bad_json", "say \"hi\""), R"({"type":"error","code":"bad_json","message":"say \"hi\""})");
}

TEST(Encode, RoundSignificant) {
  EXPECT_EQ(round_significant(0.12345678), 0.123457);
  EXPECT_EQ(round_significant(-98765.4321), -98765.4);
  EXPECT_EQ(round_significant(1.0e-7 * 1.23456789), 1.23457e-7);
  EXPECT_EQ(round_significant(0.0), 0.0);
  EXPECT_TRUE(std::isnan(round_significant(std::nan(""))));
  EXPECT_EQ(json(round_significant(0.1f)).dump(), "0.1");  // A float's 0.1 is 0.100000001490116...
}

TEST(Encode, HelloCarriesLimitsAndSettings) {
  Limits limits;
  limits.max_sessions = 3;
  limits.gap_timeout = std::chrono::milliseconds{75};
  const json hello = json::parse(encode_hello("s-1", limits, StreamSettings{}));
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["session"], "s-1");
  EXPECT_EQ(hello["limits"]["gap_timeout_ms"], 75);
  EXPECT_EQ(hello["limits"]["max_message_bytes"], limits.max_message_bytes);
  EXPECT_EQ(hello["config"]["pose"], "full");
  EXPECT_EQ(hello["config"]["drop_policy"], "latest");
}

TEST(Encode, ResultSchema) {
  pose::Pose pose;
  pose.score = 0.75f;
  for (std::size_t i = 0; i < pose.landmarks.size(); ++i) {
    pose.landmarks[i] = {0.5f, 0.25f, -0.125f, 0.9f, 1.0f};
    pose.world_landmarks[i] = {0.0625f, -0.5f, 2.0f, 0.9f, 1.0f};
  }
  pose.landmarks[4].x = 0.123456789f;
  hands::Hand hand;
  hand.handedness = "Left";
  hand.score = 0.5f;
  hand.landmarks.fill({0.25f, 0.5f, 0.0f});
  const std::vector<hands::Hand> hands_found = {hand, hand};
  ResultView view{.sequence = 9, .timestamp_us = 123, .image_width = 640, .image_height = 480, .pose = &pose,
                  .hands = hands_found, .times = {.queue_ms = 1.23456, .decode_ms = 2, .pose_ms = 3, .hands_ms = 4, .total_ms = 10.0004}};
  const std::string text = encode_result(view);
  EXPECT_EQ(text.rfind(R"({"type":"result","sequence":9,"timestamp_us":123,"image":{"width":640,"height":480},)", 0), 0u)
      << text;
  const json result = json::parse(text);
  ASSERT_EQ(result["pose"]["landmarks"].size(), 33u);
  EXPECT_EQ(result["pose"]["landmarks"][0], json::parse("[0.5,0.25,-0.125,0.9,1.0]"));
  EXPECT_EQ(result["pose"]["landmarks"][4][0], 0.123457);
  EXPECT_EQ(result["pose"]["world_landmarks"][0], json::parse("[0.0625,-0.5,2.0]"));
  EXPECT_EQ(result["pose"]["score"], 0.75);
  ASSERT_EQ(result["hands"].size(), 2u);
  EXPECT_EQ(result["hands"][1]["handedness"], "Left");
  ASSERT_EQ(result["hands"][1]["landmarks"].size(), 21u);
  EXPECT_EQ(result["hands"][1]["landmarks"][20], json::parse("[0.25,0.5,0.0]"));
  EXPECT_EQ(result["timing_ms"], json::parse(R"({"queue":1.235,"decode":2,"pose":3,"hands":4,"total":10.0})"));

  view.pose = nullptr;
  view.hands = {};
  const json empty = json::parse(encode_result(view));
  EXPECT_TRUE(empty["pose"].is_null());
  EXPECT_EQ(empty["hands"], json::array());
}

}  // namespace
}  // namespace posestream::server
