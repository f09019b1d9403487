// ReorderBuffer: puts one stream's frames back in sequence order and answers every sequence number once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace posestream::stream {

// Contract (DESIGN.md "Ordering and latency"):
//
// - next_expected starts at 0. Frames leave strictly in sequence order, and the buffer always advances:
//   a missing number is waited for at most `gap_timeout`, counted from the earliest arrival among the
//   frames buffered behind it, or until `reorder_capacity` frames are buffered. Then it skips to its
//   lowest buffered number and answers each skipped number `lost`. So no frame is held longer than
//   gap_timeout, provided the caller calls poll() at next_deadline().
// - Every number from 0 up to the highest received is answered exactly once, in order: Released (the
//   caller owes it a result) or Dropped `lost` (skipped, whether or not the client ever sent it).
// - Each extra copy of a frame already received (buffered, released, or arrived after its number was
//   answered lost) is answered `duplicate`. The first copy arriving after its number was answered `lost`
//   is discarded silently: that number already had its one answer.
// - Telling those cases apart needs memory of which passed numbers were lost; it is kept for numbers at
//   most `lost_window` behind next_expected. A frame further behind is answered `late`. For its number
//   that is a second answer, which only a frame delayed by more than lost_window numbers can cause.
// - Huge gaps (a client jumping from 5 to 10^12): a skip of at most `max_lost_burst` numbers is answered
//   one `lost` per number; a longer skip by ONE Dropped{first..last, lost} range, so neither time nor
//   memory grows with the gap. A client numbering frames 0, 1, 2, ... only sees a range after more than
//   max_lost_burst frames in a row went missing; the wire protocol must still carry ranges.
// - Memory is bounded by the options alone: at most reorder_capacity - 1 frames are held between calls
//   (reaching the capacity skips at once), and at most lost_window / 2 + 1 lost ranges are remembered.
// - Releasing UINT64_MAX ends the stream: every later frame is behind it. reset() starts over.
//
// Pure and single-threaded: the caller passes the time in (`now`, a steady clock reading) and owns
// locking. Timestamps are carried, not checked (the Session checks them in release order).

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;

struct ReorderOptions {
  // Frames held while waiting for a missing sequence. Buffering this many forces a skip at once, so
  // between calls at most reorder_capacity - 1 frames are held. 1 disables reordering. Range [1, 256].
  std::size_t reorder_capacity = 8;
  // Longest wait for a missing sequence, from the earliest arrival among the frames buffered behind it.
  // Zero skips at the first push or poll. Range [0, 10 s].
  std::chrono::microseconds gap_timeout = std::chrono::milliseconds{50};
  // How far behind next_expected (in sequence numbers) lost numbers are remembered, so that their late
  // arrival is discarded silently rather than answered a second time. Range [0, 65536].
  std::uint64_t lost_window = 256;
  // Longest skip answered one `lost` event per number; longer skips are one range event.
  // Range [1, 65536].
  std::uint64_t max_lost_burst = 1024;
};

// Empty if the options are usable, else a message naming the bad setting and value.
std::optional<std::string> validate(const ReorderOptions& options);

template <typename Payload>
struct Frame {
  std::uint64_t sequence = 0;
  std::int64_t timestamp_us = 0;  // The client's capture time, carried through untouched.
  Payload payload{};
};

// An inclusive range of sequence numbers; first == last for a single number.
struct SequenceRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  bool contains(std::uint64_t sequence) const { return first <= sequence && sequence <= last; }
  friend bool operator==(const SequenceRange&, const SequenceRange&) = default;
};

enum class DropReason { late, duplicate, lost };
const char* to_string(DropReason reason);  // The wire protocol's spelling: "late", "duplicate", "lost".

template <typename Payload>
struct Released {
  Frame<Payload> frame;
};

struct Dropped {
  SequenceRange sequences;  // A single number, except for `lost` skips longer than max_lost_burst.
  DropReason reason = DropReason::lost;
};

template <typename Payload>
using ReorderEvent = std::variant<Released<Payload>, Dropped>;

// The non-template half of the buffer: which numbers are behind us, and which of the recent ones were
// answered lost and have not arrived since. Used by ReorderBuffer; public so it can be tested alone.
class SequenceLedger {
 public:
  enum class Verdict { duplicate, late, discard_silently };

  explicit SequenceLedger(std::uint64_t lost_window) : lost_window_(lost_window) {}

  std::uint64_t next_expected() const { return next_expected_; }
  // True once UINT64_MAX itself was passed: then every number is behind us.
  bool exhausted() const { return exhausted_; }
  bool is_passed(std::uint64_t sequence) const { return exhausted_ || sequence < next_expected_; }

  // Answers a passed number arriving again. A remembered lost number is forgotten as it is reported
  // discard_silently, so its next copy is a duplicate.
  Verdict classify_passed(std::uint64_t sequence);
  // next_expected was released.
  void pass_released();
  // Skips next_expected .. target - 1 (target > next_expected) as lost and returns that range.
  SequenceRange pass_lost_until(std::uint64_t target);

 private:
  std::uint64_t last_passed() const { return exhausted_ ? UINT64_MAX : next_expected_ - 1; }
  void forget_outside_window();

  std::uint64_t lost_window_;
  std::uint64_t next_expected_ = 0;
  bool exhausted_ = false;
  std::deque<SequenceRange> recently_lost_;  // Ascending, disjoint; each ends within lost_window.
};

// Payload: any movable type (image bytes, a parsed frame); it is moved in and out, never copied.
template <typename Payload>
class ReorderBuffer {
 public:
  using Event = ReorderEvent<Payload>;

  // Throws std::invalid_argument with validate()'s message if the options are unusable.
  explicit ReorderBuffer(ReorderOptions options = {});

  // Events are appended to `events`, which is never cleared, so the caller can reuse one vector.
  // Takes one arriving frame and appends to `events` everything it settles: the frame and any frames it
  // unblocks (Released, in order), its own drop, skips forced by capacity or by deadlines <= now.
  // The frame is placed before deadlines are applied: a missing frame that arrives after its deadline
  // but before the caller's poll() still counts, rather than being answered lost.
  void push(Frame<Payload>&& frame, TimePoint now, std::vector<Event>& events);
  // Appends what the gap timeout allows at `now`. Call it at next_deadline().
  void poll(TimePoint now, std::vector<Event>& events);
  // The client's "reset" control. Flushes: buffered frames are Released in order, with gaps between them
  // answered lost, so every frame received gets its answer (the caller may answer them `superseded`).
  // Then the buffer starts over as new: next_expected = 0 (clients restart at 0), nothing remembered.
  void reset(std::vector<Event>& events);

  // When poll() must next be called: the earliest buffered arrival + gap_timeout; empty if none held.
  std::optional<TimePoint> next_deadline() const;
  std::size_t pending_count() const { return held_.size(); }
  std::uint64_t next_expected() const { return ledger_.next_expected(); }
  const ReorderOptions& options() const { return options_; }

 private:
  struct Held {
    Frame<Payload> frame;
    TimePoint arrival;
  };

  void release_ready(std::vector<Event>& events);
  void skip_to_lowest_held(std::vector<Event>& events);
  void answer_lost(SequenceRange skipped, std::vector<Event>& events) const;

  ReorderOptions options_;
  SequenceLedger ledger_;
  std::map<std::uint64_t, Held> held_;  // Invariant between calls: every key > next_expected.
};

// Throws std::invalid_argument naming the bad setting; shared by every ReorderBuffer instantiation.
void throw_if_invalid(const ReorderOptions& options);

template <typename Payload>
ReorderBuffer<Payload>::ReorderBuffer(ReorderOptions options)
    : options_(options), ledger_(options.lost_window) {
  throw_if_invalid(options_);
}

template <typename Payload>
void ReorderBuffer<Payload>::push(Frame<Payload>&& frame, TimePoint now, std::vector<Event>& events) {
  const std::uint64_t sequence = frame.sequence;
  if (ledger_.is_passed(sequence)) {
    const SequenceLedger::Verdict verdict = ledger_.classify_passed(sequence);
    if (verdict != SequenceLedger::Verdict::discard_silently) {
      const DropReason reason =
          verdict == SequenceLedger::Verdict::late ? DropReason::late : DropReason::duplicate;
      events.push_back(Dropped{{sequence, sequence}, reason});
    }
  } else if (held_.contains(sequence)) {
    events.push_back(Dropped{{sequence, sequence}, DropReason::duplicate});
  } else {
    held_.emplace(sequence, Held{std::move(frame), now});
    release_ready(events);
    if (held_.size() >= options_.reorder_capacity) skip_to_lowest_held(events);
  }
  poll(now, events);
}

template <typename Payload>
void ReorderBuffer<Payload>::poll(TimePoint now, std::vector<Event>& events) {
  // Each round releases at least one frame, so pending_count() rounds are enough.
  for (std::size_t rounds = held_.size(); rounds > 0; --rounds) {
    const std::optional<TimePoint> deadline = next_deadline();
    if (!deadline || *deadline > now) return;
    skip_to_lowest_held(events);
  }
}

template <typename Payload>
void ReorderBuffer<Payload>::reset(std::vector<Event>& events) {
  for (std::size_t rounds = held_.size(); rounds > 0; --rounds) skip_to_lowest_held(events);
  held_.clear();  // Already empty: each round releases at least one frame.
  ledger_ = SequenceLedger(options_.lost_window);
}

template <typename Payload>
std::optional<TimePoint> ReorderBuffer<Payload>::next_deadline() const {
  if (held_.empty()) return std::nullopt;
  // Arrival order need not follow sequence order, hence the scan (at most reorder_capacity entries).
  TimePoint earliest = held_.begin()->second.arrival;
  for (const auto& entry : held_) earliest = std::min(earliest, entry.second.arrival);
  return earliest + options_.gap_timeout;
}

template <typename Payload>
void ReorderBuffer<Payload>::release_ready(std::vector<Event>& events) {
  while (!held_.empty() && !ledger_.exhausted() && held_.begin()->first == ledger_.next_expected()) {
    auto node = held_.extract(held_.begin());
    ledger_.pass_released();
    events.push_back(Released<Payload>{std::move(node.mapped().frame)});
  }
}

template <typename Payload>
void ReorderBuffer<Payload>::skip_to_lowest_held(std::vector<Event>& events) {
  if (held_.empty()) return;
  const std::uint64_t lowest = held_.begin()->first;
  if (!ledger_.is_passed(lowest) && lowest > ledger_.next_expected()) {
    answer_lost(ledger_.pass_lost_until(lowest), events);
  }
  release_ready(events);
}

template <typename Payload>
void ReorderBuffer<Payload>::answer_lost(SequenceRange skipped, std::vector<Event>& events) const {
  // Spans are compared as last - first to stay clear of overflow at the ends of the uint64 range.
  if (skipped.last - skipped.first >= options_.max_lost_burst) {
    events.push_back(Dropped{skipped, DropReason::lost});
    return;
  }
  for (std::uint64_t sequence = skipped.first;; ++sequence) {
    events.push_back(Dropped{{sequence, sequence}, DropReason::lost});
    if (sequence == skipped.last) break;
  }
}

}  // namespace posestream::stream
