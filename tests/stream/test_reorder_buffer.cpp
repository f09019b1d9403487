// Unit tests of the ReorderBuffer: hand-worked transcripts of small streams.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "stream/reorder_buffer.h"

namespace posestream::stream {
namespace {

using Texts = std::vector<std::string>;
using Buffer = ReorderBuffer<std::string>;

TimePoint at_us(std::int64_t microseconds) { return TimePoint{} + std::chrono::microseconds{microseconds}; }
TimePoint at_ms(std::int64_t milliseconds) { return at_us(milliseconds * 1000); }

// One event as text: "R3" released 3, "L3" lost, "D3" duplicate, "T3" late, "L6-99" a lost range.
// A released frame whose payload or timestamp is not the one pushed for its number shows as "R3?".
std::string describe(const Buffer::Event& event) {
  if (const auto* released = std::get_if<Released<std::string>>(&event)) {
    const Frame<std::string>& frame = released->frame;
    const bool intact = frame.payload == "frame " + std::to_string(frame.sequence) &&
                        frame.timestamp_us == static_cast<std::int64_t>(frame.sequence % 1000000) * 10;
    return "R" + std::to_string(frame.sequence) + (intact ? "" : "?");
  }
  const auto& dropped = std::get<Dropped>(event);
  const char letter = dropped.reason == DropReason::lost   ? 'L'
                      : dropped.reason == DropReason::late ? 'T'
                                                           : 'D';
  std::string text = letter + std::to_string(dropped.sequences.first);
  if (dropped.sequences.last != dropped.sequences.first) text += "-" + std::to_string(dropped.sequences.last);
  return text;
}

// Drives one buffer and returns each call's events as text.
class Stream {
 public:
  explicit Stream(ReorderOptions options = {}) : buffer_(options) {}

  std::vector<std::string> push(std::uint64_t sequence, TimePoint now) {
    Frame<std::string> frame{sequence, static_cast<std::int64_t>(sequence % 1000000) * 10,
                             "frame " + std::to_string(sequence)};
    std::vector<Buffer::Event> events;
    buffer_.push(std::move(frame), now, events);
    return describe_all(events);
  }
  std::vector<std::string> poll(TimePoint now) {
    std::vector<Buffer::Event> events;
    buffer_.poll(now, events);
    return describe_all(events);
  }
  std::vector<std::string> reset() {
    std::vector<Buffer::Event> events;
    buffer_.reset(events);
    return describe_all(events);
  }
  Buffer& buffer() { return buffer_; }

 private:
  static std::vector<std::string> describe_all(const std::vector<Buffer::Event>& events) {
    std::vector<std::string> texts;
    for (const auto& event : events) texts.push_back(describe(event));
    return texts;
  }
  Buffer buffer_;
};

TEST(ReorderBuffer, InOrderFramesPassStraightThrough) {
  Stream stream;
  for (std::uint64_t sequence = 0; sequence < 5; ++sequence) {
    EXPECT_EQ(stream.push(sequence, at_ms(static_cast<std::int64_t>(sequence) * 33)),
              Texts{"R" + std::to_string(sequence)});
    EXPECT_EQ(stream.buffer().pending_count(), 0u);
    EXPECT_FALSE(stream.buffer().next_deadline().has_value());
  }
  EXPECT_EQ(stream.buffer().next_expected(), 5u);
}

TEST(ReorderBuffer, SwappedPairIsReleasedInOrder) {
  Stream stream;
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.buffer().pending_count(), 1u);
  EXPECT_EQ(stream.push(0, at_ms(5)), (Texts{"R0", "R1"}));
  EXPECT_EQ(stream.buffer().pending_count(), 0u);
}

TEST(ReorderBuffer, EveryCopyOfABufferedFrameIsADuplicate) {
  Stream stream;
  EXPECT_EQ(stream.push(2, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(2, at_ms(1)), Texts{"D2"});
  EXPECT_EQ(stream.push(2, at_ms(2)), Texts{"D2"});
  EXPECT_EQ(stream.buffer().pending_count(), 1u);
  EXPECT_EQ(stream.push(0, at_ms(3)), Texts{"R0"});
  EXPECT_EQ(stream.push(1, at_ms(4)), (Texts{"R1", "R2"}));
}

TEST(ReorderBuffer, EveryCopyOfAReleasedFrameIsADuplicate) {
  Stream stream;
  EXPECT_EQ(stream.push(0, at_ms(0)), Texts{"R0"});
  EXPECT_EQ(stream.push(0, at_ms(1)), Texts{"D0"});
  EXPECT_EQ(stream.push(0, at_ms(2)), Texts{"D0"});
  EXPECT_EQ(stream.push(1, at_ms(3)), Texts{"R1"});
}

TEST(ReorderBuffer, GapTimesOutExactlyAtArrivalPlusTimeout) {
  Stream stream;  // gap_timeout 50 ms
  EXPECT_EQ(stream.push(3, at_ms(10)), Texts{});
  EXPECT_EQ(stream.push(4, at_ms(30)), Texts{});  // Later arrivals do not move the deadline.
  ASSERT_TRUE(stream.buffer().next_deadline().has_value());
  EXPECT_EQ(*stream.buffer().next_deadline(), at_ms(60));
  EXPECT_EQ(stream.poll(at_us(59'999)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(60)), (Texts{"L0", "L1", "L2", "R3", "R4"}));
  EXPECT_FALSE(stream.buffer().next_deadline().has_value());
}

TEST(ReorderBuffer, NextGapIsTimedFromTheEarliestArrivalBehindIt) {
  Stream stream;
  EXPECT_EQ(stream.push(2, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(5, at_ms(20)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0", "L1", "R2"}));
  EXPECT_EQ(*stream.buffer().next_deadline(), at_ms(70));  // Frame 5 arrived at 20 ms.
  EXPECT_EQ(stream.poll(at_us(69'999)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(70)), (Texts{"L3", "L4", "R5"}));
}

TEST(ReorderBuffer, FrameHeldSinceBeforeAnEarlierGapClosedIsNotHeldLongerThanTheTimeout) {
  Stream stream;
  EXPECT_EQ(stream.push(3, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(1, at_ms(10)), Texts{});
  EXPECT_EQ(stream.push(0, at_ms(45)), (Texts{"R0", "R1"}));
  EXPECT_EQ(*stream.buffer().next_deadline(), at_ms(50));
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L2", "R3"}));
}

TEST(ReorderBuffer, ReachingCapacitySkipsToTheLowestBufferedFrame) {
  Stream stream(ReorderOptions{.reorder_capacity = 4});
  EXPECT_EQ(stream.push(2, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(3, at_ms(1)), Texts{});
  EXPECT_EQ(stream.push(6, at_ms(2)), Texts{});
  EXPECT_EQ(stream.buffer().pending_count(), 3u);
  EXPECT_EQ(stream.push(7, at_ms(3)), (Texts{"L0", "L1", "R2", "R3"}));
  EXPECT_EQ(stream.buffer().pending_count(), 2u);
  EXPECT_EQ(stream.buffer().next_expected(), 4u);
}

TEST(ReorderBuffer, CapacityOfOneSkipsEveryGapAtOnce) {
  Stream stream(ReorderOptions{.reorder_capacity = 1});
  EXPECT_EQ(stream.push(0, at_ms(0)), Texts{"R0"});
  EXPECT_EQ(stream.push(2, at_ms(1)), (Texts{"L1", "R2"}));
}

TEST(ReorderBuffer, ZeroGapTimeoutSkipsAtTheSamePush) {
  Stream stream(ReorderOptions{.gap_timeout = std::chrono::microseconds{0}});
  EXPECT_EQ(stream.push(1, at_ms(7)), (Texts{"L0", "R1"}));
}

TEST(ReorderBuffer, MissingFrameArrivingAfterItsDeadlineButBeforeThePollStillCounts) {
  Stream stream;
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(0, at_ms(80)), (Texts{"R0", "R1"}));
}

TEST(ReorderBuffer, PushAppliesDeadlinesThatPassedWithoutAPoll) {
  Stream stream;
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.push(5, at_ms(60)), (Texts{"L0", "R1"}));
  EXPECT_EQ(*stream.buffer().next_deadline(), at_ms(110));
}

TEST(ReorderBuffer, FrameArrivingAfterItWasAnsweredLostIsDiscardedSilentlyOnce) {
  Stream stream;
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0", "R1"}));
  EXPECT_EQ(stream.push(0, at_ms(60)), Texts{});
  EXPECT_EQ(stream.push(0, at_ms(61)), Texts{"D0"});  // An extra copy of a frame received.
  EXPECT_EQ(stream.push(0, at_ms(62)), Texts{"D0"});
}

TEST(ReorderBuffer, StragglersInsideALostRunAreEachDiscardedOnce) {
  Stream stream;
  EXPECT_EQ(stream.push(10, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)),
            (Texts{"L0", "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9", "R10"}));
  for (std::uint64_t sequence : {5, 4, 6, 0, 9, 2}) {
    EXPECT_EQ(stream.push(sequence, at_ms(60)), Texts{}) << sequence;
  }
  for (std::uint64_t sequence : {5, 4, 6, 0, 9, 2}) {
    EXPECT_EQ(stream.push(sequence, at_ms(61)), Texts{"D" + std::to_string(sequence)});
  }
  for (std::uint64_t sequence : {1, 3, 7, 8}) {
    EXPECT_EQ(stream.push(sequence, at_ms(62)), Texts{}) << sequence;
  }
}

TEST(ReorderBuffer, NumbersFurtherBehindThanTheLostWindowAreLate) {
  Stream stream(ReorderOptions{.lost_window = 4});
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0", "R1"}));
  EXPECT_EQ(stream.push(2, at_ms(51)), Texts{"R2"});
  EXPECT_EQ(stream.push(3, at_ms(52)), Texts{"R3"});
  // next_expected 4: lost 0 is 4 behind, still remembered.
  EXPECT_EQ(stream.push(0, at_ms(53)), Texts{});

  Stream further(ReorderOptions{.lost_window = 4});
  further.push(1, at_ms(0));
  further.poll(at_ms(50));
  for (std::uint64_t sequence = 2; sequence <= 4; ++sequence) further.push(sequence, at_ms(51));
  // next_expected 5: lost 0 is 5 behind, forgotten; released 1 is 4 behind, still known released.
  EXPECT_EQ(further.push(0, at_ms(60)), Texts{"T0"});
  EXPECT_EQ(further.push(1, at_ms(60)), Texts{"D1"});
  EXPECT_EQ(further.push(5, at_ms(61)), Texts{"R5"});
  // next_expected 6: released 1 is now 5 behind, so a copy can no longer be told from a lost frame.
  EXPECT_EQ(further.push(1, at_ms(62)), Texts{"T1"});
  EXPECT_EQ(further.push(2, at_ms(62)), Texts{"D2"});
}

TEST(ReorderBuffer, ZeroLostWindowAnswersEveryPassedNumberLate) {
  Stream stream(ReorderOptions{.lost_window = 0});
  EXPECT_EQ(stream.push(1, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0", "R1"}));
  EXPECT_EQ(stream.push(0, at_ms(60)), Texts{"T0"});
  EXPECT_EQ(stream.push(1, at_ms(60)), Texts{"T1"});
}

TEST(ReorderBuffer, SkipsUpToTheBurstLimitAreAnsweredPerNumberLongerOnesAsOneRange) {
  Stream stream(ReorderOptions{.max_lost_burst = 3});
  EXPECT_EQ(stream.push(3, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0", "L1", "L2", "R3"}));
  EXPECT_EQ(stream.push(8, at_ms(60)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(110)), (Texts{"L4-7", "R8"}));
}

TEST(ReorderBuffer, HugeJumpIsOneLostRangeAndRemembersOnlyTheWindow) {
  constexpr std::uint64_t kFar = 1'000'000'000'000;
  Stream stream;
  for (std::uint64_t sequence = 0; sequence <= 5; ++sequence) stream.push(sequence, at_ms(0));
  EXPECT_EQ(stream.push(kFar, at_ms(1)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(51)), (Texts{"L6-999999999999", "R1000000000000"}));
  EXPECT_EQ(stream.push(kFar - 3, at_ms(60)), Texts{});  // Lost, within the window.
  EXPECT_EQ(stream.push(kFar - 3, at_ms(61)), Texts{"D999999999997"});
  EXPECT_EQ(stream.push(7, at_ms(62)), Texts{"T7"});  // Lost, long forgotten.
  EXPECT_EQ(stream.push(kFar + 1, at_ms(63)), Texts{"R1000000000001"});
}

TEST(ReorderBuffer, TheLastSequenceNumberEndsTheStream) {
  Stream stream;
  EXPECT_EQ(stream.push(UINT64_MAX, at_ms(0)), Texts{});
  EXPECT_EQ(stream.poll(at_ms(50)), (Texts{"L0-18446744073709551614", "R18446744073709551615"}));
  EXPECT_EQ(stream.push(UINT64_MAX, at_ms(60)), Texts{"D18446744073709551615"});
  EXPECT_EQ(stream.push(UINT64_MAX - 1, at_ms(60)), Texts{});  // Lost, within the window.
  EXPECT_EQ(stream.push(5, at_ms(60)), Texts{"T5"});
  EXPECT_EQ(stream.buffer().pending_count(), 0u);
}

TEST(ReorderBuffer, ResetFlushesInOrderThenStartsOverAtZero) {
  Stream stream;
  EXPECT_EQ(stream.push(0, at_ms(0)), Texts{"R0"});
  EXPECT_EQ(stream.push(4, at_ms(1)), Texts{});
  EXPECT_EQ(stream.push(2, at_ms(2)), Texts{});
  EXPECT_EQ(stream.reset(), (Texts{"L1", "R2", "L3", "R4"}));
  EXPECT_EQ(stream.buffer().pending_count(), 0u);
  EXPECT_EQ(stream.buffer().next_expected(), 0u);
  EXPECT_FALSE(stream.buffer().next_deadline().has_value());
  // A fresh stream: numbers answered before the reset are new frames again.
  EXPECT_EQ(stream.push(1, at_ms(10)), Texts{});
  EXPECT_EQ(stream.push(0, at_ms(11)), (Texts{"R0", "R1"}));
}

TEST(ReorderBuffer, ResetOfAnEmptyBufferAnswersNothing) {
  Stream stream;
  EXPECT_EQ(stream.reset(), Texts{});
  EXPECT_EQ(stream.push(0, at_ms(0)), Texts{"R0"});
}

TEST(ReorderBuffer, MoveOnlyPayloadsAreMovedThrough) {
  ReorderBuffer<std::unique_ptr<int>> buffer;
  std::vector<ReorderBuffer<std::unique_ptr<int>>::Event> events;
  buffer.push({1, 100, std::make_unique<int>(11)}, at_ms(0), events);
  buffer.push({0, 90, std::make_unique<int>(10)}, at_ms(1), events);
  ASSERT_EQ(events.size(), 2u);
  const auto& first = std::get<Released<std::unique_ptr<int>>>(events[0]).frame;
  const auto& second = std::get<Released<std::unique_ptr<int>>>(events[1]).frame;
  EXPECT_EQ(first.sequence, 0u);
  EXPECT_EQ(first.timestamp_us, 90);
  ASSERT_NE(first.payload, nullptr);
  EXPECT_EQ(*first.payload, 10);
  EXPECT_EQ(second.sequence, 1u);
  ASSERT_NE(second.payload, nullptr);
  EXPECT_EQ(*second.payload, 11);
}

TEST(SequenceLedger, ForgetsEachLostNumberAsItArrivesSoFurtherCopiesAreDuplicates) {
  using Verdict = SequenceLedger::Verdict;
  SequenceLedger ledger(16);
  EXPECT_EQ(ledger.pass_lost_until(5), (SequenceRange{0, 4}));
  ledger.pass_released();
  EXPECT_EQ(ledger.next_expected(), 6u);
  for (std::uint64_t sequence : {2, 0, 4, 1, 3}) {
    EXPECT_EQ(ledger.classify_passed(sequence), Verdict::discard_silently) << sequence;
    EXPECT_EQ(ledger.classify_passed(sequence), Verdict::duplicate) << sequence;
  }
  EXPECT_EQ(ledger.classify_passed(5), Verdict::duplicate);
}

TEST(SequenceLedger, PassingTheLastNumberLeavesEveryNumberBehind) {
  using Verdict = SequenceLedger::Verdict;
  SequenceLedger ledger(4);
  EXPECT_EQ(ledger.pass_lost_until(UINT64_MAX), (SequenceRange{0, UINT64_MAX - 1}));
  ledger.pass_released();
  EXPECT_TRUE(ledger.exhausted());
  EXPECT_TRUE(ledger.is_passed(0));
  EXPECT_EQ(ledger.classify_passed(UINT64_MAX), Verdict::duplicate);
  EXPECT_EQ(ledger.classify_passed(UINT64_MAX - 3), Verdict::discard_silently);  // 4 behind 2^64.
  EXPECT_EQ(ledger.classify_passed(UINT64_MAX - 4), Verdict::late);              // 5 behind.
}

TEST(ReorderOptions, DefaultsAreValid) { EXPECT_FALSE(validate(ReorderOptions{}).has_value()); }

TEST(ReorderOptions, BadSettingsAreNamedWithTheirValue) {
  const auto names = [](const ReorderOptions& options, const std::string& expected) {
    const std::string message = validate(options).value_or("");
    EXPECT_NE(message.find(expected), std::string::npos) << message;
  };
  names({.reorder_capacity = 0}, "reorder_capacity 0");
  names({.reorder_capacity = 100000}, "reorder_capacity 100000");
  names({.gap_timeout = std::chrono::microseconds{-1}}, "gap_timeout -1");
  names({.lost_window = 1u << 20}, "lost_window 1048576");
  names({.max_lost_burst = 0}, "max_lost_burst 0");
  EXPECT_THROW(Buffer(ReorderOptions{.reorder_capacity = 0}), std::invalid_argument);
}

TEST(DropReason, SpelledAsOnTheWire) {
  EXPECT_STREQ(to_string(DropReason::late), "late");
  EXPECT_STREQ(to_string(DropReason::duplicate), "duplicate");
  EXPECT_STREQ(to_string(DropReason::lost), "lost");
}

}  // namespace
}  // namespace posestream::stream
