// Wire (the locked way out of one connection) and the Socket and Ack handles built on it.
#include "server/socketio/wire.h"

#include <algorithm>
#include <atomic>
#include <utility>

namespace posestream::server::socketio {
namespace {

const std::string kEmpty;

Packet event_packet(const SocketState& state, std::string_view event, Json args) {
  Json data = Json::array();
  data.push_back(std::string(event));
  if (args.is_array()) {
    for (auto& arg : args) data.push_back(std::move(arg));
  } else {
    data.push_back(std::move(args));  // A lone value is one argument, as python-socketio maps it.
  }
  Packet packet;
  packet.type = PacketType::event;
  packet.nsp = state.nsp;
  packet.data = std::move(data);
  return packet;
}

}  // namespace

bool Wire::send_locked(const EncodedPacket& encoded) {
  const auto socket = socket_.lock();
  if (!socket || shut_down_) return false;
  socket->send(engineio::Message{false, encoded.text});
  for (const auto& attachment : encoded.attachments) socket->send(engineio::Message{true, attachment});
  return true;
}

bool Wire::send(const Packet& packet) {
  const EncodedPacket encoded = encode_with_attachments(packet);
  std::lock_guard lock(mutex_);
  return send_locked(encoded);
}

bool Wire::join(const std::shared_ptr<SocketState>& state) {
  Packet answer;
  answer.type = PacketType::connect;
  answer.nsp = state->nsp;
  answer.data = Json{{"sid", state->id}};
  const EncodedPacket encoded = encode_with_attachments(std::move(answer));
  std::lock_guard lock(mutex_);
  if (!send_locked(encoded)) return false;
  state->connected = true;
  joined_.push_back(state);
  return true;
}

void Wire::leave(SocketState& state) {
  std::lock_guard lock(mutex_);
  state.connected = false;
  state.acks.clear();
  std::erase_if(joined_, [&](const auto& joined) { return joined.get() == &state; });
}

bool Wire::emit(SocketState& state, Packet packet, Socket::AckCallback on_ack) {
  std::unique_lock lock(mutex_);
  if (!state.connected) return false;
  if (on_ack) {
    if (state.acks.size() >= max_pending_acks_) return false;
    packet.id = state.next_ack_id++;
    state.acks.emplace(*packet.id, std::move(on_ack));
  }
  if (!packet.id) {
    // Encode without the lock: results are large and other threads may be emitting.
    lock.unlock();
    const EncodedPacket encoded = encode_with_attachments(std::move(packet));
    lock.lock();
    return state.connected && send_locked(encoded);
  }
  return send_locked(encode_with_attachments(std::move(packet)));
}

bool Wire::send_ack(SocketState& state, Packet packet) {
  const EncodedPacket encoded = encode_with_attachments(std::move(packet));
  std::lock_guard lock(mutex_);
  return state.connected && send_locked(encoded);
}

std::optional<Socket::AckCallback> Wire::take_ack(SocketState& state, std::uint64_t id) {
  std::lock_guard lock(mutex_);
  const auto it = state.acks.find(id);
  if (it == state.acks.end()) return std::nullopt;
  auto callback = std::move(it->second);
  state.acks.erase(it);
  return callback;
}

void Wire::disconnect_all(std::string reason) {
  std::shared_ptr<engineio::Socket> socket;
  {
    std::lock_guard lock(mutex_);
    for (const auto& state : joined_) {
      Packet packet;
      packet.type = PacketType::disconnect;
      packet.nsp = state->nsp;
      send_locked(EncodedPacket{encode_packet(packet), {}});
      state->connected = false;
      state->acks.clear();
    }
    joined_.clear();
    socket = socket_.lock();
  }
  if (socket) socket->close(std::move(reason));
}

void Wire::close(std::string reason) {
  if (const auto socket = socket_.lock()) socket->close(std::move(reason));
}

void Wire::shut_down() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  for (const auto& state : joined_) {
    state->connected = false;
    state->acks.clear();
  }
  joined_.clear();
}

// The Engine.IO call is made after the lock is released, as close(): it takes no lock of its own, but
// this keeps the rule simple (nothing below is called with the mutex held except send).
void Wire::pause_reading(const SocketState& state, std::chrono::steady_clock::duration how_long) {
  std::shared_ptr<engineio::Socket> socket;
  {
    std::lock_guard lock(mutex_);
    if (!state.connected || shut_down_) return;
    socket = socket_.lock();
  }
  if (socket) socket->pause_reading(how_long);
}

bool Wire::is_connected(const SocketState& state) {
  std::lock_guard lock(mutex_);
  return state.connected;
}

const std::string& Socket::id() const { return state_ ? state_->id : kEmpty; }
const std::string& Socket::nsp() const { return state_ ? state_->nsp : kEmpty; }

bool Socket::connected() const {
  if (!state_) return false;
  return state_->wire->is_connected(*state_);
}

bool Socket::emit(std::string_view event, Json args) const {
  if (!state_) return false;
  return state_->wire->emit(*state_, event_packet(*state_, event, std::move(args)), nullptr);
}

bool Socket::emit_with_ack(std::string_view event, Json args, AckCallback on_ack) const {
  if (!state_ || !on_ack) return false;
  return state_->wire->emit(*state_, event_packet(*state_, event, std::move(args)), std::move(on_ack));
}

void Socket::disconnect() const {
  if (state_) state_->wire->disconnect_all("server namespace disconnect");
}

void Socket::pause_reading(std::chrono::steady_clock::duration how_long) const {
  if (state_) state_->wire->pause_reading(*state_, how_long);
}

struct Ack::State {
  std::shared_ptr<SocketState> socket;
  std::uint64_t id = 0;
  std::atomic<bool> sent{false};
};

Ack::Ack(std::shared_ptr<SocketState> socket, std::uint64_t id) : state_(std::make_shared<State>()) {
  state_->socket = std::move(socket);
  state_->id = id;
}

bool Ack::operator()(Json args) const {
  if (!state_ || state_->sent.exchange(true)) return false;
  Packet packet;
  packet.type = PacketType::ack;
  packet.nsp = state_->socket->nsp;
  packet.id = state_->id;
  packet.data = args.is_array() ? std::move(args) : Json::array({std::move(args)});
  return state_->socket->wire->send_ack(*state_->socket, std::move(packet));
}

}  // namespace posestream::server::socketio
