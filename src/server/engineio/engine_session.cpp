// EngineSession: opening, the outgoing queue, packets from the client, heartbeats and closing.
#include "server/engineio/engine_session.h"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>
#include <vector>

namespace posestream::server::engineio {

EngineSession::EngineSession(net::io_context& io, std::string sid, std::shared_ptr<const Options> options,
                             std::function<void(const std::string&)> forget)
    : strand_(net::make_strand(io)),
      sid_(std::move(sid)),
      options_holder_(std::move(options)),
      options_(*options_holder_),
      forget_(std::move(forget)),
      heartbeat_(strand_),
      upgrade_timer_(strand_),
      close_timer_(strand_),
      read_pause_(strand_) {}

// Key order and the empty upgrades on WebSocket as the reference (SOCKETIO_FACTS.md 1.2); built by hand
// because the JSON library would sort the keys. The sid is base64url: nothing to escape.
std::string EngineSession::open_packet(bool polling) const {
  return "0{\"sid\":\"" + sid_ + "\",\"upgrades\":" + (polling ? "[\"websocket\"]" : "[]") +
         ",\"pingInterval\":" + std::to_string(options_.ping_interval.count()) +
         ",\"pingTimeout\":" + std::to_string(options_.ping_timeout.count()) +
         ",\"maxPayload\":" + std::to_string(options_.max_payload) + "}";
}

void EngineSession::make_handler(const HandlerFactory& factory, const Handshake& handshake) {
  handler_ = factory ? factory(shared_from_this(), handshake) : nullptr;
  state_ = State::open;
  arm_ping();
}

void EngineSession::open_polling(Handshake handshake, HandlerFactory factory, ReplyTo to, Respond respond) {
  net::post(strand_, [self = shared_from_this(), handshake = std::move(handshake), factory = std::move(factory),
                      to = std::move(to), respond = std::move(respond)] {
    self->make_handler(factory, handshake);
    respond(payload_answer(to, self->open_packet(/*polling=*/true)));
    if (!self->handler_) self->close_now("server close");
  });
}

void EngineSession::open_websocket(Handshake handshake, HandlerFactory factory, std::shared_ptr<WsTransport> transport) {
  net::post(strand_, [self = shared_from_this(), handshake = std::move(handshake), factory = std::move(factory),
                      transport = std::move(transport)]() mutable {
    self->ws_ = std::move(transport);
    self->websocket_ = true;
    self->make_handler(factory, handshake);
    self->ws_->send(Packet{PacketType::open, false, self->open_packet(/*polling=*/false).substr(1)});
    self->ws_read_pending_ = true;  // start() reads the first message.
    self->ws_->start(self->weak_from_this());
    if (!self->handler_) self->close_now("server close");
  });
}

// Counted at once, so that buffered_bytes() tells the layer above what it has sent and not yet seen
// handed on, including what is still on its way to the strand.
void EngineSession::send(Message message) {
  const std::size_t bytes = message.data.size();
  buffered_ += bytes;
  net::post(strand_, [self = shared_from_this(), message = std::move(message), bytes]() mutable {
    self->do_send(std::move(message), bytes);
  });
}

void EngineSession::do_send(Message message, std::size_t bytes) {
  if (state_ != State::open && state_ != State::upgrading) {
    buffered_ -= bytes;
    return;
  }
  queue_.push_back(Packet{PacketType::message, message.binary, std::move(message.data)});
  if (buffered_.load() > options_.max_buffered_bytes) {
    spdlog::debug("engine.io {}: {} bytes buffered, over max_buffered_bytes {}", sid_, buffered_.load(),
                  options_.max_buffered_bytes);
    close_now("transport error");
    return;
  }
  flush();
}

void EngineSession::queue(Packet packet) {
  queue_.push_back(std::move(packet));
  flush();
}

// On WebSocket every queued packet goes to the transport (whose own queue is bounded); on polling a
// held GET takes up to max_packets_per_poll of them.
void EngineSession::flush() {
  if (ws_ && websocket_) {
    for (Packet& packet : queue_) {
      if (packet.type == PacketType::message) buffered_ -= packet.data.size();
      ws_->send(std::move(packet));
    }
    queue_.clear();
    return;
  }
  flush_to_get();
}

void EngineSession::flush_to_get() {
  if (!get_ || queue_.empty()) return;
  const std::size_t count = std::min(queue_.size(), std::max<std::size_t>(options_.max_packets_per_poll, 1));
  std::vector<Packet> batch;
  batch.reserve(count);
  bool carries_close = false;
  for (std::size_t i = 0; i < count; ++i) {
    Packet& packet = queue_.front();
    if (packet.type == PacketType::message) buffered_ -= packet.data.size();
    carries_close = carries_close || packet.type == PacketType::close;
    batch.push_back(std::move(packet));
    queue_.pop_front();
  }
  answer_get(encode_payload(batch));
  if (carries_close) finish();
}

void EngineSession::answer_get(std::string body) {
  PendingGet get = std::move(*get_);
  get_.reset();
  get.respond(payload_answer(get.to, std::move(body)));
}

void EngineSession::handle_packet(Packet&& packet) {
  switch (packet.type) {
    case PacketType::pong:
      if (awaiting_pong_) arm_ping();
      return;
    case PacketType::message:
      if (handler_) handler_->on_message(Message{packet.binary, std::move(packet.data)});
      return;
    case PacketType::close:
      close_now("client close", "6");  // A held GET gets a noop (SOCKETIO_FACTS.md 3.1 item 20).
      return;
    case PacketType::ping:
      close_now("transport error");  // v4: the server pings; the reference's "invalid heartbeat direction".
      return;
    case PacketType::open:
    case PacketType::upgrade:
    case PacketType::noop:
      return;  // Meaningless from the client on the transport in use; the reference ignores them.
  }
}

void EngineSession::arm_ping() {
  awaiting_pong_ = false;
  heartbeat_.expires_after(options_.ping_interval);
  heartbeat_.async_wait([self = shared_from_this(), generation = ++heartbeat_generation_](beast::error_code error) {
    self->on_heartbeat(generation, error);
  });
}

// One timer for both steps: the ping at ping_interval, then the timeout at ping_timeout after it. The
// generation tells a stale wake-up (a pong re-armed the timer after it fired) from the current one.
void EngineSession::on_heartbeat(std::uint64_t generation, beast::error_code error) {
  if (error || generation != heartbeat_generation_) return;
  if (state_ != State::open && state_ != State::upgrading) return;
  if (awaiting_pong_) {
    if (!extend_pong_wait()) close_now("ping timeout");
    return;
  }
  awaiting_pong_ = true;
  pong_wait_from_ = heartbeat_.expiry();  // When the ping was due.
  // From the ping's due time, not from this wake-up: the session is gone exactly ping_interval +
  // ping_timeout after the handshake or pong however late this handler ran (3.1 item 17 checks at 500 ms).
  heartbeat_.expires_at(heartbeat_.expiry() + options_.ping_timeout);
  heartbeat_.async_wait([self = shared_from_this(), generation = ++heartbeat_generation_](beast::error_code wait_error) {
    self->on_heartbeat(generation, wait_error);
  });
  queue(Packet{PacketType::ping, false, {}});
}

void EngineSession::close(std::string reason) {
  net::post(strand_, [self = shared_from_this(), reason = std::move(reason)]() mutable { self->do_close(std::move(reason)); });
}

// Graceful: what is queued is delivered first. On WebSocket the transport writes it and then its close
// frame; on polling the close packet waits in the queue for a GET (Options::close_timeout at most).
void EngineSession::do_close(std::string reason) {
  if (state_ == State::closing || state_ == State::closed) return;
  notify_closed(reason.empty() ? "server close" : reason);
  heartbeat_.cancel();
  drop_probe();
  if (websocket_) {
    flush();
    finish();
    return;
  }
  state_ = State::closing;
  pump();  // A POST held by a read pause is let go: with the handler gone its packets are dropped.
  if (state_ != State::closing) return;  // One of them was the client's own close.
  queue(Packet{PacketType::close, false, {}});
  if (state_ != State::closing) return;  // A held GET carried it.
  close_timer_.expires_after(options_.close_timeout);
  close_timer_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (!error && self->state_ == State::closing) self->finish();
  });
}

// At once: what is queued is dropped; a held GET gets `get_answer` ("1", or "6" when the client closed).
void EngineSession::close_now(std::string_view reason, std::string_view get_answer) {
  if (state_ == State::closed) return;
  if (get_) answer_get(std::string(get_answer));
  notify_closed(reason);
  finish();
}

void EngineSession::notify_closed(std::string_view reason) {
  spdlog::debug("engine.io {}: closed ({}, {})", sid_, reason, transport());
  if (std::unique_ptr<SocketHandler> handler = std::move(handler_)) handler->on_close(reason);
}

void EngineSession::finish() {
  state_ = State::closed;
  heartbeat_.cancel();
  upgrade_timer_.cancel();
  close_timer_.cancel();
  drop_inbox();
  drop_probe();
  if (ws_) std::exchange(ws_, nullptr)->close();
  for (const Packet& packet : queue_) {
    if (packet.type == PacketType::message) buffered_ -= packet.data.size();
  }
  queue_.clear();
  if (get_) answer_get(encode_packet(Packet{PacketType::close, false, {}}));
  if (forget_) std::exchange(forget_, nullptr)(sid_);
}

}  // namespace posestream::server::engineio
