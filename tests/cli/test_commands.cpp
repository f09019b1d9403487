// Black-box tests of `posestream detect`, `video` and `bench pipeline`: run the built binary, read its output.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden/golden.h"
#include "test_paths.h"

#ifndef POSESTREAM_BINARY
#error "POSESTREAM_BINARY must name the built posestream executable"
#endif

namespace posestream {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CommandRun {
  int exit_code = -1;
  std::vector<std::string> lines;  // stdout, one entry per line
  std::string errors;              // stderr
};

std::string quoted(const std::string& text) {
  std::string result = "'";
  for (char c : text) result += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return result + "'";
}

std::string read_text(const fs::path& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Each test gets its own scratch folder, removed afterwards.
class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    scratch_ = fs::temp_directory_path() / ("posestream_cli_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(scratch_);
    fs::create_directories(scratch_);
  }
  void TearDown() override { fs::remove_all(scratch_); }

  // posestream with `arguments` (already quoted), stdout and stderr captured.
  CommandRun run(const std::string& arguments) const {
    const fs::path errors = scratch_ / "stderr.txt";
    const std::string command = quoted(POSESTREAM_BINARY) + " " + arguments + " 2>" + quoted(errors.string());
    CommandRun result;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return result;
    std::string output;
    char buffer[65536];
    for (size_t count; (count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, count);
    const int status = pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.lines = split_lines(output);
    result.errors = read_text(errors);
    return result;
  }

  static std::string models_flag() { return "--models " + quoted(testing::models_dir().string()); }

  fs::path scratch_;
};

fs::path sequence_frames() { return testing::shared_dir() / "golden" / "sequences" / "frames_seq_gesture_four_06aa"; }

#define SEQUENCE_FRAMES_OR_SKIP()                                                         \
  if (!fs::is_regular_file(sequence_frames() / "frame_009.jpg")) {                        \
    GTEST_SKIP() << "golden sequence frames not found in " << sequence_frames().string(); \
  }

// The first `count` golden sequence frames, linked into `folder` with a stray non-image file.
void link_frames(const fs::path& folder, int count) {
  fs::create_directories(folder);
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%03d.jpg", i);
    fs::create_symlink(sequence_frames() / name, folder / name);
  }
  std::ofstream(folder / "notes.txt") << "not a frame\n";
}

double distance_xy(const json& ours, const vision::Landmark& theirs) {
  return std::hypot(ours[0].get<double>() - theirs.x, ours[1].get<double>() - theirs.y);
}

void expect_landmark_list(const json& list, size_t count, size_t width, const std::string& what) {
  ASSERT_TRUE(list.is_array()) << what;
  ASSERT_EQ(list.size(), count) << what;
  for (const json& landmark : list) {
    ASSERT_EQ(landmark.size(), width) << what;
    for (const json& value : landmark) EXPECT_TRUE(value.is_number()) << what;
  }
}

TEST_F(Cli, DetectPrintsMediaPipesPoseAndHandCountOnAGoldenPhoto) {
  const golden::ImageResult expected_pose = golden::load_image_result("messi5", "pose_full");
  const golden::ImageResult expected_hands = golden::load_image_result("messi5", "hand_full");
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(photo, expected_pose.image_file);

  const CommandRun result = run("detect " + models_flag() + " " + quoted(photo.string()));

  ASSERT_EQ(result.exit_code, 0) << result.errors;
  ASSERT_EQ(result.lines.size(), 1u) << result.errors;
  const json line = json::parse(result.lines[0]);
  EXPECT_EQ(line["image"]["path"], photo.string());
  EXPECT_EQ(line["image"]["width"], expected_pose.width);
  EXPECT_EQ(line["image"]["height"], expected_pose.height);
  EXPECT_FALSE(line.contains("type") || line.contains("sequence") || line.contains("timestamp_us"));
  ASSERT_TRUE(line["pose"].is_object()) << result.lines[0].substr(0, 200);
  expect_landmark_list(line["pose"]["landmarks"], 33, 5, "pose landmarks");
  expect_landmark_list(line["pose"]["world_landmarks"], 33, 3, "pose world landmarks");
  // Normalized to the image as MediaPipe's: each landmark near MediaPipe's own for this photo.
  ASSERT_EQ(expected_pose.people.size(), 1u);
  for (size_t i = 0; i < 33; ++i) {
    EXPECT_LT(distance_xy(line["pose"]["landmarks"][i], expected_pose.people[0].landmarks[i]), 0.02) << i;
  }
  EXPECT_EQ(line["pose"]["angles"].size(), 8u);
  EXPECT_TRUE(line["pose"]["angles"]["left_elbow"].is_number());

  ASSERT_EQ(line["hands"].size(), expected_hands.people.size());
  for (size_t i = 0; i < expected_hands.people.size(); ++i) {
    const json& hand = line["hands"][i];
    EXPECT_EQ(hand["handedness"], expected_hands.people[i].handedness->label);
    expect_landmark_list(hand["landmarks"], 21, 3, "hand landmarks");
    expect_landmark_list(hand["world_landmarks"], 21, 3, "hand world landmarks");
  }
  for (const char* stage : {"decode", "pose", "hands", "total"})
    EXPECT_TRUE(line["timing_ms"][stage].is_number()) << stage;
}

// Standard base64 (the mask's encoding), decoded independently of the binary's encoder.
std::vector<unsigned char> decode_base64(const std::string& text) {
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::vector<unsigned char> bytes;
  unsigned bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') break;
    bits = (bits << 6) | static_cast<unsigned>(alphabet.find(c));
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes.push_back(static_cast<unsigned char>((bits >> count) & 0xff));
    }
  }
  return bytes;
}

TEST_F(Cli, DetectWithSegmentationAddsTheRoiMask) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(photo, "messi5.jpg");

  const CommandRun result = run("detect --segmentation --hands off " + models_flag() + " " + quoted(photo.string()));

  ASSERT_EQ(result.exit_code, 0) << result.errors;
  ASSERT_EQ(result.lines.size(), 1u);
  const json mask = json::parse(result.lines[0])["pose"]["segmentation"];
  ASSERT_TRUE(mask.is_object());
  EXPECT_EQ(mask["width"], 256);
  EXPECT_EQ(mask["height"], 256);
  const std::vector<unsigned char> bytes = decode_base64(mask["data"].get<std::string>());
  ASSERT_EQ(bytes.size(), 256u * 256u);
  // The ROI frames one person with background around: some of it is person, most of it is not.
  const auto person = std::count_if(bytes.begin(), bytes.end(), [](unsigned char value) { return value > 127; });
  EXPECT_GT(person, 256 * 256 / 20);
  EXPECT_LT(person, 256 * 256 / 2);
}

TEST_F(Cli, DetectReportsABadImageAndStillRunsTheNext) {
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(photo, "messi5.jpg");
  const fs::path garbage = scratch_ / "garbage.jpg";
  std::ofstream(garbage) << "\xff\xd8\xff this is not a JPEG at all";
  const fs::path missing = scratch_ / "missing.png";

  const CommandRun result = run("detect --hands off " + models_flag() + " " + quoted(garbage.string()) + " " +
                                quoted(missing.string()) + " " + quoted(photo.string()));

  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.errors.find("2 of 3 images failed"), std::string::npos) << result.errors;
  ASSERT_EQ(result.lines.size(), 3u) << result.errors;
  const json first = json::parse(result.lines[0]);
  EXPECT_EQ(first["image"]["path"], garbage.string());
  ASSERT_TRUE(first["error"].is_string());
  EXPECT_NE(first["error"].get<std::string>().find("decode"), std::string::npos) << first["error"];
  const json second = json::parse(result.lines[1]);
  EXPECT_EQ(second["image"]["path"], missing.string());
  EXPECT_TRUE(second["error"].is_string());
  const json third = json::parse(result.lines[2]);
  EXPECT_FALSE(third.contains("error"));
  EXPECT_TRUE(third["pose"].is_object());
  EXPECT_TRUE(third["hands"].empty());  // --hands off
}

TEST_F(Cli, DetectWithoutModelsFailsBeforeAnyImageNamingWhereItLooked) {
  const CommandRun result = run("detect --models " + quoted((scratch_ / "no_models").string()) + " whatever.jpg");

  EXPECT_NE(result.exit_code, 0);
  EXPECT_TRUE(result.lines.empty());
  EXPECT_NE(result.errors.find("no_models"), std::string::npos) << result.errors;
}

TEST_F(Cli, VideoOnAFolderWritesOneLinePerFrameAndAnAnnotatedVideo) {
  SEQUENCE_FRAMES_OR_SKIP();
  const fs::path frames = scratch_ / "frames";
  link_frames(frames, 10);
  const fs::path jsonl = scratch_ / "out.jsonl";
  const fs::path annotated = scratch_ / "annotated.mp4";

  const CommandRun result = run("video " + quoted(frames.string()) + " --jsonl " + quoted(jsonl.string()) +
                                " --annotate " + quoted(annotated.string()) + " " + models_flag());

  ASSERT_EQ(result.exit_code, 0) << result.errors;
  EXPECT_TRUE(result.lines.empty()) << "the lines go to --jsonl";
  const std::vector<std::string> lines = split_lines(read_text(jsonl));
  ASSERT_EQ(lines.size(), 10u);
  for (size_t i = 0; i < lines.size(); ++i) {
    const json line = json::parse(lines[i]);
    EXPECT_EQ(line["frame"], i);
    // --fps 30 by default: round(i * 1e6 / 30) microseconds.
    EXPECT_EQ(line["timestamp_us"], std::llround(static_cast<double>(i) * 1e6 / 30.0));
    EXPECT_EQ(fs::path(line["image"]["path"].get<std::string>()).filename(), "frame_00" + std::to_string(i) + ".jpg");
    EXPECT_EQ(line["image"]["width"], 640);
    EXPECT_TRUE(line["pose"].is_object()) << "frame " << i;
    EXPECT_FALSE(line["hands"].empty()) << "frame " << i;
  }

  cv::VideoCapture video(annotated.string());
  ASSERT_TRUE(video.isOpened());
  int frame_count = 0;
  for (cv::Mat frame; video.read(frame); ++frame_count) {
    EXPECT_EQ(frame.cols, 640);
    EXPECT_EQ(frame.rows, 480);
  }
  EXPECT_EQ(frame_count, 10);
}

TEST_F(Cli, VideoOnAVideoFileTimesFramesByTheContainer) {
  SEQUENCE_FRAMES_OR_SKIP();
  // Five frames at 10 frames/s in an AVI (MJPG): the presentation times are 0, 100, ... 400 ms.
  const fs::path input = scratch_ / "input.avi";
  {
    cv::VideoWriter writer(input.string(), cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10.0, cv::Size(640, 480));
    ASSERT_TRUE(writer.isOpened());
    for (int i = 0; i < 5; ++i)
      writer.write(cv::imread((sequence_frames() / ("frame_00" + std::to_string(i) + ".jpg")).string()));
  }

  const CommandRun result = run("video " + quoted(input.string()) + " --hands lite --pose lite " + models_flag());

  ASSERT_EQ(result.exit_code, 0) << result.errors;
  ASSERT_EQ(result.lines.size(), 5u);
  for (size_t i = 0; i < result.lines.size(); ++i) {
    const json line = json::parse(result.lines[i]);
    EXPECT_EQ(line["frame"], i);
    EXPECT_EQ(line["timestamp_us"], static_cast<int64_t>(i) * 100'000);
    EXPECT_FALSE(line["image"].contains("path"));
    EXPECT_TRUE(line["pose"].is_object()) << "frame " << i;
  }
}

fs::path multi_sequence_frames() {
  return testing::shared_dir() / "golden" / "multi" / "sequences" / "frames_seq_aic_ff945ae2";
}

// Several people (issue 16): IMAGE mode with --num-poses finds MediaPipe's two people on the multi
// sequence's first frame, each with an id and a pose, hands tied to them by "person".
TEST_F(Cli, DetectWithNumPosesPrintsPeople) {
  const fs::path frame = multi_sequence_frames() / "frame_000.jpg";
  if (!fs::is_regular_file(frame)) GTEST_SKIP() << "no " << frame.string();
  const CommandRun result = run("detect --num-poses 4 --hands-from-pose " + models_flag() + " " + quoted(frame.string()));
  ASSERT_EQ(result.exit_code, 0) << result.errors;
  ASSERT_EQ(result.lines.size(), 1u);
  const json line = json::parse(result.lines[0]);
  EXPECT_TRUE(line["pose"].is_null());
  ASSERT_GE(line["people"].size(), 2u) << result.lines[0].substr(0, 300);
  for (const json& person : line["people"]) {
    expect_landmark_list(person["pose"]["landmarks"], 33, 5, "a person's landmarks");
    EXPECT_TRUE(person["pose"].contains("angles"));
    for (const json& hand : person["hands"]) EXPECT_EQ(hand["person"], person["id"]);
  }
  EXPECT_EQ(line["runs"]["pose_detector"], 1);
}

TEST_F(Cli, NumPosesOutsideItsRangeIsRefused) {
  const CommandRun detect = run("detect --num-poses 9 " + models_flag() + " x.jpg");
  EXPECT_NE(detect.exit_code, 0);
  EXPECT_NE(detect.errors.find("--num-poses"), std::string::npos) << detect.errors;
  const CommandRun video = run("video --num-poses 2 --detector-interval-ms=-5 " + models_flag() + " x");
  EXPECT_NE(video.exit_code, 0);
  EXPECT_NE(video.errors.find("--detector-interval-ms"), std::string::npos) << video.errors;
  const CommandRun serve = run("serve --port 0 --num-poses 4 --max-num-poses 2 " + models_flag());
  EXPECT_NE(serve.exit_code, 0);
  EXPECT_NE(serve.errors.find("max_num_poses 2"), std::string::npos) << serve.errors;
}

// --precision int8 (issue 15) runs the hand models in int8: the same hand, landmarks moved a little.
TEST_F(Cli, DetectWithPrecisionInt8FindsTheSameHand) {
  const fs::path frame = sequence_frames() / "frame_000.jpg";
  if (!fs::is_regular_file(frame)) GTEST_SKIP() << "no " << frame.string();
  const std::string arguments = " --pose off --hands lite " + models_flag() + " " + quoted(frame.string());
  const CommandRun f32 = run("detect" + arguments), int8 = run("detect --precision int8" + arguments);
  ASSERT_EQ(f32.exit_code, 0) << f32.errors;
  ASSERT_EQ(int8.exit_code, 0) << int8.errors;
  const json a = json::parse(f32.lines.at(0))["hands"], b = json::parse(int8.lines.at(0))["hands"];
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_NE(a[0]["landmarks"], b[0]["landmarks"]) << "int8 gave float32's exact landmarks";
  EXPECT_NEAR(a[0]["landmarks"][0][0].get<double>(), b[0]["landmarks"][0][0].get<double>(), 0.01);
  const CommandRun refused = run("detect --precision fp16 " + models_flag() + " x.jpg");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.errors.find("--precision"), std::string::npos) << refused.errors;
}

TEST_F(Cli, VideoWithNumPosesKeepsEachPersonsId) {
  const fs::path first = multi_sequence_frames() / "frame_000.jpg";
  if (!fs::is_regular_file(first)) GTEST_SKIP() << "no " << first.string();
  const fs::path frames = scratch_ / "frames";
  fs::create_directories(frames);
  for (int i = 0; i < 5; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%03d.jpg", i);
    fs::create_symlink(multi_sequence_frames() / name, frames / name);
  }
  const CommandRun result = run("video --num-poses 4 " + quoted(frames.string()) + " " + models_flag());
  ASSERT_EQ(result.exit_code, 0) << result.errors;
  ASSERT_EQ(result.lines.size(), 5u);
  std::vector<std::int64_t> first_ids;
  for (const std::string& text : result.lines) {
    const json line = json::parse(text);
    std::vector<std::int64_t> ids;
    for (const json& person : line["people"]) ids.push_back(person["id"]);
    if (first_ids.empty()) first_ids = ids;
    EXPECT_GE(ids.size(), 2u);
    EXPECT_EQ(ids, first_ids) << "frame " << line["frame"];
  }
}

TEST_F(Cli, BenchPipelineJsonHasEveryStageAndTheDetectorCounts) {
  SEQUENCE_FRAMES_OR_SKIP();
  const CommandRun result = run("bench pipeline --runs 3 --warmup 1 --json --image " +
                                quoted((sequence_frames() / "frame_000.jpg").string()) + " " + models_flag());

  ASSERT_EQ(result.exit_code, 0) << result.errors;
  std::string text;
  for (const std::string& line : result.lines) text += line + "\n";
  const json report = json::parse(text);
  EXPECT_EQ(report["image"]["width"], 640);
  EXPECT_EQ(report["image"]["height"], 480);
  for (const char* model : {"pose_detection", "pose_landmark_full", "palm_detection_full", "hand_landmark_full"}) {
    EXPECT_GT(report["invoke_median_ms"][model].get<double>(), 0) << model;
  }
  for (const char* mode : {"tracking", "static"}) {
    const json& measured = report["modes"][mode];
    for (const char* stage : {"decode", "pose_detector", "pose_landmarks", "hands", "smoothing", "total"}) {
      EXPECT_TRUE(measured["median_ms"][stage].is_number()) << mode << " " << stage;
    }
    EXPECT_GT(measured["invocations_median_ms"].get<double>(), 0) << mode;
    EXPECT_GT(measured["overhead_ratio"].get<double>(), 0) << mode;
    EXPECT_EQ(measured["frames"], 3) << mode;
    EXPECT_EQ(measured["runs"]["pose_landmarks"], 3) << mode;
    // A body in view: the wrists place the hands, the palm detector never runs (hands.h).
    EXPECT_EQ(measured["runs"]["palm_detector"], 0) << mode;
  }
  // IMAGE mode runs the pose detector on every frame; VIDEO mode only on the warm-up frame, which found
  // the pose the timed frames then track.
  EXPECT_EQ(report["modes"]["static"]["runs"]["pose_detector"], 3);
  EXPECT_EQ(report["modes"]["tracking"]["runs"]["pose_detector"], 0);
}

}  // namespace
}  // namespace posestream
