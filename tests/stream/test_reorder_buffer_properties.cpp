// Property tests of the ReorderBuffer: seeded random streams (shuffles, duplicates, losses, delays,
// sequence jumps) on a simulated clock, checked against the exactly-once contract in reorder_buffer.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "stream/reorder_buffer.h"

namespace posestream::stream {
namespace {

// What the simulated client put in each frame, to check that the right copy comes out.
struct Tag {
  std::uint64_t sequence = 0;
  int copy = 0;
};
using Buffer = ReorderBuffer<Tag>;

std::int64_t timestamp_for(std::uint64_t sequence) {
  return static_cast<std::int64_t>(sequence % 1000003) * 7;
}

struct Delivery {
  std::int64_t arrival_us = 0;
  std::uint64_t sequence = 0;
  int copy = 0;
};

struct Trial {
  ReorderOptions options;
  bool punctual_polls = true;  // The caller polls exactly at every deadline.
  std::vector<Delivery> deliveries;
};

enum class Kind { released, lost, late, duplicate };

struct Answer {
  std::size_t step = 0;  // Index of the push or poll call that produced it.
  std::int64_t at_us = 0;
  Kind kind = Kind::released;
  SequenceRange sequences;
  int copy = 0;  // Released only.
};

struct Pushed {  // One push call.
  std::size_t step = 0;
  Delivery delivery;
  std::uint64_t next_expected_before = 0;
};

struct Transcript {
  std::vector<Pushed> pushes;
  std::vector<Answer> answers;
};

bool is_primary(const Answer& answer) { return answer.kind == Kind::released || answer.kind == Kind::lost; }

// Drives one buffer over the trial's deliveries on a simulated microsecond clock, checking after every
// call that it holds exactly the frames received and not yet answered, and fewer than its capacity.
class Simulation {
 public:
  Simulation(const Trial& trial, std::mt19937& random)
      : trial_(trial), random_(random), buffer_(trial.options) {}

  Transcript run() {
    for (const Delivery& delivery : trial_.deliveries) {
      catch_up(delivery.arrival_us);
      const std::uint64_t before = buffer_.next_expected();
      buffer_.push(
          Frame<Tag>{delivery.sequence, timestamp_for(delivery.sequence), {delivery.sequence, delivery.copy}},
          at(delivery.arrival_us), events_);
      transcript_.pushes.push_back({step_, delivery, before});
      if (!received_.contains(delivery.sequence) && !answered(delivery.sequence))
        waiting_.insert(delivery.sequence);
      received_.insert(delivery.sequence);
      record(delivery.arrival_us);
    }
    while (auto deadline = buffer_.next_deadline()) {
      if (!poll_at_deadline(microseconds_of(*deadline))) break;
    }
    return std::move(transcript_);
  }

 private:
  static TimePoint at(std::int64_t microseconds) {
    return TimePoint{} + std::chrono::microseconds{microseconds};
  }
  static std::int64_t microseconds_of(TimePoint time) {
    return std::chrono::duration_cast<std::chrono::microseconds>(time - TimePoint{}).count();
  }

  // Polls as the caller's timer would before the next arrival: punctually, or at random times.
  void catch_up(std::int64_t arrival_us) {
    if (trial_.punctual_polls) {
      for (auto deadline = buffer_.next_deadline(); deadline && microseconds_of(*deadline) <= arrival_us;
           deadline = buffer_.next_deadline()) {
        if (!poll_at_deadline(microseconds_of(*deadline))) return;
      }
    }
    if (std::bernoulli_distribution(0.2)(random_) && arrival_us > last_call_us_) {
      poll_at(std::uniform_int_distribution<std::int64_t>(last_call_us_, arrival_us)(random_));
    }
  }

  // A poll at next_deadline() must release something, or the caller's timer would spin.
  bool poll_at_deadline(std::int64_t now_us) {
    const std::size_t before = buffer_.pending_count();
    poll_at(now_us);
    EXPECT_LT(buffer_.pending_count(), before) << "poll at next_deadline() " << now_us << " us did nothing";
    return buffer_.pending_count() < before;
  }

  void poll_at(std::int64_t now_us) {
    buffer_.poll(at(now_us), events_);
    record(now_us);
  }

  bool answered(std::uint64_t sequence) const {
    return primary_.contains(sequence) || in_lost_range(sequence);
  }
  bool in_lost_range(std::uint64_t sequence) const {
    return std::any_of(lost_ranges_.begin(), lost_ranges_.end(),
                       [&](const SequenceRange& range) { return range.contains(sequence); });
  }

  void record(std::int64_t now_us) {
    for (auto& event : events_) {
      Answer answer;
      answer.step = step_;
      answer.at_us = now_us;
      if (auto* released = std::get_if<Released<Tag>>(&event)) {
        const Frame<Tag>& frame = released->frame;
        answer.sequences = {frame.sequence, frame.sequence};
        answer.copy = frame.payload.copy;
        EXPECT_EQ(frame.payload.sequence, frame.sequence);
        EXPECT_EQ(frame.timestamp_us, timestamp_for(frame.sequence));
      } else {
        const auto& dropped = std::get<Dropped>(event);
        answer.sequences = dropped.sequences;
        answer.kind = dropped.reason == DropReason::lost   ? Kind::lost
                      : dropped.reason == DropReason::late ? Kind::late
                                                           : Kind::duplicate;
      }
      note_primary(answer);
      transcript_.answers.push_back(answer);
    }
    events_.clear();
    ASSERT_LT(buffer_.pending_count(), trial_.options.reorder_capacity);
    ASSERT_EQ(buffer_.pending_count(), waiting_.size()) << "step " << step_;
    last_call_us_ = now_us;
    ++step_;
  }

  void note_primary(const Answer& answer) {
    if (!is_primary(answer)) return;
    const SequenceRange& range = answer.sequences;
    if (range.first == range.last) {
      primary_.insert(range.first);
    } else {
      lost_ranges_.push_back(range);
    }
    waiting_.erase(waiting_.lower_bound(range.first), waiting_.upper_bound(range.last));
  }

  const Trial& trial_;
  std::mt19937& random_;
  Buffer buffer_;
  std::vector<Buffer::Event> events_;
  Transcript transcript_;
  std::size_t step_ = 0;
  std::int64_t last_call_us_ = 0;
  std::set<std::uint64_t> received_;  // Sequences delivered at least once.
  std::set<std::uint64_t> waiting_;   // Received, not yet answered: what the buffer must hold.
  std::set<std::uint64_t> primary_;   // Single numbers answered released or lost.
  std::vector<SequenceRange> lost_ranges_;
};

// Released and lost answers come out in sequence order and tile 0 .. highest delivered exactly once;
// released ones strictly increase; each run of lost numbers is per-number up to max_lost_burst, else
// one range longer than it.
void check_primary_answers(const Trial& trial, const Transcript& transcript) {
  std::uint64_t highest = 0;
  for (const Delivery& delivery : trial.deliveries) highest = std::max(highest, delivery.sequence);
  std::uint64_t next = 0;
  std::optional<std::uint64_t> lost_run_start;
  for (const Answer& answer : transcript.answers) {
    if (!is_primary(answer)) continue;
    ASSERT_EQ(answer.sequences.first, next) << "answers must tile the sequence space in order";
    ASSERT_LE(answer.sequences.first, answer.sequences.last);
    if (answer.kind == Kind::lost) {
      if (!lost_run_start) lost_run_start = answer.sequences.first;
      const std::uint64_t run_span = answer.sequences.last - *lost_run_start;
      if (answer.sequences.first != answer.sequences.last) {
        EXPECT_EQ(*lost_run_start, answer.sequences.first) << "a lost range must stand alone";
        EXPECT_GE(run_span, trial.options.max_lost_burst) << "range no longer than max_lost_burst";
      } else {
        EXPECT_LT(run_span, trial.options.max_lost_burst) << "more single lost answers than max_lost_burst";
      }
    } else {
      lost_run_start.reset();
    }
    next = answer.sequences.last + 1;
  }
  ASSERT_FALSE(transcript.answers.empty());
  EXPECT_EQ(next, highest + 1) << "every number up to the highest delivered is answered";
}

// Per push: the first copy of a number is never answered by its own push unless it is behind the lost
// window (late); every later copy is answered duplicate (or late, behind the window); polls answer no copies.
void check_copies(const Trial& trial, const Transcript& transcript) {
  std::map<std::size_t, std::vector<const Answer*>> secondary_by_step;
  for (const Answer& answer : transcript.answers) {
    if (!is_primary(answer)) secondary_by_step[answer.step].push_back(&answer);
  }
  std::set<std::uint64_t> seen;
  std::size_t matched = 0;
  for (const Pushed& push : transcript.pushes) {
    const std::uint64_t sequence = push.delivery.sequence;
    const bool behind_window = sequence < push.next_expected_before &&
                               push.next_expected_before - sequence > trial.options.lost_window;
    const bool first_copy = seen.insert(sequence).second;
    const auto found = secondary_by_step.find(push.step);
    const std::vector<const Answer*> none;
    const auto& answers = found == secondary_by_step.end() ? none : found->second;
    if (!behind_window && first_copy) {
      EXPECT_TRUE(answers.empty()) << "first copy of " << sequence << " answered as a copy";
      continue;
    }
    ASSERT_EQ(answers.size(), 1u) << "copy of " << sequence << " at step " << push.step;
    EXPECT_EQ(answers[0]->sequences, (SequenceRange{sequence, sequence}));
    EXPECT_EQ(answers[0]->kind, behind_window ? Kind::late : Kind::duplicate) << sequence;
    ++matched;
  }
  std::size_t secondary_total = 0;
  for (const auto& entry : secondary_by_step) secondary_total += entry.second.size();
  EXPECT_EQ(secondary_total, matched) << "a duplicate or late answer no push accounts for";
}

struct FirstDelivery {
  std::size_t step = 0;
  std::int64_t arrival_us = 0;
  int copy = 0;
};

// Released frames are the first copy received. Nothing is skipped early (only at capacity or once the
// earliest frame behind the gap waited gap_timeout); with punctual polls nothing waits longer.
void check_timing(const Trial& trial, const Transcript& transcript) {
  std::map<std::uint64_t, FirstDelivery> first;
  for (const Pushed& push : transcript.pushes) {
    first.try_emplace(push.delivery.sequence,
                      FirstDelivery{push.step, push.delivery.arrival_us, push.delivery.copy});
  }
  const std::int64_t timeout_us = trial.options.gap_timeout.count();
  for (const Answer& answer : transcript.answers) {
    if (answer.kind == Kind::released) {
      const FirstDelivery& delivery = first.at(answer.sequences.first);
      EXPECT_EQ(answer.copy, delivery.copy);
      EXPECT_GE(answer.step, delivery.step);
      if (trial.punctual_polls) {
        EXPECT_LE(answer.at_us, delivery.arrival_us + timeout_us)
            << "held too long: " << answer.sequences.first;
      }
    }
    if (answer.kind != Kind::lost) continue;
    std::size_t held = 0;  // Distinct frames beyond the skipped run received by this step.
    std::optional<std::int64_t> earliest_held, earliest_ever;
    for (auto it = first.upper_bound(answer.sequences.last); it != first.end(); ++it) {
      earliest_ever = std::min(earliest_ever.value_or(it->second.arrival_us), it->second.arrival_us);
      if (it->second.step > answer.step) continue;
      ++held;
      earliest_held = std::min(earliest_held.value_or(it->second.arrival_us), it->second.arrival_us);
    }
    ASSERT_TRUE(earliest_held.has_value())
        << "skipped " << answer.sequences.first << " with nothing beyond it";
    EXPECT_TRUE(held >= trial.options.reorder_capacity || answer.at_us >= *earliest_held + timeout_us)
        << "skipped " << answer.sequences.first << " early at " << answer.at_us << " us";
    if (trial.punctual_polls) {
      EXPECT_LE(answer.at_us, *earliest_ever + timeout_us) << "skipped late: " << answer.sequences.first;
    }
  }
}

// Random options and delivery pattern shared by both generators.
ReorderOptions random_options(std::mt19937& random) {
  ReorderOptions options;
  options.reorder_capacity = std::uniform_int_distribution<std::size_t>(1, 16)(random);
  const bool zero = std::bernoulli_distribution(0.05)(random);
  options.gap_timeout =
      std::chrono::microseconds{zero ? 0 : std::uniform_int_distribution<std::int64_t>(1000, 100000)(random)};
  return options;
}

// Sends each of `sent` (in order, one per interval) shuffled within a window, with random losses (also in
// bursts), duplicates and delays, and returns the deliveries in arrival order.
std::vector<Delivery> deliver(const std::vector<std::uint64_t>& sent, std::int64_t max_jitter_us,
                              std::mt19937& random) {
  const std::int64_t interval_us = std::uniform_int_distribution<std::int64_t>(1000, 40000)(random);
  const std::size_t shuffle_window = std::uniform_int_distribution<std::size_t>(1, 10)(random);
  const double loss = std::uniform_real_distribution<double>(0.0, 0.15)(random);
  const double duplicate = std::uniform_real_distribution<double>(0.0, 0.3)(random);
  // Half the streams are mildly jittery (a few frame intervals); 200 intervals keeps stragglers of a
  // contiguous stream inside the default lost window.
  max_jitter_us = std::min(max_jitter_us, (std::bernoulli_distribution(0.5)(random) ? 3 : 200) * interval_us);
  std::vector<std::size_t> slot(sent.size());
  std::iota(slot.begin(), slot.end(), 0);
  for (std::size_t begin = 0; begin < slot.size(); begin += shuffle_window) {
    std::shuffle(slot.begin() + begin, slot.begin() + std::min(slot.size(), begin + shuffle_window), random);
  }
  std::vector<Delivery> deliveries;
  std::size_t burst_left = 0;
  std::uniform_int_distribution<std::int64_t> jitter(0, max_jitter_us);
  for (std::size_t index = 0; index < sent.size(); ++index) {
    if (burst_left == 0 && std::bernoulli_distribution(0.005)(random))
      burst_left = std::uniform_int_distribution<std::size_t>(2, 20)(random);
    const bool lost = burst_left > 0 || std::bernoulli_distribution(loss)(random);
    burst_left -= burst_left > 0 ? 1 : 0;
    const int copies = (lost ? 0 : 1) + (std::bernoulli_distribution(duplicate)(random)
                                             ? std::uniform_int_distribution<int>(1, 3)(random)
                                             : 0);
    for (int copy = 0; copy < copies; ++copy) {
      deliveries.push_back(
          {static_cast<std::int64_t>(slot[index]) * interval_us + jitter(random), sent[index], copy});
    }
  }
  // Ties keep a random order: the generator above already randomised it.
  std::stable_sort(deliveries.begin(), deliveries.end(),
                   [](const Delivery& a, const Delivery& b) { return a.arrival_us < b.arrival_us; });
  return deliveries;
}

void run_trials(int trial_count, std::uint32_t seed, Trial (*make_trial)(std::mt19937&),
                bool expect_no_late) {
  std::mt19937 random(seed);
  for (int index = 0; index < trial_count; ++index) {
    const std::uint32_t trial_seed = static_cast<std::uint32_t>(random());
    SCOPED_TRACE("trial " + std::to_string(index) + ", trial seed " + std::to_string(trial_seed));
    std::mt19937 trial_random(trial_seed);
    const Trial trial = make_trial(trial_random);
    if (trial.deliveries.empty()) continue;
    const Transcript transcript = Simulation(trial, trial_random).run();
    if (::testing::Test::HasFatalFailure()) return;
    check_primary_answers(trial, transcript);
    check_copies(trial, transcript);
    check_timing(trial, transcript);
    if (expect_no_late) {
      for (const Answer& answer : transcript.answers)
        EXPECT_NE(answer.kind, Kind::late) << answer.sequences.first;
    }
    if (::testing::Test::HasFailure()) return;
  }
}

// A client numbering its frames 0, 1, 2, ... over a lossy, reordering, duplicating network.
Trial contiguous_stream(std::mt19937& random) {
  Trial trial;
  trial.options = random_options(random);
  trial.punctual_polls = std::bernoulli_distribution(0.8)(random);
  std::vector<std::uint64_t> sent(std::uniform_int_distribution<std::size_t>(20, 300)(random));
  std::iota(sent.begin(), sent.end(), 0);
  const std::int64_t max_jitter_us =
      std::uniform_int_distribution<std::int64_t>(0, 3 * trial.options.gap_timeout.count() + 80000)(random);
  trial.deliveries = deliver(sent, max_jitter_us, random);
  return trial;
}

// A client whose numbers jump: small gaps, long ones, astronomically long ones, and some near the top
// of the uint64 range; with a small max_lost_burst and lost_window so ranges and `late` both occur.
Trial jumping_stream(std::mt19937& random) {
  Trial trial = {random_options(random), std::bernoulli_distribution(0.8)(random), {}};
  trial.options.max_lost_burst = std::uniform_int_distribution<std::uint64_t>(1, 8)(random);
  trial.options.lost_window = std::uniform_int_distribution<std::uint64_t>(0, 64)(random);
  constexpr std::uint64_t kCeiling = UINT64_MAX - 4096;  // UINT64_MAX itself ends a stream; unit-tested.
  std::vector<std::uint64_t> sent;
  std::uint64_t next = std::uniform_int_distribution<std::uint64_t>(0, 3)(random);
  const std::size_t count = std::uniform_int_distribution<std::size_t>(10, 200)(random);
  std::discrete_distribution<int> jump_kind({70, 20, 7, 2.5, 0.5});
  while (sent.size() < count && next < kCeiling) {
    sent.push_back(next);
    const std::uint64_t jump_limits[] = {1, 5, 2000, std::uint64_t{1} << 40, kCeiling - next};
    const std::uint64_t limit = std::min(jump_limits[jump_kind(random)], kCeiling - next);
    next += std::uniform_int_distribution<std::uint64_t>(1, std::max<std::uint64_t>(limit, 1))(random);
  }
  trial.deliveries = deliver(sent, 3 * trial.options.gap_timeout.count() + 50000, random);
  return trial;
}

TEST(ReorderBufferProperties, ContiguousStreamsAnswerEverySentFrameExactlyOnce) {
  run_trials(3000, 20240611u, contiguous_stream, /*expect_no_late=*/true);
}

TEST(ReorderBufferProperties, JumpingStreamsStayBoundedAndAnswerEveryNumberOnce) {
  run_trials(2000, 77031u, jumping_stream, /*expect_no_late=*/false);
}

}  // namespace
}  // namespace posestream::stream
