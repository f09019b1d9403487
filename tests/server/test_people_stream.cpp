// Several people over /ws (issue 16): num_poses in a stream's config, the server's max_num_poses limit,
// `serve --num-poses` as the stream default, and POST /v1/detect's num_poses, on MediaPipe's multi-person frames.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "server_test_support.h"

namespace posestream::server::testing {
namespace {

std::filesystem::path multi_frame(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "frame_%03d.jpg", index);
  return posestream::testing::shared_dir() / "golden" / "multi" / "sequences" / "frames_seq_aic_ff945ae2" / name;
}

#define SKIP_WITHOUT_MULTI_FRAMES() \
  if (!std::filesystem::exists(multi_frame(2))) GTEST_SKIP() << "no " << multi_frame(2).string()

// Every person has an id, a 33-landmark pose and hands that name that id; the top-level pose is null.
void expect_people_shape(const json& result, std::size_t at_least) {
  ASSERT_EQ(result.value("type", "result"), "result") << result.dump().substr(0, 200);
  EXPECT_TRUE(result["pose"].is_null());
  ASSERT_TRUE(result["people"].is_array()) << result.dump().substr(0, 200);
  EXPECT_GE(result["people"].size(), at_least);
  for (const json& person : result["people"]) {
    ASSERT_TRUE(person["id"].is_number_integer());
    EXPECT_EQ(person["pose"]["landmarks"].size(), 33u);
    for (const json& hand : person["hands"]) EXPECT_EQ(hand["person"], person["id"]);
  }
  EXPECT_GE(result["runs"]["pose_landmarks"].get<int>(), static_cast<int>(result["people"].size()));
}

TEST(PeopleStream, ConfigNumPosesGivesPeopleWithTheirHands) {
  SKIP_WITHOUT_MULTI_FRAMES();
  RunningServer server;
  WsClient client(server.port());
  const json hello = *client.read();
  EXPECT_EQ(hello["limits"]["max_num_poses"], 4);
  EXPECT_EQ(hello["config"]["num_poses"], 1);
  client.send_text(R"({"type":"config","num_poses":4,"drop_policy":"all"})");
  std::set<std::int64_t> first_ids;
  for (int i = 0; i < 3; ++i) {
    client.send_binary(psf1(i, 1000 + i * 33'333, read_bytes(multi_frame(i))));
    const std::optional<json> result = client.read_answer();
    ASSERT_TRUE(result.has_value());
    expect_people_shape(*result, 2);
    std::set<std::int64_t> ids;
    for (const json& person : (*result)["people"]) ids.insert(person["id"].get<std::int64_t>());
    if (i == 0) first_ids = ids;
    EXPECT_EQ(ids, first_ids) << "frame " << i << ": the same people keep their ids";
  }
  // Back to one person: today's shape, no people.
  client.send_text(R"({"type":"config","num_poses":1})");
  client.send_binary(psf1(3, 200'000, read_bytes(multi_frame(3))));
  const json single = *client.read_answer();
  EXPECT_EQ(single["type"], "result");
  EXPECT_FALSE(single.contains("people"));
  EXPECT_FALSE(single.contains("runs"));
  EXPECT_TRUE(single["pose"].is_object());
}

TEST(PeopleStream, NumPosesOverTheLimitIsRefusedAndTheStreamKeepsItsSettings) {
  ServerOptions options = test_options();
  options.limits.max_num_poses = 2;
  RunningServer server(options);
  WsClient client(server.port());
  EXPECT_EQ((*client.read())["limits"]["max_num_poses"], 2);
  client.send_text(R"({"type":"config","num_poses":3,"pose":"off","hands":"off"})");
  const json refused = *client.read();
  EXPECT_EQ(refused["type"], "error");
  EXPECT_EQ(refused["code"], "bad_config");
  EXPECT_EQ(refused["message"], "num_poses 3 is above this server's limit max_num_poses 2");
  client.send_text(R"({"type":"config","num_poses":0})");
  const json zero = *client.read();
  EXPECT_EQ(zero["code"], "bad_config");
  EXPECT_EQ(zero["message"], "stream config: num_poses 0 is outside [1, 8]");
  client.send_text(R"({"type":"config","num_poses":"two"})");
  EXPECT_EQ((*client.read())["code"], "bad_config");
  // The refused config changed nothing (pose and hands are still on): a single-person answer.
  client.send_text(kDecodeOnlyConfig);
  client.send_binary(psf1(0, 10, jpeg(32, 32)));
  const json result = *client.read_answer();
  EXPECT_EQ(result["type"], "result");
  EXPECT_FALSE(result.contains("people"));
}

TEST(PeopleStream, ServeDefaultNumPosesAppliesToStreamsThatDoNotSendIt) {
  SKIP_WITHOUT_MULTI_FRAMES();
  ServerOptions options = test_options();
  options.stream_defaults.num_poses = 3;
  options.stream_defaults.detector_interval_ms = 250;
  RunningServer server(options);
  WsClient client(server.port());
  const json hello = *client.read();
  EXPECT_EQ(hello["config"]["num_poses"], 3);
  EXPECT_EQ(hello["config"]["detector_interval_ms"], 250);
  client.send_binary(psf1(0, 10, read_bytes(multi_frame(0))));
  expect_people_shape(*client.read_answer(), 2);
}

TEST(PeopleStream, ServeRefusesADefaultOverItsOwnLimit) {
  ServerOptions options = test_options();
  options.stream_defaults.num_poses = 4;
  options.limits.max_num_poses = 2;
  try {
    Server server(options);
    FAIL() << "a default num_poses above max_num_poses was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()), "serve: num_poses 4 is above this server's limit max_num_poses 2");
  }
}

TEST(PeopleStream, DetectTakesNumPosesInTheQuery) {
  SKIP_WITHOUT_MULTI_FRAMES();
  RunningServer server;
  const Bytes image = read_bytes(multi_frame(0));
  const HttpReply reply = http_request(server.port(), http::verb::post, "/v1/detect?num_poses=4",
                                       std::string(image.begin(), image.end()));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const json result = json::parse(reply.body);
  EXPECT_FALSE(result.contains("sequence"));
  expect_people_shape(result, 1);
  EXPECT_TRUE(result["people"][0]["pose"].contains("angles"));
  const HttpReply over = http_request(server.port(), http::verb::post, "/v1/detect?num_poses=5",
                                      std::string(image.begin(), image.end()));
  EXPECT_EQ(over.status, 400u);
  EXPECT_NE(over.body.find("max_num_poses 4"), std::string::npos) << over.body;
  const HttpReply junk = http_request(server.port(), http::verb::post, "/v1/detect?num_poses=x",
                                      std::string(image.begin(), image.end()));
  EXPECT_EQ(junk.status, 400u);
}

}  // namespace
}  // namespace posestream::server::testing
