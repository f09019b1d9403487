// SocketIoSettings: the Socket.IO endpoint's settings in ServerOptions (docs/SOCKETIO.md).
#pragma once

#include <chrono>
#include <string>

namespace posestream::server {

// The Socket.IO drop-in (issue 13): posestream streams at `path` for Socket.IO v5 clients, as /ws serves
// its own. Heartbeat and connect defaults are the reference server's (socket.io 4.x). The largest
// message (Engine.IO maxPayload) is derived from Limits::max_message_bytes (socketio_endpoint.cpp).
struct SocketIoSettings {
  bool enabled = true;
  std::string path = "/socket.io/";
  // The event a frame's result is emitted as, so that an existing frontend's listener (say,
  // socket.on('pose_result', ...)) is matched without touching it.
  std::string result_event = "result";
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  // A client that has not joined the namespace this long after its Engine.IO handshake is closed.
  std::chrono::milliseconds connect_timeout{45'000};
};

}  // namespace posestream::server
