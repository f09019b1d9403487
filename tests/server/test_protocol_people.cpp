// Several people on the wire (issue 16): the num_poses / detector_interval_ms config fields, the server's
// max_num_poses limit, the people result shape, and the single-person result unchanged byte for byte.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "server/protocol.h"

namespace posestream::server {
namespace {

using nlohmann::json;

template <typename Expected>
Expected as(const ClientMessage& message) {
  EXPECT_TRUE(std::holds_alternative<Expected>(message)) << "variant index " << message.index();
  return std::holds_alternative<Expected>(message) ? std::get<Expected>(message) : Expected{};
}

pose::Pose pose_at(float x) {
  pose::Pose pose;
  pose.score = 0.75f;
  for (std::size_t i = 0; i < pose.landmarks.size(); ++i) {
    pose.landmarks[i] = {x, 0.25f, -0.125f, 0.9f, 1.0f};
    pose.world_landmarks[i] = {0.0625f, -0.5f, 2.0f, 0.9f, 1.0f};
  }
  return pose;
}

hands::Hand hand_at(float x, const char* handedness) {
  hands::Hand hand;
  hand.handedness = handedness;
  hand.score = 0.5f;
  hand.landmarks.fill({x, 0.5f, 0.0f});
  return hand;
}

TEST(PeopleConfig, NumPosesAndDetectorIntervalAreRead) {
  const ConfigMessage config =
      as<ConfigMessage>(parse_text_message(R"({"type":"config","num_poses":4,"detector_interval_ms":250.5})"));
  EXPECT_EQ(config.num_poses, 4);
  EXPECT_EQ(config.detector_interval_ms, 250.5);
  StreamSettings settings;
  settings.apply(config);
  EXPECT_EQ(settings.num_poses, 4);
  const stream::StreamConfig stream_config = settings.stream_config();
  EXPECT_EQ(stream_config.num_poses, 4);
  EXPECT_EQ(stream_config.detector_interval_ms, 250.5);
  // 2.0 is the integer 2 (JavaScript clients send numbers).
  EXPECT_EQ(as<ConfigMessage>(parse_text_message(R"({"type":"config","num_poses":2.0})")).num_poses, 2);
}

TEST(PeopleConfig, DefaultsKeepOnePerson) {
  const StreamSettings settings;
  EXPECT_EQ(settings.num_poses, 1);
  EXPECT_EQ(settings.stream_config(), stream::StreamConfig{});
  EXPECT_EQ(settings.stream_config().detector_interval_ms, 500);
}

TEST(PeopleConfig, NonIntegersAreBadConfigNamingTheField) {
  for (const char* value : {"\"4\"", "2.5", "true", "null", "1e300", "-1e300", "[4]", "18446744073709551615"}) {
    const BadMessage bad =
        as<BadMessage>(parse_text_message(std::string(R"({"type":"config","num_poses":)") + value + "}"));
    EXPECT_EQ(bad.code, "bad_config") << value;
    EXPECT_NE(bad.message.find("num_poses"), std::string::npos) << bad.message;
  }
  const BadMessage bad = as<BadMessage>(parse_text_message(R"({"type":"config","detector_interval_ms":"soon"})"));
  EXPECT_EQ(bad.code, "bad_config");
  EXPECT_NE(bad.message.find("detector_interval_ms"), std::string::npos) << bad.message;
}

TEST(PeopleConfig, OutOfRangeValuesAreRefusedByTheStreamConfigOrTheServerLimit) {
  Limits limits;
  limits.max_num_poses = 4;
  StreamSettings settings;
  for (int bad : {0, -3, pose::kMaxNumPoses + 1}) {
    settings.num_poses = bad;
    const std::optional<std::string> error = stream::validate(settings.stream_config());
    ASSERT_TRUE(error.has_value()) << bad;
    EXPECT_EQ(*error, "stream config: num_poses " + std::to_string(bad) + " is outside [1, 8]");
  }
  settings.num_poses = 5;  // Allowed by the stream layer, over this server's limit.
  EXPECT_FALSE(stream::validate(settings.stream_config()).has_value());
  EXPECT_EQ(check_settings(settings, limits), "num_poses 5 is above this server's limit max_num_poses 4");
  settings.num_poses = 4;
  EXPECT_FALSE(check_settings(settings, limits).has_value());
  settings.detector_interval_ms = -1;
  EXPECT_EQ(stream::validate(settings.stream_config()), "stream config: detector_interval_ms -1.000000 is outside [0, 60000]");
}

TEST(PeopleLimits, MaxNumPosesIsValidatedAndInTheHello) {
  Limits limits;
  EXPECT_EQ(limits.max_num_poses, 4u);
  limits.max_num_poses = 0;
  EXPECT_EQ(validate(limits), "limit max_num_poses = 0 is outside [1, 8]");
  limits.max_num_poses = 9;
  EXPECT_TRUE(validate(limits).has_value());
  limits.max_num_poses = 3;
  StreamSettings settings;
  settings.num_poses = 2;
  const json hello = json::parse(encode_hello("s-1", limits, settings));
  EXPECT_EQ(hello["limits"]["max_num_poses"], 3);
  EXPECT_EQ(hello["config"]["num_poses"], 2);
  EXPECT_EQ(hello["config"]["detector_interval_ms"], 500);
}

// num_poses 1: exactly the bytes of before issue 16 (this literal is what the encoder wrote then), even
// with people left in the result by mistake.
TEST(PeopleResult, SinglePersonShapeIsUnchanged) {
  stream::FrameResult result;
  result.width = 640;
  result.height = 480;
  result.hands.push_back(hand_at(0.25f, "Left"));
  result.timing = {.decode_ms = 2, .pose_ms = 3, .hands_ms = 4, .total_ms = 10};
  result.people.push_back({7, pose_at(0.5f), {}});  // Ignored: multi_person is false.
  const std::string text = encode_frame_result(9, 123, result);
  std::string landmarks;
  for (int i = 0; i < 21; ++i) landmarks += std::string(i ? "," : "") + "[0.25,0.5,0.0]";
  std::string world;
  for (int i = 0; i < 21; ++i) world += std::string(i ? "," : "") + "[0.0,0.0,0.0]";
  EXPECT_EQ(text, R"({"type":"result","sequence":9,"timestamp_us":123,"image":{"width":640,"height":480},"pose":null,)"
                  R"("hands":[{"handedness":"Left","score":0.5,"landmarks":[)" + landmarks +
                      R"(],"world_landmarks":[)" + world +
                      R"(]}],"timing_ms":{"queue":0.0,"decode":2.0,"pose":3.0,"hands":4.0,"total":10.0}})");
  result.pose = pose_at(0.5f);
  const json with_pose = json::parse(encode_frame_result(9, 123, result));
  std::vector<std::string> keys;
  for (const auto& [key, value] : with_pose.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"hands", "image", "pose", "sequence", "timestamp_us", "timing_ms", "type"}));
}

TEST(PeopleResult, SeveralPeopleEachWithTheirHandsAndTheRunCounts) {
  stream::FrameResult result;
  result.width = 640;
  result.height = 480;
  result.multi_person = true;
  result.people.push_back({3, pose_at(0.25f), {hand_at(0.2f, "Left"), hand_at(0.3f, "Right")}});
  result.people.push_back({5, pose_at(0.75f), {}});
  result.hands.push_back(hand_at(0.9f, "Right"));  // Nobody's.
  result.timing.pose_detector_runs = 3;  // The whole frame and two tiles.
  result.timing.pose_landmark_runs = 3;
  result.timing.palm_detector_runs = 0;
  result.timing.hand_landmark_runs = 4;
  const std::string text = encode_frame_result(9, 123, result);
  const json answer = json::parse(text);
  EXPECT_TRUE(answer["pose"].is_null());
  ASSERT_EQ(answer["hands"].size(), 1u);
  EXPECT_FALSE(answer["hands"][0].contains("person"));
  ASSERT_EQ(answer["people"].size(), 2u);
  EXPECT_EQ(answer["people"][0]["id"], 3);
  EXPECT_EQ(answer["people"][1]["id"], 5);
  // A person's pose is the very object a single-person answer carries.
  stream::FrameResult single;
  single.pose = pose_at(0.25f);
  EXPECT_EQ(answer["people"][0]["pose"], json::parse(encode_frame_result(9, 123, single))["pose"]);
  ASSERT_EQ(answer["people"][0]["hands"].size(), 2u);
  for (const json& hand : answer["people"][0]["hands"]) EXPECT_EQ(hand["person"], 3);
  EXPECT_EQ(answer["people"][0]["hands"][1]["handedness"], "Right");
  EXPECT_EQ(answer["people"][1]["hands"], json::array());
  EXPECT_EQ(answer["runs"],
            json::parse(R"({"pose_detector":3,"pose_landmarks":3,"palm_detector":0,"hand_landmarks":4})"));
  // Order: the single-person keys first, people before timing, runs last.
  EXPECT_NE(text.find(R"("hands":[{"handedness":"Right")"), std::string::npos);
  EXPECT_LT(text.find(R"("people":)"), text.find(R"("timing_ms":)"));
  EXPECT_GT(text.find(R"("runs":)"), text.find(R"("timing_ms":)"));
}

TEST(PeopleResult, NobodyInViewIsAnEmptyListAndOneImageHasAngles) {
  stream::FrameResult result;
  result.multi_person = true;
  const json answer = json::parse(encode_frame_result(0, 0, result));
  EXPECT_EQ(answer["people"], json::array());
  EXPECT_TRUE(answer["pose"].is_null());
  result.people.push_back({1, pose_at(0.5f), {}});
  const json image = json::parse(encode_image_result(result));
  EXPECT_FALSE(image.contains("sequence"));
  EXPECT_TRUE(image["people"][0]["pose"].contains("angles"));
}

}  // namespace
}  // namespace posestream::server
