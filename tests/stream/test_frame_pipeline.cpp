// FramePipeline and ModelLibrary on real models: one frame through decode, pose and pose-assisted hands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "golden/golden.h"
#include "stream/stream.h"
#include "test_paths.h"

namespace posestream::stream {
namespace {

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A person-free JPEG: a smooth gradient, so the detectors run and find nothing.
std::vector<std::uint8_t> gradient_jpeg(int width, int height) {
  cv::Mat image(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uchar>(x * 255 / width), static_cast<uchar>(y * 255 / height), 90);
    }
  }
  std::vector<std::uint8_t> bytes;
  cv::imencode(".jpg", image, bytes);
  return bytes;
}

std::shared_ptr<ModelLibrary> shared_library() {
  static const auto library = std::make_shared<ModelLibrary>(testing::models_dir());
  return library;
}

// One pipeline for the suite: runtimes are what is costly, and reusing them is the point.
FramePipeline& shared_pipeline() {
  static FramePipeline pipeline(shared_library());
  return pipeline;
}

double distance(const vision::Landmark& a, const vision::Landmark& b) { return std::hypot(a.x - b.x, a.y - b.y); }

class PipelineOnPhoto : public ::testing::TestWithParam<const char*> {};

// MediaPipe's IMAGE-mode results are the independent reference. Our hands come from the pose's wrists
// rather than from the palm detector, so they need not find the same set of hands: every photo here has
// at least one hand both find, and that one must agree.
TEST_P(PipelineOnPhoto, GivesPoseAndHandsNearMediaPipeWithTimings) {
  const std::string stem = GetParam();
  const golden::ImageResult expected_pose = golden::load_image_result(stem, "pose_full");
  const golden::ImageResult expected_hands = golden::load_image_result(stem, "hand_full");
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, expected_pose.image_file);
  StreamState state;
  state.config.static_image_mode = true;

  const FrameResult result = shared_pipeline().run(read_bytes(path), 1000, state);

  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.width, expected_pose.width);
  EXPECT_EQ(result.height, expected_pose.height);
  ASSERT_TRUE(result.pose.has_value());
  ASSERT_EQ(expected_pose.people.size(), 1u);
  for (size_t i = 0; i < pose::kPoseLandmarkCount; ++i) {
    EXPECT_LT(distance(result.pose->landmarks[i], expected_pose.people[0].landmarks[i]), 0.02) << "landmark " << i;
  }
  ASSERT_FALSE(result.hands.empty());
  bool matched = false;
  for (const hands::Hand& hand : result.hands) {
    for (const golden::Person& person : expected_hands.people) {
      matched |= person.handedness && person.handedness->label == hand.handedness &&
                 distance(hand.landmarks[0], person.landmarks[0]) < 0.05;
    }
  }
  EXPECT_TRUE(matched) << "no hand agrees with MediaPipe's";

  const FrameTiming& timing = result.timing;
  EXPECT_GT(timing.decode_ms, 0);
  EXPECT_GT(timing.pose_ms, 0);
  EXPECT_GT(timing.hands_ms, 0);
  EXPECT_GE(timing.total_ms, timing.decode_ms + timing.pose_ms + timing.hands_ms);
  EXPECT_EQ(timing.queue_ms, 0);  // The Session's to fill.
  EXPECT_EQ(timing.pose_detector_runs, 1);  // IMAGE mode runs it on every frame.
  EXPECT_EQ(timing.pose_landmark_runs, 1);
  EXPECT_EQ(timing.poses, 1);
  EXPECT_EQ(timing.palm_detector_runs, 0) << "with a pose in view the wrists place the hands";
  EXPECT_GE(timing.hand_landmark_runs, static_cast<int>(result.hands.size()));
}

INSTANTIATE_TEST_SUITE_P(Photos, PipelineOnPhoto, ::testing::Values("messi5", "gesture_rock_18e2"));

TEST(FramePipeline, WithoutPoseTheHandsUseThePalmDetector) {
  StreamState state;
  state.config.pose.reset();
  state.config.static_image_mode = true;
  const FrameResult result = shared_pipeline().run(gradient_jpeg(200, 150), 1, state);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_FALSE(result.pose.has_value());
  EXPECT_EQ(result.timing.pose_ms, 0);
  EXPECT_EQ(result.timing.pose_detector_runs, 0);
  EXPECT_EQ(result.timing.pose_landmark_runs, 0);
  EXPECT_EQ(result.timing.poses, 0);
  EXPECT_EQ(result.timing.palm_detector_runs, 1);
  EXPECT_GT(result.timing.hands_ms, 0);
}

TEST(FramePipeline, EverythingOffStillDecodes) {
  StreamState state;
  state.config.pose.reset();
  state.config.hands.reset();
  const FrameResult result = shared_pipeline().run(gradient_jpeg(64, 48), 1, state);
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.width, 64);
  EXPECT_EQ(result.height, 48);
  EXPECT_FALSE(result.pose.has_value());
  EXPECT_TRUE(result.hands.empty());
  EXPECT_EQ(result.timing.pose_ms + result.timing.hands_ms, 0);
}

// VIDEO mode tracks from the previous frame's landmarks, so the detector runs only on a stream's first
// frame. Interleaving two streams on one pipeline shows the tracking lives in StreamState.
TEST(FramePipeline, TrackingStateLivesInTheStreamNotThePipeline) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, "messi5.jpg");
  const std::vector<std::uint8_t> bytes = read_bytes(path);
  StreamState first;
  StreamState second;
  first.config.hands.reset();
  second.config.hands.reset();
  FramePipeline& pipeline = shared_pipeline();
  EXPECT_EQ(pipeline.run(bytes, 1000, first).timing.pose_detector_runs, 1);
  EXPECT_EQ(pipeline.run(bytes, 2000, first).timing.pose_detector_runs, 0);
  EXPECT_EQ(pipeline.run(bytes, 1000, second).timing.pose_detector_runs, 1);
  EXPECT_EQ(pipeline.run(bytes, 3000, first).timing.pose_detector_runs, 0);
  first.reset_tracking();
  EXPECT_EQ(pipeline.run(bytes, 4000, first).timing.pose_detector_runs, 1);
}

TEST(FramePipeline, GarbageBytesAreAnErrorAndTheStreamGoesOn) {
  StreamState state;
  state.config.static_image_mode = true;
  const std::vector<std::uint8_t> garbage = {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'};
  const FrameResult bad = shared_pipeline().run(garbage, 1, state);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error.rfind("decode: ", 0), 0u) << bad.error;
  EXPECT_FALSE(bad.pose.has_value());
  EXPECT_GE(bad.timing.total_ms, bad.timing.decode_ms);

  std::vector<std::uint8_t> truncated = gradient_jpeg(64, 48);
  truncated.resize(truncated.size() / 2);
  EXPECT_FALSE(shared_pipeline().run(truncated, 2, state).ok());

  const FrameResult good = shared_pipeline().run(gradient_jpeg(64, 48), 3, state);
  EXPECT_TRUE(good.ok()) << good.error;
}

TEST(FramePipeline, DecodeLimitsRefuseLargeImagesBeforeTracking) {
  PipelineOptions options;
  options.decode_limits.max_pixels = 1000;
  FramePipeline pipeline(shared_library(), options);
  StreamState state;
  const FrameResult result = pipeline.run(gradient_jpeg(64, 48), 1, state);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("max_pixels"), std::string::npos) << result.error;
  EXPECT_EQ(result.timing.pose_ms, 0);
}

TEST(FramePipeline, MissingModelsAreAFrameErrorNamingTheFile) {
  FramePipeline pipeline(std::make_shared<ModelLibrary>("/nonexistent-models"));
  StreamState state;
  const FrameResult result = pipeline.run(gradient_jpeg(64, 48), 1, state);
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("pose_detection.tflite"), std::string::npos) << result.error;
  EXPECT_THROW(pipeline.prewarm(StreamConfig{}), engine::ModelError);
}

TEST(FramePipeline, RefusesBadOptions) {
  EXPECT_THROW(FramePipeline(nullptr), std::invalid_argument);
  PipelineOptions options;
  options.threads_per_runtime = 0;
  EXPECT_THROW(FramePipeline(shared_library(), options), std::invalid_argument);
  options.threads_per_runtime = 2;
  options.inference_pool = std::make_shared<engine::ThreadPool>(2);
  EXPECT_THROW(FramePipeline(shared_library(), options), std::invalid_argument);
}

TEST(StreamConfig, ValidateNamesTheSettingAndValue) {
  EXPECT_FALSE(validate(StreamConfig{}).has_value());
  StreamConfig config;
  config.max_num_hands = 0;
  EXPECT_EQ(validate(config).value_or(""), "stream config: max_num_hands 0 is outside [1, 4]");
  config.max_num_hands = kMaxNumHands + 1;
  EXPECT_TRUE(validate(config).has_value());
  config = StreamConfig{};
  config.min_hand_presence_confidence = 1.5f;
  EXPECT_NE(validate(config).value_or("").find("min_hand_presence_confidence 1.5"), std::string::npos);
  config = StreamConfig{};
  config.min_pose_detection_confidence = std::nanf("");
  EXPECT_NE(validate(config).value_or("").find("min_pose_detection_confidence"), std::string::npos);
}

TEST(StreamConfig, OptionsFollowTheConfig) {
  StreamConfig config;
  config.pose = pose::PoseModel::heavy;
  config.hands = hands::HandModel::lite;
  config.smoothing = false;
  config.hand_smoothing = true;
  config.static_image_mode = true;
  config.max_num_hands = 1;
  config.min_pose_presence_confidence = 0.25f;
  config.min_hand_detection_confidence = 0.75f;
  const pose::PoseOptions pose = pose_options(config);
  EXPECT_EQ(pose.model, pose::PoseModel::heavy);
  EXPECT_FALSE(pose.smoothing);
  EXPECT_TRUE(pose.static_image_mode);
  EXPECT_EQ(pose.min_tracking_confidence, 0.25f);
  const hands::HandOptions hands = hand_options(config);
  EXPECT_EQ(hands.model, hands::HandModel::lite);
  EXPECT_TRUE(hands.smoothing);
  EXPECT_TRUE(hands.static_image_mode);
  EXPECT_EQ(hands.max_num_hands, 1);
  EXPECT_EQ(hands.min_detection_confidence, 0.75f);
}

TEST(ModelLibrary, LoadsEachFileOnceAndSharesTheDetector) {
  ModelLibrary library(testing::models_dir());
  EXPECT_EQ(library.loaded_count(), 0u);
  const pose::PoseModels lite = library.pose(pose::PoseModel::lite);
  const pose::PoseModels full = library.pose(pose::PoseModel::full);
  EXPECT_EQ(lite.detector, full.detector);
  EXPECT_NE(lite.landmarks, full.landmarks);
  EXPECT_EQ(library.pose(pose::PoseModel::lite).landmarks, lite.landmarks);
  EXPECT_EQ(library.loaded_count(), 3u);
}

TEST(ModelLibrary, ConcurrentFirstUseLoadsOnce) {
  ModelLibrary library(testing::models_dir());
  std::vector<hands::HandModels> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&library, &seen, i] { seen[i] = library.hands(hands::HandModel::lite); });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& models : seen) {
    EXPECT_EQ(models.variant, hands::HandModel::lite);
    EXPECT_EQ(models.palm_detector, seen[0].palm_detector);
    EXPECT_EQ(models.landmarks, seen[0].landmarks);
  }
  EXPECT_EQ(library.loaded_count(), 2u);
}

TEST(ModelLibrary, AFailedLoadThrowsNamingTheFileAndIsNotRemembered) {
  ModelLibrary library("/nonexistent-models");
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      library.hands(hands::HandModel::full);
      ADD_FAILURE() << "no exception";
    } catch (const engine::ModelError& error) {
      EXPECT_NE(std::string(error.what()).find("palm_detection_full.tflite"), std::string::npos) << error.what();
    }
  }
  EXPECT_EQ(library.loaded_count(), 0u);
}

TEST(ModelLibrary, HandModelNamesRoundTrip) {
  for (hands::HandModel model : {hands::HandModel::lite, hands::HandModel::full}) {
    EXPECT_EQ(parse_hand_model(hand_model_name(model)), model);
  }
  EXPECT_FALSE(parse_hand_model("heavy").has_value());
  EXPECT_FALSE(parse_hand_model("").has_value());
}

}  // namespace
}  // namespace posestream::stream
