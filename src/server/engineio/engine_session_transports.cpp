// EngineSession's transports: polling GETs and POSTs, the WebSocket probe and upgrade, transport events.
#include <boost/asio/post.hpp>

#include "server/engineio/engine_session.h"

namespace posestream::server::engineio {

void EngineSession::handle_get(std::uint64_t poll_id, ReplyTo to, Respond respond) {
  net::post(strand_, [self = shared_from_this(), poll_id, to = std::move(to), respond = std::move(respond)]() mutable {
    self->do_get(poll_id, std::move(to), std::move(respond));
  });
}

void EngineSession::do_get(std::uint64_t poll_id, ReplyTo to, Respond respond) {
  if (state_ == State::closed || state_ == State::opening) return respond(coded_error(to, ErrorCode::unknown_sid));
  if (websocket_) return respond(coded_error(to, ErrorCode::bad_request));  // Transport mismatch.
  if (get_) {
    // Overlap from the client (3.1 item 11): this one 400, the held one "1", the session gone.
    respond(empty_answer(to, http::status::bad_request));
    close_now("transport error");
    return;
  }
  get_ = PendingGet{poll_id, std::move(to), std::move(respond)};
  // While upgrading, a GET is never held: the client must see it end to pause polling and send "5"
  // (SOCKETIO_FACTS.md 1.6, 6.1).
  if (state_ == State::upgrading && queue_.empty()) return answer_get("6");
  flush_to_get();
}

void EngineSession::abort_get(std::uint64_t poll_id) {
  net::post(strand_, [self = shared_from_this(), poll_id] {
    if (!self->get_ || self->get_->id != poll_id) return;
    self->get_.reset();  // Its connection is gone: nobody to answer.
    self->close_now("transport error");  // The reference's "poll connection closed prematurely" (item 12).
  });
}

void EngineSession::handle_post(ReplyTo to, std::string body, bool octet_stream, Respond respond) {
  net::post(strand_, [self = shared_from_this(), to = std::move(to), body = std::move(body), octet_stream,
                      respond = std::move(respond)] { self->do_post(to, body, octet_stream, respond); });
}

// The packets go through the inbox (take_post): the answer waits for them and for any read pause.
void EngineSession::do_post(ReplyTo to, const std::string& body, bool octet_stream, const Respond& respond) {
  if (state_ == State::closed || state_ == State::opening) return respond(coded_error(to, ErrorCode::unknown_sid));
  if (websocket_) return respond(coded_error(to, ErrorCode::bad_request));
  if (octet_stream) {  // v4 sends binary as base64 text only (SOCKETIO_FACTS.md 1.3).
    respond(empty_answer(to, http::status::bad_request));
    close_now("transport error");
    return;
  }
  take_post(std::move(to), body, respond);
}

void EngineSession::attach_probe(std::shared_ptr<WsTransport> transport) {
  net::post(strand_, [self = shared_from_this(), transport = std::move(transport)]() mutable {
    self->do_attach_probe(std::move(transport));
  });
}

// The probe is read from at once, but nothing is written on it before "3probe" (python-engineio reads
// exactly one frame and wants that one).
void EngineSession::do_attach_probe(std::shared_ptr<WsTransport> transport) {
  if (state_ != State::open || websocket_ || probe_) {
    transport->close();  // A second WebSocket for this sid: 101, then closed (3.1 item 24).
    return;
  }
  probe_ = std::move(transport);
  probe_->start(weak_from_this());
  upgrade_timer_.expires_after(options_.upgrade_timeout);
  upgrade_timer_.async_wait([self = shared_from_this(), generation = ++upgrade_generation_](beast::error_code error) {
    self->on_upgrade_timer(generation, error);
  });
}

void EngineSession::on_upgrade_timer(std::uint64_t generation, beast::error_code error) {
  if (error || generation != upgrade_generation_ || !probe_) return;
  drop_probe();  // No "5" within upgrade_timeout: the session stays on polling.
}

void EngineSession::on_probe_packet(std::optional<Packet> packet) {
  if (packet && packet->type == PacketType::ping && packet->data == "probe" && state_ == State::open) {
    probe_->send(Packet{PacketType::pong, false, "probe"});
    probe_->read_next();  // For the "5": the probe's own packets are never held by a read pause.
    state_ = State::upgrading;
    if (get_ && queue_.empty()) answer_get("6");
    return;
  }
  if (packet && packet->type == PacketType::upgrade && packet->data.empty() && state_ == State::upgrading) {
    complete_upgrade();
    return;
  }
  drop_probe();  // Anything else on the probe ends it (SOCKETIO_FACTS.md 1.6).
}

// After "5": the WebSocket is the transport; a GET still held gets "6" and what was queued goes out on
// the WebSocket, in order. Its next read waits for the inbox (a POST still held) and any read pause.
void EngineSession::complete_upgrade() {
  ++upgrade_generation_;
  upgrade_timer_.cancel();
  ws_ = std::move(probe_);
  ws_read_pending_ = false;
  websocket_ = true;
  state_ = State::open;
  if (get_) answer_get("6");
  flush();
  if (handler_) handler_->on_upgrade();
  pump();
}

void EngineSession::drop_probe() {
  if (!probe_) return;
  ++upgrade_generation_;
  upgrade_timer_.cancel();
  std::exchange(probe_, nullptr)->close();
  if (state_ == State::upgrading) state_ = State::open;
}

void EngineSession::on_transport_packet(std::uint64_t transport_id, std::optional<Packet> packet) {
  net::post(strand_, [self = shared_from_this(), transport_id, packet = std::move(packet)]() mutable {
    self->do_transport_packet(transport_id, std::move(packet));
  });
}

void EngineSession::do_transport_packet(std::uint64_t transport_id, std::optional<Packet> packet) {
  if (state_ == State::closed) return;
  if (probe_ && probe_->id() == transport_id) return on_probe_packet(std::move(packet));
  if (!ws_ || ws_->id() != transport_id || !websocket_) return;
  take_ws_packet(std::move(packet));
}

void EngineSession::on_transport_closed(std::uint64_t transport_id, std::string reason) {
  net::post(strand_, [self = shared_from_this(), transport_id, reason = std::move(reason)] {
    self->do_transport_closed(transport_id, reason);
  });
}

void EngineSession::do_transport_closed(std::uint64_t transport_id, const std::string& reason) {
  if (probe_ && probe_->id() == transport_id) {
    probe_.reset();
    ++upgrade_generation_;
    upgrade_timer_.cancel();
    if (state_ == State::upgrading) state_ = State::open;
    return;
  }
  if (ws_ && ws_->id() == transport_id) {
    ws_.reset();
    close_now(reason);
  }
}

}  // namespace posestream::server::engineio
