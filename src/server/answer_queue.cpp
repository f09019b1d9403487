// AnswerQueue: byte accounting and the replacement of queued results by their dropped answers.
#include "server/answer_queue.h"

#include <utility>

#include "server/protocol.h"

namespace posestream::server {

bool AnswerQueue::push_result(std::string text, std::uint64_t sequence, std::string_view downgrade_reason) {
  return push(Entry{std::move(text), true, sequence, downgrade_reason});
}

bool AnswerQueue::push_other(std::string text) { return push(Entry{std::move(text)}); }

bool AnswerQueue::push(Entry entry) {
  bytes_ += entry.text.size();
  entries_.push_back(std::move(entry));
  return make_room();
}

bool AnswerQueue::make_room() {
  while (bytes_ > max_bytes_) {
    while (first_result_hint_ < entries_.size() && !entries_[first_result_hint_].is_result) ++first_result_hint_;
    if (first_result_hint_ == entries_.size()) return false;
    Entry& oldest = entries_[first_result_hint_];
    std::string dropped = encode_dropped(oldest.sequence, oldest.sequence, oldest.downgrade_reason);
    bytes_ = bytes_ - oldest.text.size() + dropped.size();
    oldest.text = std::move(dropped);
    oldest.is_result = false;
    ++downgraded_;
  }
  return true;
}

std::string AnswerQueue::pop() {
  std::string text = std::move(entries_.front().text);
  entries_.pop_front();
  bytes_ -= text.size();
  if (first_result_hint_ > 0) --first_result_hint_;
  return text;
}

}  // namespace posestream::server
