// WebSocketSession: accepting, reading and dispatching client messages; the gap and idle timers.
#include "server/websocket_session.h"

#include <spdlog/spdlog.h>

#include "server/frame_input.h"
#include "server/stream_sink.h"

namespace posestream::server {
namespace {

// After a large message the read buffer gives its memory back if it grew past this, so that an idle
// session does not keep a multi-megabyte buffer.
constexpr std::size_t kKeptReadBufferBytes = std::size_t{1} << 20;
// Pieces in which the rest of an oversized message is read and dropped.
constexpr std::size_t kDiscardChunkBytes = 64 * 1024;
// A message this many times over max_message_bytes is not worth reading to its end: close with 1009.
constexpr std::size_t kMaxOversizedFactor = 16;

std::string totals(const stream::AnswerCounts& answers) {
  return fmt::format("{} results, dropped: {} late, {} duplicate, {} lost, {} superseded, {} overflow, {} invalid",
                     answers.results, answers.late, answers.duplicate, answers.lost, answers.superseded,
                     answers.overflow, answers.invalid);
}

}  // namespace

template <typename Stream>
WebSocketSession<Stream>::WebSocketSession(Stream&& stream, ServerContext& context, std::string peer)
    : ws_(std::move(stream)),
      strand_(ws_.get_executor()),
      context_(context),
      id_(context.next_session_id()),
      peer_(std::move(peer)),
      message_rate_(static_cast<double>(context.options.limits.max_messages_per_second),
                    static_cast<double>(context.options.limits.message_burst), Clock::now()),
      read_pause_(strand_),
      settings_(context.options.stream_defaults),
      answers_(context.options.limits.max_write_queue_bytes),
      gap_timer_(strand_),
      idle_timer_(strand_),
      close_deadline_(strand_) {}

template <typename Stream>
WebSocketSession<Stream>::~WebSocketSession() {
  if (stream_ != nullptr) {
    stream_->close();
    if (accepted_) {
      const double seconds = std::chrono::duration<double>(Clock::now() - opened_at_).count();
      spdlog::info("{} closed ({}): {:.1f} s, {} messages, {}, {} errors, {} results downgraded", id_, end_reason_,
                   seconds, messages_, totals(stream_->stats().answers), bad_messages_, answers_.downgraded());
    }
  }
  if (registry_id_ != 0) context_.connections.remove(registry_id_);
  if (accepted_) context_.metrics.session_closed();
  context_.websocket_sessions.fetch_sub(1);
}

template <typename Stream>
void WebSocketSession<Stream>::run(http::request<http::string_body> request) {
  stream_ = open_stream_session(context_, id_, this->weak_from_this(), strand_, &WebSocketSession::on_answer);
  registry_id_ = context_.connections.add(this->shared_from_this());

  const Limits& limits = context_.options.limits;
  ws_.set_option(websocket::stream_base::timeout{limits.handshake_timeout, websocket::stream_base::none(), false});
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(http::field::server, "posestream"); }));
  ws_.read_message_max(0);  // No Beast limit: do_read enforces max_message_bytes without closing.
  beast::get_lowest_layer(ws_).expires_never();  // The WebSocket's own timeouts and ours take over.
  ws_.async_accept(request, beast::bind_front_handler(&WebSocketSession::on_accept, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_accept(beast::error_code error) {
  if (error) {
    end_reason_ = "handshake failed: " + error.message();
    return;
  }
  accepted_ = true;
  context_.metrics.session_opened();
  spdlog::info("{} open from {}", id_, peer_);
  do_read();  // Also while closing: the peer's close frame arrives through a read.
  if (stream_ == nullptr) {
    close(websocket::close_code::try_again_later, "no stream available (server full or stopping)", "busy", false);
    return;
  }
  enqueue(answers_.push_other(encode_hello(id_, context_.options.limits, settings_)));
  arm_idle_timer();
  if (context_.draining) close_for_shutdown();  // Upgraded as the shutdown began: no session admitted.
}

// Messages are read in pieces, so that one over max_message_bytes is never buffered whole: past the
// limit its bytes are discarded as they arrive (keeping a PSF1 header, to answer its sequence), and it
// is answered like any bad frame instead of ending the connection. Beast's own limit would close with
// 1009 and, in Boost 1.74, reset the TCP connection while the client is still sending, so that the
// client may never see the close frame.
template <typename Stream>
void WebSocketSession<Stream>::do_read() {
  const std::size_t max_bytes = context_.options.limits.max_message_bytes;
  const std::size_t limit = oversized_ ? kDiscardChunkBytes : max_bytes - buffer_.size() + 1;
  ws_.async_read_some(buffer_, limit, beast::bind_front_handler(&WebSocketSession::on_read, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_read(beast::error_code error, std::size_t bytes) {
  if (error) {
    if (!close_request_) {
      const bool closed = error == websocket::error::closed;
      const bool dropped = error == net::error::eof || error == net::error::connection_reset;
      context_.metrics.connection_closed(closed ? "client" : dropped ? "dropped" : "error");
      end_reason_ = closed ? "closed by the client" : "connection lost: " + error.message();
    }
    finish(end_reason_);
    return;
  }
  const Clock::time_point now = Clock::now();
  last_message_at_ = now;  // Also mid-message: a long upload is not idle.
  message_bytes_ += bytes;
  const std::size_t max_bytes = context_.options.limits.max_message_bytes;
  if (!oversized_ && buffer_.size() > max_bytes) {
    oversized_ = true;
    const auto data = buffer_.cdata();
    oversized_head_.assign(static_cast<const std::uint8_t*>(data.data()),
                           static_cast<const std::uint8_t*>(data.data()) + std::min(data.size(), kBinaryHeaderBytes));
  }
  if (oversized_) buffer_.consume(buffer_.size());
  if (message_bytes_ / kMaxOversizedFactor > max_bytes && !close_request_) {
    close(websocket::close_code::too_big, "message over " + std::to_string(kMaxOversizedFactor) + " x max_message_bytes",
          "too_big", false);
  }
  Clock::duration pause = Clock::duration::zero();
  if (ws_.is_message_done()) {
    on_message(now);
    pause = message_rate_.pause_after_message(now);
  }
  read_after(pause);
}

// A client over max_messages_per_second is not read from until it is back under it (server::MessageRate).
template <typename Stream>
void WebSocketSession<Stream>::read_after(Clock::duration pause) {
  if (pause <= Clock::duration::zero()) {
    do_read();
    return;
  }
  context_.metrics.read_paused();
  read_pause_.expires_after(pause);
  read_pause_.async_wait(beast::bind_front_handler(&WebSocketSession::on_read_pause, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_read_pause(beast::error_code error) {
  if (error || finished_) return;
  do_read();
}

template <typename Stream>
void WebSocketSession<Stream>::on_message(Clock::time_point now) {
  ++messages_;
  ClientMessage message = oversized_ ? oversized_message() : parse_buffer();
  buffer_.consume(buffer_.size());
  if (buffer_.capacity() > kKeptReadBufferBytes) buffer_.shrink_to_fit();
  message_bytes_ = 0;
  oversized_ = false;
  handle(std::move(message), now);
}

template <typename Stream>
ClientMessage WebSocketSession<Stream>::parse_buffer() const {
  const auto data = buffer_.cdata();
  if (ws_.got_binary()) return parse_binary_message({static_cast<const std::uint8_t*>(data.data()), data.size()});
  return parse_text_message({static_cast<const char*>(data.data()), data.size()});
}

// A binary frame whose PSF1 header was readable is answered `invalid` under its sequence; anything else
// over the limit is an `error` (a text frame's sequence is somewhere inside its JSON).
template <typename Stream>
ClientMessage WebSocketSession<Stream>::oversized_message() const {
  const std::string what = "message of " + std::to_string(message_bytes_) + " bytes exceeds max_message_bytes " +
                           std::to_string(context_.options.limits.max_message_bytes);
  if (ws_.got_binary()) {
    ClientMessage header = parse_binary_message(oversized_head_);
    if (auto* frame = std::get_if<FrameMessage>(&header)) {
      frame->image.clear();
      frame->problem = what;
      return header;
    }
  }
  return BadMessage{"message_too_big", what};
}

template <typename Stream>
void WebSocketSession<Stream>::handle(ClientMessage&& message, Clock::time_point now) {
  // Closing, or the server stopping (its close is on the way): nothing new is answered (docs/PROTOCOL.md
  // "Closing"), so that a client counting credits stops sending instead of being fed `superseded`.
  if (close_request_ || context_.draining) return;
  if (auto* frame = std::get_if<FrameMessage>(&message)) {
    handle_frame(std::move(*frame), now);
  } else if (const auto* config = std::get_if<ConfigMessage>(&message)) {
    handle_config(*config);
  } else if (std::holds_alternative<ResetMessage>(message)) {
    handle_reset();
  } else {
    const auto& bad = std::get<BadMessage>(message);
    ++bad_messages_;
    context_.metrics.bad_message();
    if (context_.options.log_frames) spdlog::info("{} error {}: {}", id_, bad.code, bad.message);
    send_error(bad.code, bad.message);
  }
}

template <typename Stream>
void WebSocketSession<Stream>::handle_frame(FrameMessage&& frame, Clock::time_point now) {
  stream::FrameInput input = frame_input(std::move(frame), numbering_, context_.options.limits, now, opened_at_);
  if (!input.problem.empty() && context_.options.log_frames) {
    spdlog::info("{} frame {}: invalid: {}", id_, input.sequence, input.problem);
  }
  stream_->push(std::move(input), now);
  arm_gap_timer();
}

template <typename Stream>
void WebSocketSession<Stream>::handle_config(const ConfigMessage& config) {
  StreamSettings next = settings_;
  next.apply(config);
  std::optional<std::string> error = check_settings(next, context_.options.limits);
  if (!error) error = stream_->configure(next.stream_config());
  if (error) {
    send_error("bad_config", *error);
    return;
  }
  stream_->set_drop_policy(next.drop_policy);
  settings_ = next;
}

template <typename Stream>
void WebSocketSession<Stream>::handle_reset() {
  stream_->reset();
  numbering_.reset();
}

template <typename Stream>
void WebSocketSession<Stream>::send_error(const std::string& code, const std::string& message) {
  enqueue(answers_.push_other(encode_error(code, message)));
}

// The reorder buffer's gap timeout: poll the stream when its next deadline comes. Arming an earlier
// deadline cancels the later wait (its handler sees operation_aborted and returns).
template <typename Stream>
void WebSocketSession<Stream>::arm_gap_timer() {
  const std::optional<Clock::time_point> deadline = stream_->next_deadline();
  if (!deadline || (gap_deadline_ && *gap_deadline_ <= *deadline)) return;
  gap_deadline_ = deadline;
  gap_timer_.expires_at(*deadline);
  gap_timer_.async_wait(beast::bind_front_handler(&WebSocketSession::on_gap_timer, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_gap_timer(beast::error_code error) {
  if (error == net::error::operation_aborted) return;
  gap_deadline_.reset();
  if (finished_) return;
  stream_->poll(Clock::now());
  arm_gap_timer();
}

// One timer for the whole session: it wakes at last_message + idle_timeout, and sleeps again if a
// message came in meanwhile, rather than being re-armed on every message.
template <typename Stream>
void WebSocketSession<Stream>::arm_idle_timer() {
  idle_timer_.expires_at(last_message_at_ + context_.options.limits.idle_timeout);
  idle_timer_.async_wait(beast::bind_front_handler(&WebSocketSession::on_idle_timer, this->shared_from_this()));
}

template <typename Stream>
void WebSocketSession<Stream>::on_idle_timer(beast::error_code error) {
  if (error || finished_ || close_request_) return;
  if (Clock::now() < last_message_at_ + context_.options.limits.idle_timeout) {
    arm_idle_timer();
    return;
  }
  close(websocket::close_code::going_away, "idle timeout", "idle", true);
}

template <typename Stream>
void WebSocketSession<Stream>::finish(const std::string& why) {
  if (finished_) return;
  finished_ = true;
  end_reason_ = why;
  gap_timer_.cancel();
  idle_timer_.cancel();
  close_deadline_.cancel();
  read_pause_.cancel();
  if (stream_ != nullptr) stream_->close();
  beast::get_lowest_layer(ws_).close();  // Aborts a write stuck behind a peer that stopped reading.
}

// The two transports (server/session_stream.h); websocket_answers.cpp instantiates the members it defines.
template class WebSocketSession<PlainStream>;
template class WebSocketSession<TlsStream>;

}  // namespace posestream::server
