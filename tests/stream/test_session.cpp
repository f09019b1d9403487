// Session without workers: ordering, timestamp checks, drop policies, reset, close and the run queue,
// as hand-worked transcripts of the answers each call produces.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "stream/stream.h"

namespace posestream::stream {
namespace {

using std::chrono::milliseconds;

// Every answer the sink received, as "reason first[..last]" or "result N", oldest first.
class Transcript {
 public:
  AnswerSink sink() {
    return [this](Answer&& answer) {
      const std::lock_guard lock(mutex_);
      lines_.push_back(describe(answer));
      if (auto* dropped = std::get_if<DroppedAnswer>(&answer)) messages_.push_back(dropped->message);
    };
  }
  std::vector<std::string> take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(lines_, {});
  }
  std::vector<std::string> messages() {
    const std::lock_guard lock(mutex_);
    return messages_;
  }

  static std::string describe(const Answer& answer) {
    if (const auto* result = std::get_if<ResultAnswer>(&answer)) return "result " + std::to_string(result->sequence);
    const auto& dropped = std::get<DroppedAnswer>(answer);
    std::string line = std::string(to_string(dropped.reason)) + " " + std::to_string(dropped.sequences.first);
    if (dropped.sequences.last != dropped.sequences.first) line += ".." + std::to_string(dropped.sequences.last);
    return line;
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
  std::vector<std::string> messages_;
};

using Lines = std::vector<std::string>;

FrameInput frame(std::uint64_t sequence, std::int64_t timestamp_us) {
  return FrameInput{sequence, timestamp_us, {0xFF, 0xD8, 0xFF}, {}};
}

// A session on a run queue that no worker serves: what it releases stays queued, so every answer here
// comes from the network-side calls alone.
class SessionTest : public ::testing::Test {
 protected:
  std::shared_ptr<Session> open(SessionOptions options = {}) {
    auto session = std::make_shared<Session>(std::move(options), transcript.sink(), run_queue, observer);
    EXPECT_TRUE(run_queue->admit(session));
    return session;
  }

  const TimePoint t0 = TimePoint{} + std::chrono::hours{1};
  std::shared_ptr<RunQueue> run_queue = std::make_shared<RunQueue>(4);
  std::shared_ptr<StreamObserver> observer = std::make_shared<StreamObserver>();
  Transcript transcript;
};

TEST_F(SessionTest, LatestKeepsOnlyTheNewestInOrderFrameWaiting) {
  auto session = open();
  session->push(frame(0, 100), t0);
  EXPECT_EQ(transcript.take(), Lines{});
  session->push(frame(1, 200), t0);
  session->push(frame(2, 300), t0);
  EXPECT_EQ(transcript.take(), (Lines{"superseded 0", "superseded 1"}));
  EXPECT_EQ(session->stats().queued, 1u);
  EXPECT_EQ(run_queue->queued_count(), 1u) << "in the run queue once, however many frames it released";
}

TEST_F(SessionTest, FramesReleasedTogetherSupersedeAllButTheNewest) {
  auto session = open();
  session->push(frame(2, 300), t0);
  session->push(frame(1, 200), t0);
  EXPECT_EQ(transcript.take(), Lines{});
  session->push(frame(0, 100), t0);  // Releases 0, 1, 2 at once.
  EXPECT_EQ(transcript.take(), (Lines{"superseded 0", "superseded 1"}));
  EXPECT_EQ(session->stats().queued, 1u);
}

TEST_F(SessionTest, AllQueuesUpToTheLimitThenAnswersOverflow) {
  SessionOptions options;
  options.drop_policy = DropPolicy::all;
  options.max_queued_frames = 3;
  auto session = open(options);
  for (std::uint64_t sequence = 0; sequence < 5; ++sequence) session->push(frame(sequence, 100 * (sequence + 1)), t0);
  EXPECT_EQ(transcript.take(), (Lines{"overflow 3", "overflow 4"}));
  const SessionStats stats = session->stats();
  EXPECT_EQ(stats.queued, 3u);
  EXPECT_EQ(stats.answers.overflow, 2u);
  EXPECT_EQ(stats.frames_received, 5u);
  EXPECT_EQ(run_queue->queued_count(), 1u);
}

TEST_F(SessionTest, SwitchingToAllStopsSuperseding) {
  auto session = open();
  session->set_drop_policy(DropPolicy::all);
  session->push(frame(0, 100), t0);
  session->push(frame(1, 200), t0);
  EXPECT_EQ(transcript.take(), Lines{});
  EXPECT_EQ(session->stats().queued, 2u);
}

// Checked in release order, not arrival order: 2 arrives first but is judged after 0 and 1.
TEST_F(SessionTest, TimestampNotAfterThePreviousReleasedIsInvalid) {
  SessionOptions options;
  options.drop_policy = DropPolicy::all;
  auto session = open(options);
  session->push(frame(2, 150), t0);
  session->push(frame(0, 100), t0);
  session->push(frame(1, 100), t0);  // Releases 1 (equal: invalid) and 2 (after 100: fine).
  session->push(frame(3, 120), t0);  // Before 2's 150: invalid.
  session->push(frame(4, 151), t0);
  EXPECT_EQ(transcript.take(), (Lines{"invalid 1", "invalid 3"}));
  EXPECT_EQ(transcript.messages(), (Lines{"timestamp_us 100 is not after the previous frame's 100",
                                          "timestamp_us 120 is not after the previous frame's 150"}));
  EXPECT_EQ(session->stats().queued, 3u);  // 0, 2 and 4.
  EXPECT_EQ(session->stats().answers.invalid, 2u);
}

// A frame the network side already found unusable keeps its place: answered `invalid` when released,
// never queued for a worker, and its timestamp (1000 here) is not what later frames are checked against.
TEST_F(SessionTest, AFrameWithAProblemIsAnsweredInvalidInItsTurnAndNeverQueued) {
  SessionOptions options;
  options.drop_policy = DropPolicy::all;
  auto session = open(options);
  FrameInput junk = frame(1, 1000);
  junk.problem = "image: not JPEG or PNG";
  session->push(std::move(junk), t0);
  session->push(frame(2, 300), t0);
  EXPECT_EQ(transcript.take(), Lines{});  // Both wait for 0.
  session->push(frame(0, 100), t0);
  EXPECT_EQ(transcript.take(), (Lines{"invalid 1"}));
  EXPECT_EQ(transcript.messages(), (Lines{"image: not JPEG or PNG"}));
  EXPECT_EQ(session->stats().queued, 2u);  // 0 and 2.
}

TEST_F(SessionTest, DuplicatesAndGapsAreAnsweredOnce) {
  auto session = open();
  session->push(frame(0, 100), t0);
  session->push(frame(0, 100), t0);
  EXPECT_EQ(transcript.take(), Lines{"duplicate 0"});
  EXPECT_FALSE(session->next_deadline().has_value());
  session->push(frame(2, 300), t0 + milliseconds{10});
  EXPECT_EQ(session->next_deadline(), t0 + milliseconds{60});  // Default gap_timeout: 50 ms after 2 arrived.
  session->poll(t0 + milliseconds{59});
  EXPECT_EQ(transcript.take(), Lines{});
  session->poll(t0 + milliseconds{60});
  EXPECT_EQ(transcript.take(), (Lines{"lost 1", "superseded 0"}));  // 2 released, replacing 0 under latest.
  EXPECT_FALSE(session->next_deadline().has_value());
  session->push(frame(1, 200), t0 + milliseconds{70});  // Already answered lost: silently discarded.
  session->push(frame(2, 300), t0 + milliseconds{70});
  EXPECT_EQ(transcript.take(), Lines{"duplicate 2"});
}

TEST_F(SessionTest, CloseAnswersBufferedAndQueuedFramesAndLaterPushes) {
  auto session = open();
  session->push(frame(0, 100), t0);
  session->push(frame(2, 300), t0);
  session->push(frame(3, 400), t0);
  EXPECT_EQ(transcript.take(), Lines{});
  EXPECT_EQ(run_queue->open_count(), 1u);
  session->close();
  EXPECT_EQ(transcript.take(), (Lines{"superseded 0", "lost 1", "superseded 2", "superseded 3"}));
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(run_queue->open_count(), 0u);
  EXPECT_FALSE(session->next_deadline().has_value());
  session->push(frame(4, 500), t0);
  session->close();
  EXPECT_EQ(transcript.take(), Lines{"superseded 4"});
  const SessionStats stats = session->stats();
  EXPECT_TRUE(stats.closed);
  EXPECT_EQ(stats.queued + stats.buffered, 0u);
  EXPECT_EQ(stats.answers.total(), 5u);
}

TEST_F(SessionTest, DestroyingAnOpenSessionAnswersWhatWaits) {
  {
    auto session = open();
    session->push(frame(1, 100), t0);
    run_queue->stop();  // Drops nothing yet: frame 1 is only buffered.
  }
  EXPECT_EQ(transcript.take(), (Lines{"lost 0", "superseded 1"}));
  EXPECT_EQ(run_queue->open_count(), 0u);
}

TEST_F(SessionTest, ResetAnswersWhatWaitsAndStartsNumbersAndTimestampsOver) {
  auto session = open();
  session->push(frame(0, 1000), t0);
  session->push(frame(2, 3000), t0);
  session->reset();
  EXPECT_EQ(transcript.take(), (Lines{"superseded 0", "lost 1", "superseded 2"}));
  session->push(frame(0, 10), t0);  // Sequence 0 and an earlier timestamp are fine again.
  session->push(frame(1, 20), t0);
  EXPECT_EQ(transcript.take(), Lines{"superseded 0"});
  EXPECT_EQ(session->stats().queued, 1u);
}

TEST_F(SessionTest, AStoppedRunQueueMeansSupersededAtOnce) {
  auto session = open();
  run_queue->stop();
  session->push(frame(0, 100), t0);
  EXPECT_EQ(transcript.take(), Lines{"superseded 0"});
  EXPECT_EQ(session->stats().queued, 0u);
}

TEST_F(SessionTest, TheSinkMayCallBackIntoTheSession) {
  std::shared_ptr<Session> session;
  std::vector<std::size_t> queued_seen;
  session = std::make_shared<Session>(
      SessionOptions{}, [&](Answer&&) { queued_seen.push_back(session->stats().queued); }, run_queue, nullptr);
  session->push(frame(0, 100), t0);
  session->push(frame(1, 200), t0);  // Answers 0 superseded; the sink reads stats without deadlock.
  session->close();                   // And from close().
  EXPECT_EQ(queued_seen, (std::vector<std::size_t>{1, 0}));
}

TEST_F(SessionTest, ObserverSeesEveryDroppedNumber) {
  std::mutex mutex;
  std::uint64_t observed = 0;
  observer->on_dropped = [&](DroppedReason, std::uint64_t count) {
    const std::lock_guard lock(mutex);
    observed += count;
  };
  SessionOptions options;
  options.reorder.max_lost_burst = 4;
  auto session = open(options);
  session->push(frame(0, 100), t0);
  session->push(frame(0, 100), t0);
  session->push(frame(10, 200), t0);
  session->poll(t0 + std::chrono::seconds{1});  // 1..9 lost as one range of 9 numbers.
  EXPECT_EQ(transcript.take(), (Lines{"duplicate 0", "lost 1..9", "superseded 0"}));
  EXPECT_EQ(observed, 11u);
  EXPECT_EQ(session->stats().answers.lost, 9u);
}

TEST_F(SessionTest, RefusesBadOptionsNamingThem) {
  SessionOptions options;
  options.max_queued_frames = 0;
  EXPECT_EQ(validate(options).value_or(""), "session: max_queued_frames 0 is outside [1, 1024]");
  EXPECT_THROW(open(options), std::invalid_argument);
  options = SessionOptions{};
  options.reorder.reorder_capacity = 0;
  EXPECT_TRUE(validate(options).has_value());
  options = SessionOptions{};
  options.config.max_num_hands = 0;
  EXPECT_TRUE(validate(options).has_value());
  EXPECT_FALSE(validate(SessionOptions{}).has_value());
  EXPECT_THROW(Session(SessionOptions{}, AnswerSink{}, run_queue, nullptr), std::invalid_argument);
}

TEST_F(SessionTest, ConfigureRefusesAnInvalidConfig) {
  auto session = open();
  StreamConfig config;
  config.max_num_hands = 7;
  EXPECT_EQ(session->configure(config).value_or(""), "stream config: max_num_hands 7 is outside [1, 4]");
  config.max_num_hands = 1;
  EXPECT_FALSE(session->configure(config).has_value());
}

TEST_F(SessionTest, TheRunQueueHoldsAtMostMaxSessions) {
  RunQueue queue(2);
  auto first = std::make_shared<Session>(SessionOptions{}, transcript.sink(), run_queue, nullptr);
  auto second = std::make_shared<Session>(SessionOptions{}, transcript.sink(), run_queue, nullptr);
  auto third = std::make_shared<Session>(SessionOptions{}, transcript.sink(), run_queue, nullptr);
  EXPECT_TRUE(queue.admit(first));
  EXPECT_TRUE(queue.admit(second));
  EXPECT_FALSE(queue.admit(third));
  queue.forget(first.get());
  EXPECT_TRUE(queue.admit(third));
  EXPECT_EQ(queue.open_count(), 2u);
  queue.stop();
  EXPECT_FALSE(queue.admit(first));
  EXPECT_EQ(queue.pop(), nullptr);
}

TEST(DropNames, RoundTrip) {
  EXPECT_EQ(parse_drop_policy("latest"), DropPolicy::latest);
  EXPECT_EQ(parse_drop_policy("all"), DropPolicy::all);
  EXPECT_FALSE(parse_drop_policy("some").has_value());
  EXPECT_STREQ(to_string(DropPolicy::all), "all");
  EXPECT_STREQ(to_string(DroppedReason::superseded), "superseded");
  EXPECT_STREQ(to_string(DroppedReason::overflow), "overflow");
  EXPECT_STREQ(to_string(DroppedReason::invalid), "invalid");
  EXPECT_STREQ(to_string(DroppedReason::lost), "lost");
}

}  // namespace
}  // namespace posestream::stream
