// EngineSession's reading: the inbox of client packets, read pauses (Socket::pause_reading), held POSTs.
#include "server/engineio/engine_session.h"

#include <algorithm>
#include <utility>

namespace posestream::server::engineio {
namespace {

// A longer pause is taken as this: it keeps the deadline arithmetic (now + pause + ping_timeout) far
// from overflowing. Callers pause for a fraction of a second (engineio.h).
constexpr std::chrono::hours kMaxReadPause{1};

}  // namespace

// Not posted: the pause must hold from the next packet on, also for the rest of a POST whose packet is
// being handled right now. The strand reads the time when it is about to hand a packet on or read more.
void EngineSession::pause_reading(Clock::duration how_long) {
  if (how_long <= Clock::duration::zero()) return;
  const Clock::rep until = (Clock::now() + std::min<Clock::duration>(how_long, kMaxReadPause)).time_since_epoch().count();
  Clock::rep current = read_paused_until_.load();
  while (current < until && !read_paused_until_.compare_exchange_weak(current, until)) {
  }
}

EngineSession::Clock::time_point EngineSession::read_paused_until() const {
  return Clock::time_point(Clock::duration(read_paused_until_.load()));
}

// Only an open session pauses: once it is closing its handler is gone, and what the client still sends
// is dropped without waiting.
bool EngineSession::reading_paused() const {
  return (state_ == State::open || state_ == State::upgrading) && read_paused_until() > Clock::now();
}

void EngineSession::take_post(ReplyTo to, const std::string& body, Respond respond) {
  if (post_) {
    // The client POSTed before its last POST was answered (the reference's "data request overlap"):
    // this one 400, the session closes, the held one is answered by finish().
    respond(empty_answer(to, http::status::bad_request));
    close_now("transport error");
    return;
  }
  DecodedPayload payload = decode_payload(body);
  for (Packet& packet : payload.packets) inbox_.emplace_back(std::move(packet));
  // The packets before an invalid record are delivered, as the reference does; then the POST gets 400
  // and the session closes ("parse error").
  if (!payload.valid) inbox_.emplace_back(std::nullopt);
  post_ = HeldPost{std::move(to), std::move(respond)};
  pump();
}

void EngineSession::take_ws_packet(std::optional<Packet> packet) {
  ws_read_pending_ = false;
  inbox_.push_back(std::move(packet));
  pump();
}

// Hands the inbox on in order until it is empty or a pause holds it (maybe asked by the handler of the
// packet just handed on); then, unless paused, answers the POST and asks the WebSocket for more. Safe
// to call at any time: every trigger (a packet, a POST, the pause's end, the upgrade) calls it.
void EngineSession::pump() {
  while (state_ != State::closed) {
    if (reading_paused()) {
      // Re-armed on every call: a pause extended meanwhile is waited for in full (on_read_pause).
      read_pause_.expires_at(read_paused_until());
      read_pause_.async_wait([self = shared_from_this()](beast::error_code error) { self->on_read_pause(error); });
      return;
    }
    if (inbox_.empty()) break;
    std::optional<Packet> packet = std::move(inbox_.front());
    inbox_.pop_front();
    if (!packet) {  // 3.1 items 10 (POST) and 15 (WebSocket).
      if (post_) {
        HeldPost post = std::move(*post_);
        post_.reset();
        post.respond(coded_error(post.to, ErrorCode::bad_request));
      }
      close_now("parse error");
      return;
    }
    handle_packet(std::move(*packet));
  }
  if (state_ == State::closed) return;
  answer_post();
  read_websocket();
}

void EngineSession::on_read_pause(beast::error_code error) {
  if (error) return;  // Re-armed or the session finished.
  pump();             // Still paused if the pause was extended: pump waits again.
}

void EngineSession::answer_post() {
  if (!post_) return;
  HeldPost post = std::move(*post_);
  post_.reset();
  post.respond(ok_answer(post.to));
}

void EngineSession::read_websocket() {
  if (!ws_ || !websocket_ || ws_read_pending_) return;
  ws_read_pending_ = true;
  ws_->read_next();
}

// The pong may be among what a pause kept unread (on WebSocket it queues behind the client's messages;
// on polling it waits in a held POST), so the wait for it restarts at the end of a pause that outlasted
// its start. A dead client is then found at most a pause later; a live one is never timed out by one.
bool EngineSession::extend_pong_wait() {
  const Clock::time_point paused_until = read_paused_until();
  if (paused_until <= pong_wait_from_) return false;
  pong_wait_from_ = paused_until;
  heartbeat_.expires_at(paused_until + options_.ping_timeout);
  heartbeat_.async_wait([self = shared_from_this(), generation = ++heartbeat_generation_](beast::error_code error) {
    self->on_heartbeat(generation, error);
  });
  return true;
}

// The session is closed: packets not handed on are dropped. A held POST is answered "ok" (it was
// received); the client learns of the close as for any other (its next GET, or the WebSocket's close).
void EngineSession::drop_inbox() {
  inbox_.clear();
  read_pause_.cancel();
  answer_post();
}

}  // namespace posestream::server::engineio
