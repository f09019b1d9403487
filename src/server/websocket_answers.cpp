// WebSocketSession's answer side: answers from workers, the bounded write queue, closing with a reason.
#include <spdlog/spdlog.h>

#include "server/websocket_session.h"

namespace posestream::server {

template <typename Stream>
void WebSocketSession<Stream>::on_answer(stream::Answer&& answer) {
  // After the close frame, or when closing without draining, nothing more can be written.
  if (finished_ || close_sent_ || (close_request_ && !close_request_->drain)) return;
  if (context_.options.log_frames) log_answer(answer);
  if (const auto* result = std::get_if<stream::ResultAnswer>(&answer)) {
    const stream::DroppedReason downgrade =
        settings_.drop_policy == DropPolicy::all ? stream::DroppedReason::overflow : stream::DroppedReason::superseded;
    enqueue(answers_.push_result(encode_frame_result(result->sequence, result->timestamp_us, result->result),
                                 result->sequence, stream::to_string(downgrade)));
  } else {
    const auto& dropped = std::get<stream::DroppedAnswer>(answer);
    enqueue(answers_.push_other(
        encode_dropped(dropped.sequences.first, dropped.sequences.last, stream::to_string(dropped.reason))));
  }
}

template <typename Stream>
void WebSocketSession<Stream>::log_answer(const stream::Answer& answer) const {
  if (const auto* result = std::get_if<stream::ResultAnswer>(&answer)) {
    const stream::FrameResult& frame = result->result;
    const stream::FrameTiming& timing = frame.timing;
    std::size_t hands = frame.hands.size();
    for (const stream::PersonResult& person : frame.people) hands += person.hands.size();
    // The model runs explain most of a slow frame: a pose detector run, or extra hand landmark runs.
    spdlog::info(
        "{} frame {}: result decode {:.1f} pose {:.1f} hands {:.1f} total {:.1f} ms (waited {:.1f}; {} path, "
        "cpu wait {:.1f} ms; runs: pose detector {}, palm detector {}, hand landmarks {}; found: {} pose, {} hands)",
        id_, result->sequence, timing.decode_ms, timing.pose_ms, timing.hands_ms, timing.total_ms,
        timing.reorder_ms + timing.queue_ms, timing.parallel ? "parallel" : "single", timing.cpu_wait_ms,
        timing.pose_detector_runs, timing.palm_detector_runs,
        timing.hand_landmark_runs, timing.poses, hands);
    return;
  }
  const auto& dropped = std::get<stream::DroppedAnswer>(answer);
  const std::string range = dropped.sequences.first == dropped.sequences.last
                                ? std::to_string(dropped.sequences.first)
                                : fmt::format("{}-{}", dropped.sequences.first, dropped.sequences.last);
  spdlog::info("{} frame {}: dropped {}{}{}", id_, range, stream::to_string(dropped.reason),
               dropped.message.empty() ? "" : ": ", dropped.message);
}

// After a push: `fits` is false when even dropped answers overflow the queue (a client not reading).
template <typename Stream>
void WebSocketSession<Stream>::enqueue(bool fits) {
  queued_bytes_ = answers_.bytes();
  if (answers_.downgraded() > downgrades_reported_) {
    context_.metrics.answers_downgraded(answers_.downgraded() - downgrades_reported_);
    downgrades_reported_ = answers_.downgraded();
  }
  if (!fits) {
    close(websocket::close_code::policy_error, "slow reader: answers exceed max_write_queue_bytes", "slow_reader",
          false);
    return;
  }
  do_write();
}

// One write in flight; the AnswerQueue is what waits behind it.
template <typename Stream>
void WebSocketSession<Stream>::do_write() {
  if (writing_ || close_sent_ || finished_ || answers_.empty()) return;
  if (close_request_ && !close_request_->drain) return;
  in_flight_ = answers_.pop();
  queued_bytes_ = answers_.bytes();
  writing_ = true;
  ws_.text(true);
  ws_.async_write(net::buffer(in_flight_), beast::bind_front_handler(&WebSocketSession::on_write, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_write(beast::error_code error, std::size_t) {
  writing_ = false;
  if (error) {
    if (!close_request_) context_.metrics.connection_closed("error");
    finish("write failed: " + error.message());
    return;
  }
  if (close_request_ && (!close_request_->drain || answers_.empty())) {
    do_close();
    return;
  }
  do_write();
}

template <typename Stream>
void WebSocketSession<Stream>::close(websocket::close_code code, const std::string& reason, const char* metric_reason,
                             bool drain) {
  if (close_request_ || finished_) return;
  close_request_ = CloseRequest{websocket::close_reason(code, reason), drain};
  end_reason_ = reason;
  context_.metrics.connection_closed(metric_reason);
  idle_timer_.cancel();
  if (!accepted_) {  // Still in the upgrade handshake: there is no WebSocket to close yet.
    force_close();
    return;
  }
  close_deadline_.expires_after(context_.options.limits.handshake_timeout);
  close_deadline_.async_wait([self = this->shared_from_this()](beast::error_code error) {
    if (error) return;
    spdlog::warn("{}: the close ({}) did not complete in time; closing the socket", self->id_, self->end_reason_);
    self->force_close();
  });
  if (writing_) return;  // on_write continues.
  if (!drain || answers_.empty()) {
    do_close();
  } else {
    do_write();
  }
}

template <typename Stream>
void WebSocketSession<Stream>::do_close() {
  if (close_sent_ || finished_) return;
  close_sent_ = true;
  ws_.async_close(close_request_->reason, beast::bind_front_handler(&WebSocketSession::on_close, this->shared_from_this()));
}

// The pending read ends the session when the peer's close frame arrives (or Beast's close timeout).
template <typename Stream>
void WebSocketSession<Stream>::on_close(beast::error_code error) {
  if (error) finish("close failed: " + error.message());
}

template <typename Stream>
void WebSocketSession<Stream>::force_close() { beast::get_lowest_layer(ws_).close(); }

template <typename Stream>
void WebSocketSession<Stream>::shut_down() {
  net::post(strand_, [self = this->shared_from_this()] { self->close_for_shutdown(); });
}

// After the answers already queued: 1012 when the server is restarting (SIGTERM, Server::drain), so
// that the client reconnects through its load balancer; 1001 when it is going away (SIGINT, stop).
template <typename Stream>
void WebSocketSession<Stream>::close_for_shutdown() {
  if (context_.restarting) {
    close(websocket::close_code::service_restart, "server restarting", "shutdown", true);
  } else {
    close(websocket::close_code::going_away, "server shutting down", "shutdown", true);
  }
}

template <typename Stream>
QueueDepths WebSocketSession<Stream>::depths() const {
  QueueDepths depths;
  if (stream_ != nullptr) {
    const stream::SessionStats stats = stream_->stats();
    depths.reorder = stats.buffered;
    depths.worker = stats.queued;
  }
  depths.write_bytes = queued_bytes_.load();
  return depths;
}

// The members defined here, for both transports (the class itself is instantiated in
// websocket_session.cpp, which cannot see these definitions).
#define POSESTREAM_WEBSOCKET_ANSWER_MEMBERS(Stream)                                                          \
  template void WebSocketSession<Stream>::on_answer(stream::Answer&&);                                       \
  template void WebSocketSession<Stream>::log_answer(const stream::Answer&) const;                           \
  template void WebSocketSession<Stream>::enqueue(bool);                                                     \
  template void WebSocketSession<Stream>::do_write();                                                        \
  template void WebSocketSession<Stream>::on_write(beast::error_code, std::size_t);                          \
  template void WebSocketSession<Stream>::close(websocket::close_code, const std::string&, const char*, bool); \
  template void WebSocketSession<Stream>::do_close();                                                        \
  template void WebSocketSession<Stream>::on_close(beast::error_code);                                       \
  template void WebSocketSession<Stream>::force_close();                                                     \
  template void WebSocketSession<Stream>::shut_down();                                                       \
  template void WebSocketSession<Stream>::close_for_shutdown();                                              \
  template QueueDepths WebSocketSession<Stream>::depths() const;
POSESTREAM_WEBSOCKET_ANSWER_MEMBERS(PlainStream)
POSESTREAM_WEBSOCKET_ANSWER_MEMBERS(TlsStream)
#undef POSESTREAM_WEBSOCKET_ANSWER_MEMBERS

}  // namespace posestream::server
