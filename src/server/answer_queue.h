// AnswerQueue: one connection's encoded answers waiting behind the write in flight, bounded in bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

namespace posestream::server {

// The slow-reader policy (docs/PROTOCOL.md "Slow readers"). Every frame has exactly one answer, so an
// answer is never simply discarded; what can give way is a result's *content*:
//
// - push() appends an answer. While the queued bytes exceed max_bytes, the oldest queued result is
//   replaced by the dropped answer of the same sequence, with the reason given when it was pushed
//   (`superseded` under drop policy latest: a newer result is on its way; `overflow` under policy all).
//   A dropped answer is ~60 bytes where a result is ~5 KB, so a client that reads slower than it sends
//   still gets one answer per frame, just fewer results.
// - When only dropped answers and errors are queued and they still exceed max_bytes, the client is not
//   reading at all: push() returns false and the caller closes the connection ("slow reader").
// - Order is kept: answers leave in the order they were pushed.
//
// The answer being written (taken with pop()) is no longer counted. Single-threaded: the connection's
// strand owns it.
class AnswerQueue {
 public:
  explicit AnswerQueue(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // A result for `sequence`; `downgrade_reason` is what it becomes if it must give way.
  bool push_result(std::string text, std::uint64_t sequence, std::string_view downgrade_reason);
  // Any other answer (dropped, error, hello): never replaced.
  bool push_other(std::string text);

  bool empty() const noexcept { return entries_.empty(); }
  std::size_t size() const noexcept { return entries_.size(); }
  std::size_t bytes() const noexcept { return bytes_; }
  // Results replaced by dropped answers so far.
  std::uint64_t downgraded() const noexcept { return downgraded_; }

  // Removes and returns the oldest answer. Precondition: !empty().
  std::string pop();

 private:
  struct Entry {
    std::string text;
    bool is_result = false;
    std::uint64_t sequence = 0;
    std::string_view downgrade_reason;  // Points at a string literal (the protocol's reason names).
  };

  bool push(Entry entry);
  bool make_room();

  std::size_t max_bytes_;
  std::deque<Entry> entries_;
  std::size_t bytes_ = 0;
  // No result sits before this index, so make_room() does not rescan the dropped answers it made.
  std::size_t first_result_hint_ = 0;
  std::uint64_t downgraded_ = 0;
};

}  // namespace posestream::server
