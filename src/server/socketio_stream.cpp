// SocketIoStream: Socket.IO events into the stream::Session, its answers out as events or acks.
#include "server/socketio_stream.h"

#include "server/frame_input.h"
#include "server/stream_sink.h"

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace posestream::server {
namespace {

// The Socket.IO layer's side of a stream: forwards to the SocketIoStream's strand, and lets it go when
// the socket leaves (the stream then lives only as long as work posted to it).
class StreamHandler final : public socketio::SocketHandler {
 public:
  explicit StreamHandler(std::shared_ptr<SocketIoStream> stream) : stream_(std::move(stream)) {}

  void on_connect(const socketio::Json&) override { stream_->post_connected(); }
  void on_event(std::string_view event, socketio::Json args, socketio::Ack ack) override {
    if (stream_ != nullptr) stream_->post_event(std::string(event), std::move(args), std::move(ack));
  }
  void on_disconnect(std::string_view reason) override {
    if (stream_ == nullptr) return;
    stream_->post_disconnected(std::string(reason));
    stream_.reset();
  }

 private:
  std::shared_ptr<SocketIoStream> stream_;
};

// An answer body from the /ws encoders (ordered JSON: the same fields in the same order) as an argument.
socketio::Json body_json(const std::string& body) { return socketio::Json::parse(body); }

}  // namespace

SocketIoStream::SocketIoStream(ServerContext& context, socketio::Socket socket, std::shared_ptr<TransportLink> link,
                               std::string peer)
    : context_(context),
      strand_(net::make_strand(context.io)),
      socket_(std::move(socket)),
      link_(std::move(link)),
      id_(context.next_session_id()),
      peer_(std::move(peer)),
      message_rate_(static_cast<double>(context.options.limits.max_messages_per_second),
                    static_cast<double>(context.options.limits.message_burst), Clock::now()),
      settings_(context.options.stream_defaults),
      gap_timer_(strand_),
      idle_timer_(strand_) {}

SocketIoStream::~SocketIoStream() {
  if (stream_ != nullptr) {
    stream_->close();
    const stream::AnswerCounts& answers = stream_->stats().answers;
    spdlog::info("{} (Socket.IO) closed: {:.1f} s, {} frames, {} results, {} dropped, {} errors, {} downgraded", id_,
                 std::chrono::duration<double>(Clock::now() - opened_at_).count(), frames_, answers.results,
                 answers.late + answers.duplicate + answers.lost + answers.superseded + answers.overflow + answers.invalid,
                 bad_messages_, downgraded_);
  }
  if (registry_id_ != 0) context_.connections.remove(registry_id_);
  if (connected_) link_->stream_closed();
  context_.websocket_sessions.fetch_sub(1);
}

socketio::ConnectResult SocketIoStream::connect(ServerContext& context, const socketio::ConnectRequest& request,
                                                std::shared_ptr<TransportLink> link) {
  if (context.draining) return socketio::Refusal{"server stopping"};
  if (link == nullptr) return socketio::Refusal{"no Engine.IO session"};
  const std::size_t max_sessions = context.options.limits.max_sessions;
  if (!ServerContext::try_reserve(context.websocket_sessions, max_sessions)) {
    context.metrics.connection_closed("busy");
    return socketio::Refusal{"server full: max_sessions " + std::to_string(max_sessions) + " streams open"};
  }
  auto stream = std::make_shared<SocketIoStream>(context, request.socket, std::move(link), request.handshake.peer);
  if (!stream->open()) return socketio::Refusal{"no stream available (server full or stopping)"};
  return std::make_unique<StreamHandler>(std::move(stream));
}

bool SocketIoStream::open() {
  stream_ = open_stream_session(context_, id_, weak_from_this(), strand_, &SocketIoStream::on_answer);
  if (stream_ == nullptr) return false;
  registry_id_ = context_.connections.add(shared_from_this());
  return true;
}

void SocketIoStream::post_connected() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->finished_) return;
    self->connected_ = true;
    self->link_->stream_opened();
    spdlog::info("{} open from {} (Socket.IO {})", self->id_, self->peer_, self->socket_.id());
    self->emit("hello", encode_hello(self->id_, self->context_.options.limits, self->settings_));
    self->arm_idle_timer();
    if (self->context_.draining) self->shut_down();  // Joined as the shutdown began.
  });
}

// A client over max_messages_per_second is not read from until it is back under it, as on /ws: nothing is
// dropped, its sends block (WebSocket) or its next POST waits (polling). Counted per event, so a frame
// with its attachment is one message, as a PSF1 frame is on /ws.
void SocketIoStream::post_event(std::string event, socketio::Json args, socketio::Ack ack) {
  const Clock::duration pause = message_rate_.pause_after_message(Clock::now());
  if (pause > Clock::duration::zero()) {
    context_.metrics.read_paused();
    socket_.pause_reading(pause);
  }
  net::post(strand_, [self = shared_from_this(), event = std::move(event), args = std::move(args),
                      ack = std::move(ack)]() mutable { self->on_event(event, args, ack, Clock::now()); });
}

void SocketIoStream::post_disconnected(std::string reason) {
  net::post(strand_, [self = shared_from_this(), reason = std::move(reason)] { self->finish(reason); });
}

void SocketIoStream::on_event(const std::string& event, socketio::Json& args, const socketio::Ack& ack,
                              Clock::time_point now) {
  // Closing, or the server stopping (its disconnect is on the way): nothing new is answered, as on /ws.
  if (finished_ || context_.draining) return;
  last_event_at_ = now;
  if (event == "frame") {
    handle_frame(args, ack, now);
  } else if (event == "config") {
    handle_config(args, ack);
  } else if (event == "reset") {
    handle_reset(ack);
  } else {
    send_error(BadMessage{"unknown_event", "unknown event '" + event.substr(0, 40) +
                                               "' (expected frame, config or reset)"}, ack);
  }
}

// The argument is converted to the parser's JSON type once (a copy of the image text: the price of
// sharing /ws's frame parser); a binary attachment's bytes are the image.
void SocketIoStream::handle_frame(const socketio::Json& args, const socketio::Ack& ack, Clock::time_point now) {
  const socketio::Json* object = args.empty() ? nullptr : &args[0];
  if (object == nullptr || !object->is_object() || !object->contains("sequence")) {
    send_error(BadMessage{"bad_sequence", "a frame must be an object with an integer \"sequence\" and an \"image\""},
               ack);
    return;
  }
  ClientMessage message = parse_frame_object(nlohmann::json(*object));
  if (auto* frame = std::get_if<FrameMessage>(&message)) {
    push_frame(std::move(*frame), ack, now);
  } else {
    send_error(std::get<BadMessage>(message), ack);
  }
}

void SocketIoStream::push_frame(FrameMessage&& frame, const socketio::Ack& ack, Clock::time_point now) {
  ++frames_;
  stream::FrameInput input = frame_input(std::move(frame), numbering_, context_.options.limits, now, opened_at_);
  if (ack.requested()) acks_.emplace(input.sequence, ack);
  stream_->push(std::move(input), now);
  arm_gap_timer();
}

void SocketIoStream::handle_config(const socketio::Json& args, const socketio::Ack& ack) {
  ClientMessage message = parse_config_object(args.empty() ? nlohmann::json() : nlohmann::json(args[0]));
  if (const auto* bad = std::get_if<BadMessage>(&message)) {
    send_error(*bad, ack);
    return;
  }
  StreamSettings next = settings_;
  next.apply(std::get<ConfigMessage>(message));
  std::optional<std::string> error = check_settings(next, context_.options.limits);
  if (!error) error = stream_->configure(next.stream_config());
  if (error) {
    send_error(BadMessage{"bad_config", *error}, ack);
    return;
  }
  stream_->set_drop_policy(next.drop_policy);
  settings_ = next;
  ack();  // Does nothing when no ack was asked for.
}

void SocketIoStream::handle_reset(const socketio::Ack& ack) {
  stream_->reset();
  numbering_.reset();
  ack();
}

// An event with an ack gets the error as its ack's argument (its sender is waiting for that ack).
void SocketIoStream::send_error(const BadMessage& bad, const socketio::Ack& ack) {
  ++bad_messages_;
  context_.metrics.bad_message();
  if (context_.options.log_frames) spdlog::info("{} error {}: {}", id_, bad.code, bad.message);
  const std::string body = encode_error(bad.code, bad.message);
  if (ack.requested()) {
    ack(socketio::Json::array({body_json(body)}));
  } else {
    emit("error", body);
  }
}

void SocketIoStream::emit(std::string_view event, const std::string& body) {
  socket_.emit(event, socketio::Json::array({body_json(body)}));
}

// The gap timeout of the reorder buffer, as WebSocketSession::arm_gap_timer.
void SocketIoStream::arm_gap_timer() {
  const std::optional<Clock::time_point> deadline = stream_->next_deadline();
  if (!deadline || (gap_deadline_ && *gap_deadline_ <= *deadline)) return;
  gap_deadline_ = deadline;
  gap_timer_.expires_at(*deadline);
  gap_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) { self->on_gap_timer(error); });
}

void SocketIoStream::on_gap_timer(const boost::system::error_code& error) {
  if (error == net::error::operation_aborted) return;
  gap_deadline_.reset();
  if (finished_) return;
  stream_->poll(Clock::now());
  arm_gap_timer();
}

// One timer for the stream, as WebSocketSession's: it wakes at last event + idle_timeout and sleeps again
// if an event came meanwhile. Heartbeats do not count: a client that only answers pings holds a slot of
// max_sessions for nothing.
void SocketIoStream::arm_idle_timer() {
  idle_timer_.expires_at(last_event_at_ + context_.options.limits.idle_timeout);
  idle_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) { self->on_idle_timer(error); });
}

void SocketIoStream::on_idle_timer(const boost::system::error_code& error) {
  if (error == net::error::operation_aborted || finished_) return;
  if (Clock::now() < last_event_at_ + context_.options.limits.idle_timeout) return arm_idle_timer();
  context_.metrics.connection_closed("idle");
  // The reason first: the DISCONNECT itself carries none (/ws says it in its close frame).
  emit("error", encode_error("idle_timeout", "no event for idle_timeout_ms " +
                                                 std::to_string(context_.options.limits.idle_timeout.count())));
  socket_.disconnect();
  finish("idle timeout");
}

void SocketIoStream::finish(const std::string& why) {
  if (finished_) return;
  finished_ = true;
  spdlog::info("{} (Socket.IO) ending: {}", id_, why);
  gap_timer_.cancel();
  idle_timer_.cancel();
  stream_->close();
  acks_.clear();
}

// The Scheduler has already posted every answer owed to this strand (Server::shut_down stops it first).
// A frame whose event was being handled as the shutdown began may have had its answer posted after this
// task: closing the stream::Session here answers whatever it still holds, and the DISCONNECT goes in a
// second task, behind all of those answers. Engine.IO delivers queued packets before it closes.
void SocketIoStream::shut_down() {
  net::post(strand_, [self = shared_from_this()] {
    if (self->finished_) return;
    self->stream_->close();
    net::post(self->strand_, [self] {
      if (self->finished_) return;
      self->context_.metrics.connection_closed("shutdown");
      self->socket_.disconnect();
      self->finish(self->context_.restarting ? "server restarting" : "server shutting down");
    });
  });
}

QueueDepths SocketIoStream::depths() const {
  QueueDepths depths;
  if (stream_ != nullptr) {
    const stream::SessionStats stats = stream_->stats();
    depths.reorder = stats.buffered;
    depths.worker = stats.queued;
  }
  if (link_ != nullptr) depths.write_bytes = link_->buffered_bytes();
  return depths;
}

}  // namespace posestream::server
