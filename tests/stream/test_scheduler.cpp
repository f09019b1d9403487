// Scheduler with real models: many streams at full speed, every frame answered once, per-stream order and
// serial execution, drop policies under load, invalid frames, stop() with frames in flight.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "scheduler_fixtures.h"
#include "stream/stream.h"

namespace posestream::stream {
namespace {

using namespace posestream::stream::test;  // The fixtures: Gate, Recorder, Plan, tally, ...

class ThreeStreams : public ::testing::TestWithParam<DropPolicy> {};

TEST_P(ThreeStreams, EveryFrameAnsweredOnceInOrderAndNeverOnTwoWorkers) {
  constexpr std::uint64_t kFrames = 30;
  const DropPolicy policy = GetParam();
  Gate gate;
  InFlight in_flight;
  SchedulerOptions options;
  options.worker_count = 2;
  options.prewarm = light_config();
  options.observer.on_frame = [&](const Session& session, FramePhase phase) {
    in_flight.on_frame(session, phase);
    if (phase == FramePhase::started) gate.wait();
  };
  std::vector<std::unique_ptr<Recorder>> recorders;
  Scheduler scheduler(shared_library(), options);
  const Gate::OpenOnExit open_on_exit{gate};

  std::vector<Plan> plans;
  std::vector<std::shared_ptr<Session>> sessions;
  for (int stream = 0; stream < 3; ++stream) {
    plans.push_back(make_plan(stream, kFrames));
    recorders.push_back(std::make_unique<Recorder>());
    SessionOptions session_options;
    session_options.drop_policy = policy;
    session_options.max_queued_frames = 64;
    session_options.config = light_config();
    sessions.push_back(scheduler.open_session(session_options, recorders.back()->sink()));
    ASSERT_NE(sessions.back(), nullptr);
  }
  std::vector<std::thread> senders;
  for (int stream = 0; stream < 3; ++stream) {
    senders.emplace_back([&, stream] { send(*sessions[stream], plans[stream]); });
  }
  for (auto& sender : senders) sender.join();
  gate.open();  // Every frame is pushed while the workers sit on their first frames.

  for (int stream = 0; stream < 3; ++stream) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    ASSERT_TRUE(recorders[stream]->wait_for(answers_expected(plans[stream], kFrames)));
    const Tally result = tally(recorders[stream]->answers(), plans[stream]);
    expect_each_number_answered_once(result, plans[stream], kFrames);
    EXPECT_EQ(count_of(result, DroppedReason::overflow), 0);
    if (policy == DropPolicy::latest) {
      EXPECT_GT(count_of(result, DroppedReason::superseded), 0);
      EXPECT_FALSE(result.results.empty());
    } else {
      EXPECT_EQ(count_of(result, DroppedReason::superseded), 0);
      EXPECT_EQ(result.results.size(), kFrames - plans[stream].missing.size());
    }
    const SessionStats stats = sessions[stream]->stats();
    EXPECT_EQ(stats.answers.total(), answers_expected(plans[stream], kFrames));
    EXPECT_EQ(stats.frames_received, plans[stream].order.size());
  }
  EXPECT_EQ(in_flight.max_per_session(), 1);
}

INSTANTIATE_TEST_SUITE_P(Policies, ThreeStreams, ::testing::Values(DropPolicy::latest, DropPolicy::all),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });



TEST(Scheduler, AllOverflowsBeyondItsQueueAndNeverSupersedes) {
  Gate gate;
  SchedulerOptions options;
  options.worker_count = 2;
  options.prewarm = light_config();
  options.observer.on_frame = [&](const Session&, FramePhase phase) {
    if (phase == FramePhase::started) gate.wait();
  };
  Recorder recorder;
  Scheduler scheduler(shared_library(), options);
  const Gate::OpenOnExit open_on_exit{gate};
  SessionOptions session_options = every_frame_session();
  session_options.max_queued_frames = 4;
  auto session = scheduler.open_session(session_options, recorder.sink());
  const TimePoint now = Clock::now();
  for (std::uint64_t sequence = 0; sequence < 20; ++sequence) {
    session->push(FrameInput{sequence, 1000 + static_cast<std::int64_t>(sequence), small_jpeg(), now}, now);
  }
  gate.open();
  ASSERT_TRUE(recorder.wait_for(20));
  const std::vector<Answer> answers = recorder.answers();
  const auto results = sequences_with(answers, std::nullopt);
  const auto overflowed = sequences_with(answers, DroppedReason::overflow);
  // The worker may or may not have taken frame 0 before frame 1 arrived: 4 or 5 frames run.
  EXPECT_GE(results.size(), 4u);
  EXPECT_LE(results.size(), 5u);
  EXPECT_EQ(results.size() + overflowed.size(), 20u);
  EXPECT_EQ(results.front(), 0u);
  EXPECT_EQ(overflowed.back(), 19u);
  EXPECT_LT(results.back(), overflowed.front()) << "overflow drops the newest, not the waiting";
}

TEST(Scheduler, InvalidFramesAreAnsweredAndTheStreamAndOthersGoOn) {
  SchedulerOptions options;
  options.worker_count = 2;
  options.prewarm = light_config();
  Recorder bad_recorder;
  Recorder good_recorder;
  Scheduler scheduler(shared_library(), options);
  const SessionOptions session_options = every_frame_session();
  auto bad = scheduler.open_session(session_options, bad_recorder.sink());
  auto good = scheduler.open_session(session_options, good_recorder.sink());
  const std::vector<std::uint8_t> garbage(64, 0x5A);
  const TimePoint now = Clock::now();
  auto push = [&](Session& session, std::uint64_t sequence, std::int64_t timestamp_us, std::vector<std::uint8_t> bytes) {
    session.push(FrameInput{sequence, timestamp_us, std::move(bytes), now}, now);
  };
  push(*bad, 0, 1000, small_jpeg());
  push(*good, 0, 1000, small_jpeg());
  push(*bad, 1, 2000, garbage);       // Decoder refuses it.
  push(*good, 1, 2000, small_jpeg());
  push(*bad, 2, 2000, small_jpeg());  // Same timestamp as 1, which was released in order before it.
  push(*bad, 3, 1500, small_jpeg());  // Goes back in time.
  push(*bad, 4, 5000, small_jpeg());
  push(*good, 2, 3000, small_jpeg());
  ASSERT_TRUE(bad_recorder.wait_for(5));
  ASSERT_TRUE(good_recorder.wait_for(3));
  const std::vector<Answer> answers = bad_recorder.answers();
  EXPECT_EQ(sequences_with(answers, std::nullopt), (std::vector<std::uint64_t>{0, 4}));
  EXPECT_EQ(sequences_with(answers, DroppedReason::invalid), (std::vector<std::uint64_t>{1, 2, 3}));
  for (const Answer& answer : answers) {
    const auto* dropped = std::get_if<DroppedAnswer>(&answer);
    if (dropped == nullptr) continue;
    const std::string expected_start = dropped->sequences.first == 1 ? "decode: " : "timestamp_us ";
    EXPECT_EQ(dropped->message.rfind(expected_start, 0), 0u) << dropped->message;
  }
  EXPECT_EQ(sequences_with(good_recorder.answers(), std::nullopt), (std::vector<std::uint64_t>{0, 1, 2}));
}

// Two streams, two workers: each worker holds its frame until both are running, which only a
// scheduler that runs streams in parallel lets happen.
TEST(Scheduler, StreamsRunInParallel) {
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int most_running = 0;
  SchedulerOptions options;
  options.worker_count = 2;
  options.prewarm = light_config();
  options.observer.on_frame = [&](const Session&, FramePhase phase) {
    std::unique_lock lock(mutex);
    if (phase == FramePhase::finished) {
      --running;
      return;
    }
    most_running = std::max(most_running, ++running);
    changed.notify_all();
    changed.wait_for(lock, kHangGuard, [&] { return most_running >= 2; });
  };
  Recorder first_recorder;
  Recorder second_recorder;
  Scheduler scheduler(shared_library(), options);
  SessionOptions session_options;
  session_options.config = light_config();
  auto first = scheduler.open_session(session_options, first_recorder.sink());
  auto second = scheduler.open_session(session_options, second_recorder.sink());
  const TimePoint now = Clock::now();
  first->push(FrameInput{0, 1000, small_jpeg(), now}, now);
  second->push(FrameInput{0, 1000, small_jpeg(), now}, now);
  ASSERT_TRUE(first_recorder.wait_for(1));
  ASSERT_TRUE(second_recorder.wait_for(1));
  const std::lock_guard lock(mutex);
  EXPECT_EQ(most_running, 2);
}

TEST(Scheduler, StopWithFramesInFlightAnswersEverything) {
  constexpr std::uint64_t kFrames = 30;
  SchedulerOptions options;
  options.worker_count = 2;
  options.prewarm = light_config();
  std::vector<std::unique_ptr<Recorder>> recorders;
  Scheduler scheduler(shared_library(), options);
  std::vector<Plan> plans;
  std::vector<std::shared_ptr<Session>> sessions;
  for (int stream = 0; stream < 3; ++stream) {
    plans.push_back(make_plan(stream, kFrames));
    // Stop before the end, with the tail held behind a gap in the reorder buffer.
    plans.back().order.push_back(kFrames + 1);
    recorders.push_back(std::make_unique<Recorder>());
    SessionOptions session_options;
    session_options.drop_policy = stream == 0 ? DropPolicy::latest : DropPolicy::all;
    session_options.max_queued_frames = 64;
    session_options.config = light_config();
    sessions.push_back(scheduler.open_session(session_options, recorders.back()->sink()));
  }
  const TimePoint start = Clock::now();
  for (int stream = 0; stream < 3; ++stream) {
    std::int64_t tick = 0;
    for (std::uint64_t sequence : plans[stream].order) {
      FrameInput input{sequence, plans[stream].timestamp_of(sequence), small_jpeg(), start};
      sessions[stream]->push(std::move(input), start + std::chrono::microseconds{++tick});
    }
  }
  scheduler.stop();

  for (int stream = 0; stream < 3; ++stream) {
    SCOPED_TRACE("stream " + std::to_string(stream));
    Plan& plan = plans[stream];
    plan.missing.insert(kFrames);  // Skipped when stop() flushed kFrames + 1.
    const std::size_t expected = answers_expected(plan, kFrames + 2);
    EXPECT_EQ(recorders[stream]->answers().size(), expected) << "stop() returned before answering everything";
    const Tally result = tally(recorders[stream]->answers(), plan);
    expect_each_number_answered_once(result, plan, kFrames + 2);
    EXPECT_TRUE(sessions[stream]->closed());
    sessions[stream]->push(FrameInput{kFrames + 2, plan.timestamp_of(kFrames + 2), small_jpeg(), start}, start);
    const std::vector<Answer> after = recorders[stream]->answers();
    ASSERT_EQ(after.size(), expected + 1);
    EXPECT_EQ(describe(after.back()), "superseded 32");
  }
  EXPECT_EQ(scheduler.open_sessions(), 0u);
  EXPECT_EQ(scheduler.open_session(SessionOptions{}, [](Answer&&) {}), nullptr);
  scheduler.stop();  // Idempotent.
}

TEST(Scheduler, MaxSessionsIsALimitThatClosingFrees) {
  SchedulerOptions options;
  options.worker_count = 1;
  options.max_sessions = 2;
  options.prewarm.reset();
  Scheduler scheduler(shared_library(), options);
  EXPECT_EQ(scheduler.worker_count(), 1u);
  auto first = scheduler.open_session(SessionOptions{}, [](Answer&&) {});
  auto second = scheduler.open_session(SessionOptions{}, [](Answer&&) {});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(scheduler.open_session(SessionOptions{}, [](Answer&&) {}), nullptr);
  first->close();
  EXPECT_NE(scheduler.open_session(SessionOptions{}, [](Answer&&) {}), nullptr);  // Dropped at once: frees.
  second.reset();  // Destroying an open session frees its slot too.
  EXPECT_EQ(scheduler.open_sessions(), 0u);
}

TEST(Scheduler, RefusesBadOptionsNamingThem) {
  SchedulerOptions options;
  options.max_sessions = 0;
  options.prewarm.reset();
  EXPECT_THROW(Scheduler(shared_library(), options), std::invalid_argument);
  EXPECT_THROW(Scheduler(nullptr, SchedulerOptions{}), std::invalid_argument);
  SchedulerOptions missing_models;
  missing_models.worker_count = 1;
  EXPECT_THROW(Scheduler(std::make_shared<ModelLibrary>("/nonexistent-models"), missing_models), engine::ModelError);
  SchedulerOptions bad_pipeline;
  bad_pipeline.worker_count = 1;
  bad_pipeline.prewarm.reset();
  bad_pipeline.pipeline.threads_per_runtime = 0;
  EXPECT_THROW(Scheduler(shared_library(), bad_pipeline), std::invalid_argument);
}

TEST(Scheduler, RefusesABadInferencePool) {
  SchedulerOptions too_many;
  too_many.worker_count = 1;
  too_many.prewarm.reset();
  too_many.inference_threads = 257;
  EXPECT_THROW(Scheduler(shared_library(), too_many), std::invalid_argument);
  SchedulerOptions both;
  both.worker_count = 1;
  both.prewarm.reset();
  both.inference_threads = 2;
  both.pipeline.inference_pool = std::make_shared<engine::ThreadPool>(2);
  EXPECT_THROW(Scheduler(shared_library(), both), std::invalid_argument);
}

// Two workers on one shared inference pool, two streams at once: every frame gives what one thread gives.
TEST(Scheduler, SharedInferencePoolGivesTheOneThreadResults) {
  constexpr std::uint64_t kFrames = 4;
  StreamConfig config = light_config();
  config.static_image_mode = true;  // Every frame the same work, so every result should be the same.
  StreamState reference_state;
  reference_state.config = config;
  const FrameResult expected = FramePipeline(shared_library()).run(small_jpeg(), 1, reference_state);
  ASSERT_TRUE(expected.ok()) << expected.error;

  SchedulerOptions options;
  options.worker_count = 2;
  options.inference_threads = 2;
  options.prewarm = config;
  std::vector<std::unique_ptr<Recorder>> recorders;
  for (int stream = 0; stream < 2; ++stream) recorders.push_back(std::make_unique<Recorder>());
  Scheduler scheduler(shared_library(), options);
  EXPECT_EQ(scheduler.inference_threads(), 2u);
  std::vector<std::shared_ptr<Session>> sessions;
  for (int stream = 0; stream < 2; ++stream) {
    sessions.push_back(scheduler.open_session(every_frame_session(config), recorders[stream]->sink()));
    ASSERT_NE(sessions.back(), nullptr);
  }
  for (std::uint64_t sequence = 0; sequence < kFrames; ++sequence) {
    for (const std::shared_ptr<Session>& session : sessions) {
      session->push(FrameInput{sequence, static_cast<std::int64_t>(sequence + 1) * 33'333, small_jpeg(), Clock::now()},
                    Clock::now());
    }
  }
  for (int stream = 0; stream < 2; ++stream) {
    ASSERT_TRUE(recorders[stream]->wait_for(kFrames));
    for (const Answer& answer : recorders[stream]->answers()) {
      SCOPED_TRACE("stream " + std::to_string(stream) + ": " + describe(answer));
      const auto* result = std::get_if<ResultAnswer>(&answer);
      ASSERT_NE(result, nullptr);
      ASSERT_EQ(result->result.pose.has_value(), expected.pose.has_value());
      if (!expected.pose) continue;
      for (size_t i = 0; i < pose::kPoseLandmarkCount; ++i) {
        EXPECT_NEAR(result->result.pose->landmarks[i].x, expected.pose->landmarks[i].x, 1e-4) << "landmark " << i;
        EXPECT_NEAR(result->result.pose->landmarks[i].y, expected.pose->landmarks[i].y, 1e-4) << "landmark " << i;
      }
      EXPECT_EQ(result->result.hands.size(), expected.hands.size());
    }
  }
}

// A lone stream, one frame at a time, runs every frame on the pool's pipeline; without a pool, none.
TEST(Scheduler, ALoneStreamRunsOnTheInferencePool) {
  constexpr std::uint64_t kFrames = 3;
  for (const std::size_t threads : {std::size_t{2}, std::size_t{1}}) {
    SCOPED_TRACE("inference_threads " + std::to_string(threads));
    SchedulerOptions options;
    // One worker: with two, the next frame can be taken by the second worker while the first is still
    // finishing the previous one, and then (rightly) runs on its own thread.
    options.worker_count = 1;
    options.inference_threads = threads;
    options.parallelism.mode = ParallelismOptions::Mode::always;  // Whatever else the machine runs.
    options.prewarm = light_config();
    Recorder recorder;
    Scheduler scheduler(shared_library(), options);
    auto session = scheduler.open_session(every_frame_session(), recorder.sink());
    ASSERT_NE(session, nullptr);
    for (std::uint64_t sequence = 0; sequence < kFrames; ++sequence) {
      session->push(FrameInput{sequence, static_cast<std::int64_t>(sequence + 1) * 33'333, small_jpeg(), Clock::now()},
                    Clock::now());
      ASSERT_TRUE(recorder.wait_for(sequence + 1));
    }
    EXPECT_EQ(scheduler.pooled_runs(), threads > 1 ? kFrames : 0);
  }
}

// A config takes effect from the next frame a worker starts: here pose off, then hands off too.
TEST(Scheduler, ConfigureAppliesToLaterFrames) {
  SchedulerOptions options;
  options.worker_count = 1;
  options.prewarm = light_config();
  Recorder recorder;
  Scheduler scheduler(shared_library(), options);
  SessionOptions session_options = every_frame_session();
  session_options.config.static_image_mode = true;
  auto session = scheduler.open_session(session_options, recorder.sink());
  const TimePoint now = Clock::now();
  session->push(FrameInput{0, 1000, small_jpeg(), now}, now);
  ASSERT_TRUE(recorder.wait_for(1));
  StreamConfig no_pose = session_options.config;
  no_pose.pose.reset();
  ASSERT_FALSE(session->configure(no_pose).has_value());
  session->push(FrameInput{1, 2000, small_jpeg(), now}, now);
  ASSERT_TRUE(recorder.wait_for(2));
  StreamConfig nothing = no_pose;
  nothing.hands.reset();
  ASSERT_FALSE(session->configure(nothing).has_value());
  session->push(FrameInput{2, 3000, small_jpeg(), now}, now);
  ASSERT_TRUE(recorder.wait_for(3));

  const std::vector<Answer> answers = recorder.answers();
  std::vector<FrameTiming> timings;
  for (const Answer& answer : answers) {
    ASSERT_TRUE(std::holds_alternative<ResultAnswer>(answer)) << describe(answer);
    timings.push_back(std::get<ResultAnswer>(answer).result.timing);
  }
  EXPECT_EQ(timings[0].pose_detector_runs, 1);
  EXPECT_EQ(timings[1].pose_detector_runs, 0);
  EXPECT_EQ(timings[1].pose_ms, 0);
  EXPECT_EQ(timings[1].palm_detector_runs, 1) << "without a pose, hands fall back on the palm detector";
  EXPECT_EQ(timings[2].hands_ms, 0);
  EXPECT_EQ(session->stats().answers.results, 3u);
  ASSERT_TRUE(session->stats().last_timing.has_value());
}

}  // namespace
}  // namespace posestream::stream
