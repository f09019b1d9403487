// Test helpers for the Scheduler tests: a small real JPEG, a gate that holds workers, per-stream answer
// recorders, and the plan and tally of a stream sent shuffled with duplicates and losses.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "golden/golden.h"
#include "stream/stream.h"
#include "test_paths.h"

namespace posestream::stream::test {

// A guard against a hang, not a timing assertion: everything here finishes in seconds.
inline constexpr std::chrono::seconds kHangGuard{120};

// A small JPEG with a person in it when the golden photo is there (so tracking, not only detection, runs),
// else a gradient.
inline const std::vector<std::uint8_t>& small_jpeg() {
  static const std::vector<std::uint8_t> bytes = [] {
    cv::Mat image;
    if (const auto path = golden::find_image("messi5.jpg")) image = cv::imread(path->string());
    if (image.empty()) {
      image = cv::Mat(120, 160, CV_8UC3);
      for (int y = 0; y < image.rows; ++y) {
        for (int x = 0; x < image.cols; ++x) image.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(x), uchar(2 * y), 90);
      }
    }
    cv::resize(image, image, cv::Size(image.cols / 2, image.rows / 2), 0, 0, cv::INTER_AREA);
    std::vector<std::uint8_t> encoded;
    cv::imencode(".jpg", image, encoded);
    return encoded;
  }();
  return bytes;
}

inline StreamConfig light_config() {
  StreamConfig config;
  config.pose = pose::PoseModel::lite;
  config.hands = hands::HandModel::lite;
  return config;
}

// A stream that keeps every frame (policy all), so that tests can count one result per frame.
inline SessionOptions every_frame_session(StreamConfig config = light_config()) {
  SessionOptions options;
  options.drop_policy = DropPolicy::all;
  options.config = std::move(config);
  return options;
}

inline std::shared_ptr<ModelLibrary> shared_library() {
  static const auto library = std::make_shared<ModelLibrary>(testing::models_dir());
  return library;
}

// Holds workers at the start of their frames until opened, so that tests can pile frames up behind them
// without depending on how fast anything runs.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    {
      const std::lock_guard lock(mutex_);
      open_ = true;
    }
    changed_.notify_all();
  }
  // Declared after the Scheduler: opens the gate before the Scheduler joins its workers, whatever
  // assertion ended the test early.
  struct OpenOnExit {
    Gate& gate;
    ~OpenOnExit() { gate.open(); }
  };

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool open_ = false;
};

// Counts frames running per session; records any session seen on two workers at once.
class InFlight {
 public:
  void on_frame(const Session& session, FramePhase phase) {
    const std::lock_guard lock(mutex_);
    int& count = running_[&session];
    count += phase == FramePhase::started ? 1 : -1;
    max_per_session_ = std::max(max_per_session_, count);
  }
  int max_per_session() {
    const std::lock_guard lock(mutex_);
    return max_per_session_;
  }

 private:
  std::mutex mutex_;
  std::map<const Session*, int> running_;
  int max_per_session_ = 0;
};

// One stream's answers, as its own sink received them.
class Recorder {
 public:
  AnswerSink sink() {
    // Notifies under the lock: once a waiter has seen its answers it may destroy the Recorder, so the
    // sink must not touch it after unlocking. (Tests also declare Recorders before the Scheduler.)
    return [this](Answer&& answer) {
      const std::lock_guard lock(mutex_);
      answers_.push_back(std::move(answer));
      changed_.notify_all();
    };
  }
  // True once `count` answers arrived; false if the hang guard expired.
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, kHangGuard, [&] { return answers_.size() >= count; });
  }
  std::vector<Answer> answers() {
    const std::lock_guard lock(mutex_);
    return answers_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Answer> answers_;
};

// What one stream sends: 0..count-1 minus `missing`, shuffled within blocks of 4, some sent twice.
struct Plan {
  std::int64_t timestamp_base_us = 0;  // Distinct per stream, so a result names the stream it came from.
  std::set<std::uint64_t> missing;
  std::set<std::uint64_t> doubled;
  std::vector<std::uint64_t> order;  // Arrival order, copies included.

  std::int64_t timestamp_of(std::uint64_t sequence) const {
    return timestamp_base_us + static_cast<std::int64_t>(sequence) * 33'333;
  }
};

inline Plan make_plan(int stream, std::uint64_t count) {
  Plan plan;
  plan.timestamp_base_us = (stream + 1) * 1'000'000'000LL;
  plan.missing = {static_cast<std::uint64_t>(5 + stream), static_cast<std::uint64_t>(17 + 2 * stream)};
  plan.doubled = {static_cast<std::uint64_t>(3 + stream), 12, 25};
  std::mt19937 random(1234 + stream);
  for (std::uint64_t block = 0; block < count; block += 4) {
    std::vector<std::uint64_t> sequences;
    for (std::uint64_t sequence = block; sequence < std::min(count, block + 4); ++sequence) {
      if (!plan.missing.contains(sequence)) sequences.push_back(sequence);
    }
    std::shuffle(sequences.begin(), sequences.end(), random);
    for (std::uint64_t sequence : sequences) {
      plan.order.push_back(sequence);
      if (plan.doubled.contains(sequence)) plan.order.push_back(sequence);
    }
  }
  return plan;
}

// Pushes the plan at full speed. `now` is synthetic (a microsecond per frame) so that the gap timeout
// never fires mid-stream however the machine schedules this thread; one poll at the end settles the gaps.
inline void send(Session& session, const Plan& plan) {
  const TimePoint start = Clock::now();
  std::int64_t tick = 0;
  for (std::uint64_t sequence : plan.order) {
    FrameInput input{sequence, plan.timestamp_of(sequence), small_jpeg(), Clock::now()};
    session.push(std::move(input), start + std::chrono::microseconds{++tick});
  }
  session.poll(start + std::chrono::seconds{10});
}

inline std::size_t answers_expected(const Plan& plan, std::uint64_t count) {
  return count + plan.order.size() - (count - plan.missing.size());  // One per number + one per extra copy.
}

struct Tally {
  std::vector<std::uint64_t> results;  // In delivery order.
  std::map<std::uint64_t, int> final_answers;  // Every answer but `duplicate`, per number.
  std::map<DroppedReason, int> reasons;
  std::vector<std::uint64_t> duplicates;
  bool timestamps_match = true;
};

inline Tally tally(const std::vector<Answer>& answers, const Plan& plan) {
  Tally tally;
  for (const Answer& answer : answers) {
    if (const auto* result = std::get_if<ResultAnswer>(&answer)) {
      tally.results.push_back(result->sequence);
      ++tally.final_answers[result->sequence];
      tally.timestamps_match &= result->timestamp_us == plan.timestamp_of(result->sequence);
      EXPECT_TRUE(result->result.ok());
      EXPECT_GE(result->result.timing.queue_ms, 0);
      EXPECT_GT(result->result.timing.total_ms, 0);
      continue;
    }
    const auto& dropped = std::get<DroppedAnswer>(answer);
    EXPECT_EQ(dropped.sequences.first, dropped.sequences.last);
    ++tally.reasons[dropped.reason];
    if (dropped.reason == DroppedReason::duplicate) {
      tally.duplicates.push_back(dropped.sequences.first);
    } else {
      ++tally.final_answers[dropped.sequences.first];
    }
  }
  return tally;
}

// The checks every full-speed run must pass, whatever the policy.
inline void expect_each_number_answered_once(const Tally& tally, const Plan& plan, std::uint64_t count) {
  for (std::uint64_t sequence = 0; sequence < count; ++sequence) {
    EXPECT_EQ(tally.final_answers.count(sequence) ? tally.final_answers.at(sequence) : 0, 1) << "sequence " << sequence;
  }
  EXPECT_EQ(tally.final_answers.size(), count) << "an answer for a number never sent nor skipped";
  std::multiset<std::uint64_t> duplicates(tally.duplicates.begin(), tally.duplicates.end());
  EXPECT_EQ(duplicates, std::multiset<std::uint64_t>(plan.doubled.begin(), plan.doubled.end()));
  EXPECT_EQ(tally.reasons.count(DroppedReason::lost) ? tally.reasons.at(DroppedReason::lost) : 0,
            static_cast<int>(plan.missing.size()));
  EXPECT_TRUE(std::is_sorted(tally.results.begin(), tally.results.end()));
  EXPECT_EQ(std::adjacent_find(tally.results.begin(), tally.results.end()), tally.results.end());
  for (std::uint64_t sequence : tally.results) EXPECT_FALSE(plan.missing.contains(sequence));
  EXPECT_TRUE(tally.timestamps_match) << "a result carries another stream's timestamp";
  EXPECT_EQ(tally.reasons.count(DroppedReason::invalid), 0u);
}

inline int count_of(const Tally& tally, DroppedReason reason) {
  return tally.reasons.count(reason) ? tally.reasons.at(reason) : 0;
}

inline std::string describe(const Answer& answer) {
  if (const auto* result = std::get_if<ResultAnswer>(&answer)) return "result " + std::to_string(result->sequence);
  const auto& dropped = std::get<DroppedAnswer>(answer);
  return std::string(to_string(dropped.reason)) + " " + std::to_string(dropped.sequences.first);
}

inline std::vector<std::uint64_t> sequences_with(const std::vector<Answer>& answers, std::optional<DroppedReason> reason) {
  std::vector<std::uint64_t> sequences;
  for (const Answer& answer : answers) {
    if (const auto* result = std::get_if<ResultAnswer>(&answer)) {
      if (!reason) sequences.push_back(result->sequence);
    } else if (const auto& dropped = std::get<DroppedAnswer>(answer); reason == dropped.reason) {
      sequences.push_back(dropped.sequences.first);
    }
  }
  std::sort(sequences.begin(), sequences.end());
  return sequences;
}

}  // namespace posestream::stream::test
