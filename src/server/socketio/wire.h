// Internal: the state a connection shares with its Socket and Ack handles, and the one lock over it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "server/engineio/engineio.h"
#include "server/socketio/socketio.h"

namespace posestream::server::socketio {

class Wire;

// One namespace socket. `connected` and `acks` are guarded by the wire's mutex.
struct SocketState {
  std::string id;
  std::string nsp;
  std::shared_ptr<Wire> wire;
  bool connected = false;
  std::uint64_t next_ack_id = 0;  // The reference numbers a socket's acks from 0.
  std::map<std::uint64_t, Socket::AckCallback> acks;
};

// A connection's way out: the Engine.IO socket (weak: the socket owns the Connection) and a mutex that
// keeps each packet's messages consecutive (a binary packet is a text message plus its attachments;
// two threads emitting at once must not interleave them) and guards every SocketState of the
// connection. Engine.IO's send() and close() only post to the session's strand, so holding the mutex
// across them is short; close() is still called after releasing it, so that an Engine.IO layer calling
// on_close inline cannot deadlock on it.
class Wire {
 public:
  Wire(std::weak_ptr<engineio::Socket> socket, std::size_t max_pending_acks)
      : socket_(std::move(socket)), max_pending_acks_(max_pending_acks) {}

  // Sends `packet` outside any namespace socket (CONNECT_ERROR). False if the session is gone.
  bool send(const Packet& packet);
  // Sends the CONNECT answer for `state` and marks it connected, atomically: no emit precedes it.
  bool join(const std::shared_ptr<SocketState>& state);
  // Marks `state` no longer connected and drops its pending acks (client DISCONNECT). Sends nothing.
  void leave(SocketState& state);
  // Sends an EVENT (binary values become attachments), registering `on_ack` if given.
  bool emit(SocketState& state, Packet packet, Socket::AckCallback on_ack);
  // Sends the ACK `id` of `state`.
  bool send_ack(SocketState& state, Packet packet);
  // Removes and returns the callback waiting for ack `id` of `state`, if any.
  std::optional<Socket::AckCallback> take_ack(SocketState& state, std::uint64_t id);
  // DISCONNECT for every joined socket, then closes the session with `reason`.
  void disconnect_all(std::string reason);
  // Closes the session with `reason` (nothing more is sent).
  void close(std::string reason);
  // The session closed: every socket is left, nothing more is sent.
  void shut_down();
  // Pauses reading the session (engineio::Socket::pause_reading) if `state` is connected.
  void pause_reading(const SocketState& state, std::chrono::steady_clock::duration how_long);
  bool is_connected(const SocketState& state);

 private:
  // Sends the messages of one packet in order. Requires mutex_ held.
  bool send_locked(const EncodedPacket& encoded);

  std::mutex mutex_;
  std::weak_ptr<engineio::Socket> socket_;
  const std::size_t max_pending_acks_;
  std::vector<std::shared_ptr<SocketState>> joined_;  // Guarded by mutex_.
  bool shut_down_ = false;                            // Guarded by mutex_.
};

}  // namespace posestream::server::socketio
