// Helpers for tests that run the golden sequence two ways (threads, paths) and require the same results.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "stream/stream.h"
#include "test_paths.h"

namespace posestream::stream::compare {

inline constexpr int kSequenceFrames = 60;
inline constexpr std::int64_t kFrameIntervalUs = 33'333;

inline std::filesystem::path sequence_dir() {
  return testing::shared_dir() / "golden" / "sequences" / "frames_seq_gesture_four_06aa";
}

// The sequence's JPEG frames, in order; empty if any is missing (the caller skips).
inline std::vector<std::vector<std::uint8_t>> read_sequence() {
  std::vector<std::vector<std::uint8_t>> frames;
  for (int i = 0; i < kSequenceFrames; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%03d.jpg", i);
    std::ifstream in(sequence_dir() / name, std::ios::binary);
    if (!in) return {};
    frames.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return frames;
}

inline std::shared_ptr<ModelLibrary> shared_library() {
  static const auto library = std::make_shared<ModelLibrary>(testing::models_dir());
  return library;
}

// `pool`: the runtimes on an inference pool of two threads, as the Scheduler's lone-worker pipeline.
inline FramePipeline make_pipeline(bool concurrent, bool pool = false) {
  PipelineOptions options;
  options.concurrent_stages = concurrent;
  if (pool) options.inference_pool = std::make_shared<engine::ThreadPool>(2);
  return FramePipeline(shared_library(), options);
}

// Exact equality, field by field: the two paths run the same runtimes' code on the same inputs.
inline void expect_same(const vision::Landmark& a, const vision::Landmark& b, const std::string& where) {
  EXPECT_EQ(a.x, b.x) << where;
  EXPECT_EQ(a.y, b.y) << where;
  EXPECT_EQ(a.z, b.z) << where;
  EXPECT_EQ(a.visibility, b.visibility) << where;
  EXPECT_EQ(a.presence, b.presence) << where;
}

template <std::size_t Count>
inline void expect_same(const std::array<vision::Landmark, Count>& a, const std::array<vision::Landmark, Count>& b,
                 const std::string& where) {
  for (std::size_t i = 0; i < Count; ++i) expect_same(a[i], b[i], where + " landmark " + std::to_string(i));
}

inline void expect_same(const vision::NormalizedRect& a, const vision::NormalizedRect& b, const std::string& where) {
  EXPECT_EQ(a.x_center, b.x_center) << where;
  EXPECT_EQ(a.y_center, b.y_center) << where;
  EXPECT_EQ(a.width, b.width) << where;
  EXPECT_EQ(a.height, b.height) << where;
  EXPECT_EQ(a.rotation, b.rotation) << where;
}

inline void expect_same(const FrameResult& sequential, const FrameResult& concurrent, const std::string& where) {
  ASSERT_TRUE(sequential.ok()) << where << ": " << sequential.error;
  ASSERT_TRUE(concurrent.ok()) << where << ": " << concurrent.error;
  ASSERT_EQ(sequential.pose.has_value(), concurrent.pose.has_value()) << where;
  if (sequential.pose) {
    EXPECT_EQ(sequential.pose->score, concurrent.pose->score) << where;
    expect_same(sequential.pose->landmarks, concurrent.pose->landmarks, where + " pose");
    expect_same(sequential.pose->world_landmarks, concurrent.pose->world_landmarks, where + " pose world");
    expect_same(sequential.pose->roi, concurrent.pose->roi, where + " pose ROI");
  }
  ASSERT_EQ(sequential.hands.size(), concurrent.hands.size()) << where;
  for (std::size_t i = 0; i < sequential.hands.size(); ++i) {
    const hands::Hand& a = sequential.hands[i];
    const hands::Hand& b = concurrent.hands[i];
    const std::string hand = where + " hand " + std::to_string(i);
    EXPECT_EQ(a.handedness, b.handedness) << hand;
    EXPECT_EQ(a.score, b.score) << hand;
    EXPECT_EQ(a.presence, b.presence) << hand;
    expect_same(a.landmarks, b.landmarks, hand);
    expect_same(a.world_landmarks, b.world_landmarks, hand + " world");
    expect_same(a.roi, b.roi, hand + " ROI");
  }
  EXPECT_EQ(sequential.timing.pose_detector_runs, concurrent.timing.pose_detector_runs) << where;
  EXPECT_EQ(sequential.timing.palm_detector_runs, concurrent.timing.palm_detector_runs) << where;
  EXPECT_EQ(sequential.timing.hand_landmark_runs, concurrent.timing.hand_landmark_runs) << where;
  EXPECT_FALSE(sequential.timing.concurrent) << where;
}

}  // namespace posestream::stream::compare
