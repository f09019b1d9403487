// FramePipeline on the golden sequence: concurrent_stages against the sequential pipeline (same results),
// and the hands' tracking gap.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/helper_thread.h"
#include "pipeline_compare.h"
#include "scheduler_fixtures.h"
#include "stream/stream.h"
#include "test_paths.h"
#include "vision/decode.h"

namespace posestream::stream {
namespace {

using namespace compare;  // NOLINT: the helpers of tests/stream/pipeline_compare.h.

struct Variant {
  const char* name;
  int max_num_hands;
  bool hand_smoothing;
  bool pool;   // Both pipelines on a pool of two (the concurrent frames then run on one-thread runtimes).
  int frames;  // Of the sequence, from its start. Fewer on a pool: a busy machine makes a pool crawl.
};

class ConcurrentPipeline : public ::testing::TestWithParam<Variant> {};

// The sequence shows one person and one hand: from the second frame on the hand is tracked, so nearly
// every frame takes the concurrent path (the test requires most of them to).
TEST_P(ConcurrentPipeline, GivesTheSequentialResultsFrameByFrame) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  FramePipeline sequential = make_pipeline(false, GetParam().pool);
  FramePipeline concurrent = make_pipeline(true, GetParam().pool);
  StreamState sequential_state;
  sequential_state.config.max_num_hands = GetParam().max_num_hands;
  sequential_state.config.hand_smoothing = GetParam().hand_smoothing;
  StreamState concurrent_state = sequential_state;
  int concurrent_frames = 0;
  int hands_found = 0;
  const int frame_count = GetParam().frames;
  for (int i = 0; i < frame_count; ++i) {
    const std::int64_t timestamp_us = i * kFrameIntervalUs;
    const FrameResult expected = sequential.run(frames[i], timestamp_us, sequential_state);
    const FrameResult result = concurrent.run(frames[i], timestamp_us, concurrent_state);
    expect_same(expected, result, "frame " + std::to_string(i));
    if (::testing::Test::HasFatalFailure()) return;
    concurrent_frames += result.timing.concurrent ? 1 : 0;
    hands_found += static_cast<int>(result.hands.size());
  }
  EXPECT_GE(concurrent_frames, frame_count / 2) << "the concurrent path was hardly taken";
  EXPECT_GE(hands_found, frame_count / 2);
}

INSTANTIATE_TEST_SUITE_P(Configs, ConcurrentPipeline,
                         ::testing::Values(Variant{"two_hands", 2, false, false, kSequenceFrames},
                                           Variant{"one_hand_smoothed", 1, true, false, kSequenceFrames},
                                           Variant{"two_hands_beside_a_pool", 2, false, true, 12}),
                         [](const ::testing::TestParamInfo<Variant>& param_info) {
                           return std::string(param_info.param.name);
                         });

// Two tracked hands: the first runs beside the pose, the second after it (kTrackedHandRunsBesidePose);
// the results are still the sequential ones. The second ROI is the first mirrored across the image.
TEST(ConcurrentPipeline, ASecondTrackedHandRunsAfterThePoseWithTheSameResults) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  FramePipeline sequential = make_pipeline(false);
  FramePipeline concurrent = make_pipeline(true);
  StreamState sequential_state;
  ASSERT_TRUE(sequential.run(frames[0], 0, sequential_state).ok());
  ASSERT_EQ(sequential_state.hands.tracked.size(), 1u) << "premise: the first frame tracks one hand";
  hands::HandState::TrackedHand mirrored = sequential_state.hands.tracked[0];
  mirrored.id = sequential_state.hands.next_id++;
  mirrored.roi.x_center = 1.0f - mirrored.roi.x_center;
  sequential_state.hands.tracked.push_back(mirrored);
  StreamState concurrent_state = sequential_state;
  const FrameResult expected = sequential.run(frames[1], kFrameIntervalUs, sequential_state);
  const FrameResult result = concurrent.run(frames[1], kFrameIntervalUs, concurrent_state);
  expect_same(expected, result, "frame 1");
  EXPECT_TRUE(result.timing.concurrent);
  EXPECT_GE(result.timing.hand_landmark_runs, 2);
}

// PipelineOptions::max_hand_tracking_gap_ms: the sequence taken every 9th frame, 300 ms apart (what each
// of 8 streams gets from 2 cores), looped three times. Dropping the tracked hands after the gap finds
// the hand in as many frames as tracking across it, in fewer landmark runs (the old ROI mostly lost it,
// and the pose's ROI then ran as its fallback).
TEST(FramePipelineTrackingGap, AfterAGapThePoseFindsTheHandInFewerRuns) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  struct Tally {
    int landmark_runs = 0;
    int frames_with_hand = 0;
  };
  auto run_sparse = [&](double max_gap_ms) {
    PipelineOptions options;
    options.max_hand_tracking_gap_ms = max_gap_ms;
    FramePipeline pipeline(shared_library(), options);
    StreamState state;
    Tally tally;
    for (int k = 0; k < 3 * kSequenceFrames / 9; ++k) {
      const FrameResult result = pipeline.run(frames[(9 * k) % kSequenceFrames], k * 9 * kFrameIntervalUs, state);
      EXPECT_TRUE(result.ok()) << result.error;
      tally.landmark_runs += result.timing.hand_landmark_runs;
      tally.frames_with_hand += result.hands.empty() ? 0 : 1;
    }
    return tally;
  };
  const Tally dropped = run_sparse(PipelineOptions{}.max_hand_tracking_gap_ms);
  const Tally tracked = run_sparse(0);
  std::cout << "[gap] every 9th frame: tracking dropped after the gap: " << dropped.landmark_runs
            << " landmark runs, hand in " << dropped.frames_with_hand << " frames; tracked across it: "
            << tracked.landmark_runs << " runs, hand in " << tracked.frames_with_hand << " frames\n";
  EXPECT_LT(dropped.landmark_runs, tracked.landmark_runs);
  EXPECT_GE(dropped.frames_with_hand, tracked.frames_with_hand);
}

// Below the gap nothing changes: the sequence at 30 FPS tracks the hand from frame to frame.
TEST(FramePipelineTrackingGap, FramesWithinTheGapKeepTracking) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  FramePipeline pipeline(shared_library());
  StreamState state;
  ASSERT_TRUE(pipeline.run(frames[0], 0, state).ok());
  ASSERT_FALSE(state.hands.tracked.empty());
  const std::int64_t first_id = state.hands.tracked[0].id;
  ASSERT_TRUE(pipeline.run(frames[1], 3 * kFrameIntervalUs, state).ok());  // 100 ms: not more than the gap.
  ASSERT_FALSE(state.hands.tracked.empty());
  EXPECT_EQ(state.hands.tracked[0].id, first_id) << "the hand was found anew, not tracked";
  ASSERT_TRUE(pipeline.run(frames[2], 7 * kFrameIntervalUs, state).ok());  // 133 ms later: dropped, found anew.
  ASSERT_FALSE(state.hands.tracked.empty());
  EXPECT_NE(state.hands.tracked[0].id, first_id);
}

// An exception in the helper thread's task (here the hands stage refusing an option that only it reads)
// is the frame's error, the pose with it; the stream and the pipeline go on.
TEST(ConcurrentPipeline, AnErrorInTheHandsTaskIsTheFramesError) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  FramePipeline pipeline = make_pipeline(true);
  StreamState state;
  ASSERT_TRUE(pipeline.run(frames[0], 0, state).ok());
  ASSERT_FALSE(state.hands.tracked.empty()) << "the first frame should give a hand to track";

  state.config.min_hand_presence_confidence = 2.0f;  // Not validated by the pipeline; the hands stage throws.
  const FrameResult bad = pipeline.run(frames[1], kFrameIntervalUs, state);
  EXPECT_TRUE(bad.timing.concurrent);
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.error.find("hands: confidences must be in [0, 1]"), std::string::npos) << bad.error;
  EXPECT_FALSE(bad.pose.has_value());
  EXPECT_TRUE(bad.hands.empty());

  state.config.min_hand_presence_confidence = 0.5f;
  const FrameResult good = pipeline.run(frames[2], 2 * kFrameIntervalUs, state);
  EXPECT_TRUE(good.ok()) << good.error;
  EXPECT_TRUE(good.timing.concurrent);
  EXPECT_TRUE(good.pose.has_value());
}

// The pipeline's error test above cannot tell a rethrown task error from the hands stage failing again
// after the helper (its validation runs twice), so the hand-over is tested on its own.
TEST(HelperThread, RunsTheSecondTaskOnAnotherThreadAndWaitsForBoth) {
  engine::HelperThread helper;
  for (int round = 0; round < 3; ++round) {
    std::thread::id here_thread;
    std::thread::id there_thread;
    std::atomic<bool> there_done{false};
    helper.run_alongside([&] { here_thread = std::this_thread::get_id(); },
                         [&] {
                           std::this_thread::sleep_for(std::chrono::milliseconds(20));
                           there_thread = std::this_thread::get_id();
                           there_done = true;
                         });
    EXPECT_TRUE(there_done) << "returned before the helper's task finished";
    EXPECT_EQ(here_thread, std::this_thread::get_id());
    EXPECT_NE(there_thread, std::this_thread::get_id());
  }
}

TEST(HelperThread, RethrowsTheTasksExceptionsAfterBothFinished) {
  engine::HelperThread helper;
  bool here_ran = false;
  EXPECT_THROW(helper.run_alongside([&] { here_ran = true; }, [] { throw std::runtime_error("there"); }),
               std::runtime_error);
  EXPECT_TRUE(here_ran);
  std::atomic<bool> there_done{false};
  try {
    helper.run_alongside([] { throw std::logic_error("here"); },
                         [&] {
                           std::this_thread::sleep_for(std::chrono::milliseconds(20));
                           there_done = true;
                         });
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& error) {
    EXPECT_STREQ(error.what(), "here");
    EXPECT_TRUE(there_done) << "rethrown before the helper's task finished";
  }
  // Both failing: the calling thread's exception wins; the helper goes on working afterwards.
  EXPECT_THROW(helper.run_alongside([] { throw std::logic_error("here"); }, [] { throw std::runtime_error("there"); }),
               std::logic_error);
  bool ran = false;
  helper.run_alongside([] {}, [&] { ran = true; });
  EXPECT_TRUE(ran);
}

// finish_hands refuses tracked runs that were not made for the state it is given.
TEST(ConcurrentPipeline, FinishHandsRefusesRunsOfAnotherFrame) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  const vision::DecodeResult decoded = vision::decode_image(frames[0]);
  ASSERT_TRUE(decoded.ok()) << decoded.error;
  hands::HandRuntimes runtimes(shared_library()->hands(hands::HandModel::full));
  const hands::HandOptions options;
  hands::HandState state;
  state.tracked.push_back({1, {0.5f, 0.5f, 0.3f, 0.3f, 0.0f}});
  state.next_id = 2;
  hands::TrackedHandRuns runs = hands::run_tracked_hands(decoded.image, state, runtimes, options);
  EXPECT_EQ(runs.results.size(), 1u);
  EXPECT_EQ(runs.timing.landmark_runs, 1);
  hands::HandState later = state;
  hands::track_hands(decoded.image, 0, later, runtimes, options);
  EXPECT_THROW(hands::finish_hands(decoded.image, 33'333, later, runtimes, options, runs), hands::HandError);
  hands::HandState untracked = state;
  untracked.tracked.clear();
  EXPECT_THROW(hands::finish_hands(decoded.image, 0, untracked, runtimes, options, runs), hands::HandError);
  EXPECT_NO_THROW(hands::finish_hands(decoded.image, 0, state, runtimes, options, std::move(runs)));
}

TEST(ConcurrentPipeline, RefusesThreadsPerRuntime) {
  PipelineOptions options;
  options.concurrent_stages = true;
  options.threads_per_runtime = 2;
  EXPECT_THROW(FramePipeline(shared_library(), options), std::invalid_argument);
}

// Frames that cannot overlap anything (no hands tracked yet, static_image_mode, pose or hands off) run
// as without concurrent_stages.
TEST(ConcurrentPipeline, OnlyTrackingFramesWithHandsTrackedRunConcurrently) {
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  FramePipeline pipeline = make_pipeline(true);
  StreamState state;
  EXPECT_FALSE(pipeline.run(frames[0], 0, state).timing.concurrent) << "no hand tracked before the first frame";
  ASSERT_FALSE(state.hands.tracked.empty());
  EXPECT_TRUE(pipeline.run(frames[1], kFrameIntervalUs, state).timing.concurrent);
  StreamState without_pose = state;
  without_pose.config.pose.reset();
  EXPECT_FALSE(pipeline.run(frames[2], 2 * kFrameIntervalUs, without_pose).timing.concurrent);
  StreamState still = state;
  still.config.static_image_mode = true;
  EXPECT_FALSE(pipeline.run(frames[2], 2 * kFrameIntervalUs, still).timing.concurrent);
}

// The Scheduler's lone worker: its pooled pipeline runs tracking frames concurrently (unless told not
// to), with the results of the sequential pipeline.
TEST(ConcurrentPipeline, TheSchedulersLoneWorkerRunsTrackingFramesConcurrently) {
  constexpr int kFrames = 6;
  const std::vector<std::vector<std::uint8_t>> frames = read_sequence();
  if (frames.empty()) GTEST_SKIP() << "golden sequence not found in " << sequence_dir();
  for (const bool concurrent_stages : {true, false}) {
    SCOPED_TRACE(concurrent_stages ? "concurrent_stages" : "without concurrent_stages");
    FramePipeline sequential = make_pipeline(false);
    StreamState sequential_state;
    test::Recorder recorder;
    SchedulerOptions options;
    options.worker_count = 1;  // So that every frame runs on the pooled pipeline (see test_scheduler.cpp).
    options.inference_threads = 2;
    options.concurrent_stages = concurrent_stages;
    options.parallelism.mode = ParallelismOptions::Mode::always;  // Whatever else the machine runs.
    Scheduler scheduler(shared_library(), options);
    auto session = scheduler.open_session(test::every_frame_session(StreamConfig{}), recorder.sink());
    ASSERT_NE(session, nullptr);
    for (int i = 0; i < kFrames; ++i) {
      const std::int64_t timestamp_us = (i + 1) * kFrameIntervalUs;
      const auto sequence = static_cast<std::uint64_t>(i);
      session->push(FrameInput{sequence, timestamp_us, frames[i], Clock::now()}, Clock::now());
      ASSERT_TRUE(recorder.wait_for(sequence + 1));
      const std::vector<Answer> answers = recorder.answers();
      const auto* answer = std::get_if<ResultAnswer>(&answers.back());
      ASSERT_NE(answer, nullptr) << "frame " << i;
      const FrameResult expected = sequential.run(frames[i], timestamp_us, sequential_state);
      FrameResult result = answer->result;
      EXPECT_EQ(result.timing.concurrent, concurrent_stages && i > 0) << "frame " << i;
      result.timing.concurrent = false;  // expect_same checks the sequential one's is false.
      expect_same(expected, result, "frame " + std::to_string(i));
    }
    EXPECT_EQ(scheduler.pooled_runs(), static_cast<std::uint64_t>(kFrames));
  }
}

TEST(ConcurrentPipeline, TheSchedulerRefusesConcurrentStagesForEveryWorker) {
  SchedulerOptions options;
  options.worker_count = 1;
  options.prewarm.reset();
  options.pipeline.concurrent_stages = true;
  EXPECT_THROW(Scheduler(shared_library(), options), std::invalid_argument);
}

}  // namespace
}  // namespace posestream::stream
