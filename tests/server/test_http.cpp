// The HTTP side of a running server: health, metrics, static files, /v1/detect and refused upgrades.
#include "server/server_test_support.h"

#include <unistd.h>

#include <cmath>
#include <fstream>

#include "golden/golden.h"

namespace posestream::server::testing {
namespace {

class Http : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    web_ = std::filesystem::temp_directory_path() / ("posestream_http_" + std::to_string(::getpid()));
    std::filesystem::create_directories(web_);
    std::ofstream(web_ / "index.html") << "<!doctype html><title>test</title>";
    std::ofstream(web_ / "client.mjs") << "export const x = 1;\n";
    ServerOptions options = test_options();
    options.web_dir = web_;
    options.limits.max_message_bytes = 64 * 1024;
    server_ = std::make_unique<RunningServer>(options);
  }
  static void TearDownTestSuite() {
    server_.reset();
    std::filesystem::remove_all(web_);
  }
  static std::uint16_t port() { return server_->port(); }

  static inline std::filesystem::path web_;
  static inline std::unique_ptr<RunningServer> server_;
};

TEST_F(Http, Healthz) {
  const HttpReply reply = http_request(port(), http::verb::get, "/healthz");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type, "application/json");
  const json health = json::parse(reply.body);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["workers"], 2);
}

TEST_F(Http, MetricsInPrometheusTextFormat) {
  const HttpReply reply = http_request(port(), http::verb::get, "/metrics");
  EXPECT_EQ(reply.status, 200u);
  EXPECT_EQ(reply.content_type.rfind("text/plain; version=0.0.4", 0), 0u);
  for (const char* name : {"# TYPE posestream_frames_total counter", "posestream_frames_total{outcome=\"lost\"}",
                           "# TYPE posestream_stage_seconds histogram", "posestream_end_to_end_seconds_bucket",
                           "posestream_sessions ", "posestream_queue_depth{queue=\"worker\"}",
                           "posestream_write_queue_bytes ", "# TYPE posestream_model_runs_total counter",
                           "posestream_model_runs_total{model=\"pose_detector\"}",
                           "posestream_poses_per_frame_bucket"}) {
    EXPECT_NE(reply.body.find(name), std::string::npos) << name;
  }
  // The server's resident memory: a loaded model set alone is megabytes.
  const std::string resident = "\nprocess_resident_memory_bytes ";
  const std::size_t at = reply.body.find(resident);
  ASSERT_NE(at, std::string::npos);
  EXPECT_GT(std::stod(reply.body.substr(at + resident.size())), 1e6);
}

TEST_F(Http, StaticFilesWithTypesAndNoTraversal) {
  const HttpReply index = http_request(port(), http::verb::get, "/");
  EXPECT_EQ(index.status, 200u);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(index.body, "<!doctype html><title>test</title>");
  const HttpReply module = http_request(port(), http::verb::get, "/client.mjs");
  EXPECT_EQ(module.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(module.body, "export const x = 1;\n");
  const HttpReply head = http_request(port(), http::verb::head, "/client.mjs");
  EXPECT_EQ(head.status, 200u);
  EXPECT_EQ(head.content_length, "20");
  EXPECT_EQ(head.body, "");
  for (const char* target : {"/../CMakeLists.txt", "/%2e%2e/etc/passwd", "/nothing.js", "/.hidden"}) {
    EXPECT_EQ(http_request(port(), http::verb::get, target).status, 404u) << target;
  }
}

TEST_F(Http, WrongMethodsAndPaths) {
  EXPECT_EQ(http_request(port(), http::verb::post, "/healthz").status, 405u);
  EXPECT_EQ(http_request(port(), http::verb::get, "/v1/detect").status, 405u);
  EXPECT_EQ(http_request(port(), http::verb::delete_, "/").status, 405u);
}

TEST_F(Http, DetectRefusesBadRequests) {
  EXPECT_EQ(http_request(port(), http::verb::post, "/v1/detect").status, 400u);
  const Bytes image = jpeg(64, 48);
  const std::string body(image.begin(), image.end());
  const HttpReply bad_query = http_request(port(), http::verb::post, "/v1/detect?pose=enormous", body);
  EXPECT_EQ(bad_query.status, 400u);
  EXPECT_EQ(json::parse(bad_query.body)["code"], "bad_query");
  const HttpReply not_an_image = http_request(port(), http::verb::post, "/v1/detect", "definitely not a JPEG");
  EXPECT_EQ(not_an_image.status, 422u);
  EXPECT_EQ(json::parse(not_an_image.body)["code"], "invalid_image");
  // Over max_message_bytes (64 KiB here): refused before the body is read.
  EXPECT_EQ(http_request(port(), http::verb::post, "/v1/detect", std::string(100 * 1024, 'x')).status, 413u);
}

TEST_F(Http, DetectDecodesWithModelsOff) {
  const Bytes image = jpeg(80, 60);
  const HttpReply reply =
      http_request(port(), http::verb::post, "/v1/detect?pose=off&hands=off", std::string(image.begin(), image.end()));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const json result = json::parse(reply.body);
  EXPECT_EQ(result["image"], json::parse(R"({"width":80,"height":60})"));
  EXPECT_TRUE(result["pose"].is_null());
  EXPECT_EQ(result["hands"], json::array());
  EXPECT_FALSE(result.contains("sequence"));  // One image: no stream fields.
}

TEST_F(Http, WebSocketUpgradeOnlyAtWs) {
  EXPECT_EQ(http_request(port(), http::verb::get, "/elsewhere", {}, /*websocket_upgrade=*/true).status, 404u);
}

// The photo's person, found through the HTTP endpoint with the real models; MediaPipe's own landmarks
// for this photo are the pose tests' business, here the server only has to carry them.
TEST(HttpModels, DetectFindsThePersonInAPhoto) {
  const std::filesystem::path photo = posestream::testing::test_data_dir() / "images" / "messi5.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no " << photo;
  RunningServer server;
  const Bytes image = read_bytes(photo);
  const HttpReply reply = http_request(server.port(), http::verb::post, "/v1/detect?pose=lite&hands=off",
                                       std::string(image.begin(), image.end()));
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const json result = json::parse(reply.body);
  ASSERT_TRUE(result["pose"].is_object());
  EXPECT_EQ(result["pose"]["landmarks"].size(), 33u);
  EXPECT_EQ(result["pose"]["world_landmarks"].size(), 33u);
  EXPECT_TRUE(result["pose"]["angles"].is_object());
  for (const json& landmark : result["pose"]["landmarks"]) {
    EXPECT_EQ(landmark.size(), 5u);
    EXPECT_GT(landmark[0].get<double>(), -0.5);
    EXPECT_LT(landmark[0].get<double>(), 1.5);
  }
}

// POST /v1/detect answers what `posestream detect` prints: MediaPipe's HandLandmarker, whose palm
// detector finds the hands, so its hands are MediaPipe's own for this photo. hands_from_pose=true asks
// for the stream's pose-assisted hands instead; anything else is a bad query.
TEST(HttpModels, DetectFindsMediaPipesHandsUnlessAskedToPlaceThemFromThePose) {
  const golden::ImageResult expected = golden::load_image_result("messi5", "hand_full");
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(photo, expected.image_file);
  RunningServer server;
  const Bytes image = read_bytes(photo);
  const std::string body(image.begin(), image.end());
  const HttpReply reply = http_request(server.port(), http::verb::post, "/v1/detect?pose=full&hands=full", body);
  ASSERT_EQ(reply.status, 200u) << reply.body;
  const json hands = json::parse(reply.body)["hands"];
  ASSERT_EQ(hands.size(), expected.people.size());
  for (std::size_t i = 0; i < hands.size(); ++i) {
    EXPECT_EQ(hands[i]["handedness"], expected.people[i].handedness->label) << i;
    const json& wrist = hands[i]["landmarks"][0];
    const vision::Landmark& theirs = expected.people[i].landmarks[0];
    EXPECT_LT(std::hypot(wrist[0].get<double>() - theirs.x, wrist[1].get<double>() - theirs.y), 0.02) << i;
  }
  const HttpReply from_pose =
      http_request(server.port(), http::verb::post, "/v1/detect?pose=full&hands=full&hands_from_pose=true", body);
  EXPECT_EQ(from_pose.status, 200u) << from_pose.body;
  const HttpReply bad = http_request(server.port(), http::verb::post, "/v1/detect?hands_from_pose=maybe", body);
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("hands_from_pose"), std::string::npos) << bad.body;
}

}  // namespace
}  // namespace posestream::server::testing
