// SocketIoStream's answer side: results and dropped answers as events or acks, the slow-reader policy.
#include <spdlog/spdlog.h>

#include "server/socketio_stream.h"

namespace posestream::server {

void SocketIoStream::on_answer(stream::Answer&& answer) {
  if (finished_) return;
  if (const auto* result = std::get_if<stream::ResultAnswer>(&answer)) {
    answer_result(*result);
  } else {
    const auto& dropped = std::get<stream::DroppedAnswer>(answer);
    answer_dropped(dropped.sequences.first, dropped.sequences.last, stream::to_string(dropped.reason));
  }
}

// The slow-reader policy of /ws (server/answer_queue.h), at the Engine.IO session's queue: while it
// holds over limits.max_write_queue_bytes unsent (a client not polling, or a WebSocket write behind), a
// result is sent as its dropped answer (`superseded` under drop policy latest, `overflow` under all),
// ~60 bytes instead of ~5 KB. What bounds memory: the results are bounded so; dropped answers and errors
// are one per frame, frames are bounded by the stream session's limits and the client's own sending;
// a client that reads nothing at all reaches engineio::Options::max_buffered_bytes and its session is
// closed ("transport error").
void SocketIoStream::answer_result(const stream::ResultAnswer& result) {
  if (link_->buffered_bytes() > context_.options.limits.max_write_queue_bytes) {
    ++downgraded_;
    context_.metrics.answers_downgraded(1);
    const stream::DroppedReason reason =
        settings_.drop_policy == DropPolicy::all ? stream::DroppedReason::overflow : stream::DroppedReason::superseded;
    answer_dropped(result.sequence, result.sequence, stream::to_string(reason));
    return;
  }
  send_answer(result.sequence, context_.options.socketio.result_event,
              encode_frame_result(result.sequence, result.timestamp_us, result.result));
}

// One answer per frame: a frame that asked for an ack gets its own; the rest of a range (a long `lost`
// skip) is one `dropped` event, as on /ws.
void SocketIoStream::answer_dropped(std::uint64_t first, std::uint64_t last, std::string_view reason) {
  std::uint64_t acked = 0;
  for (auto it = acks_.lower_bound(first); it != acks_.end() && it->first <= last;) {
    const std::uint64_t sequence = it->first;
    send_answer(sequence, "dropped", encode_dropped(sequence, sequence, reason));
    ++acked;
    it = acks_.lower_bound(sequence + 1);
    if (sequence == last) break;  // sequence + 1 wrapped.
  }
  if (acked == last - first + 1 && acked != 0) return;
  emit("dropped", encode_dropped(first, last, reason));
}

void SocketIoStream::send_answer(std::uint64_t sequence, std::string_view event, std::string&& body) {
  const auto found = acks_.find(sequence);
  if (found == acks_.end()) {
    emit(event, body);
    return;
  }
  const socketio::Ack ack = found->second;
  acks_.erase(found);
  ack(socketio::Json::array({socketio::Json::parse(body)}));
}

}  // namespace posestream::server
