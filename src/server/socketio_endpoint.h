// The Socket.IO endpoint: installs posestream streams at ServerOptions::socketio.path; TransportLink.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

#include "server/engineio/engineio.h"
#include "server/metrics.h"

namespace posestream::server {

struct ServerContext;

// What a Socket.IO stream knows of the Engine.IO session under it: the transport in use (for
// posestream_sessions_by_transport) and the bytes it holds unsent (the slow-reader check). Made by the
// endpoint's Engine.IO handler, which sees the upgrade; shared with the stream bound to that session.
// Thread-safe.
class TransportLink {
 public:
  TransportLink(const std::shared_ptr<engineio::Socket>& socket, bool websocket, Metrics& metrics)
      : socket_(socket), websocket_(websocket), metrics_(metrics) {}

  // The stream bound to the session opened / closed: counted in the gauge under the transport in use.
  void stream_opened();
  void stream_closed();
  // The session moved to WebSocket (Engine.IO's on_upgrade): counted, and the open stream's gauge moves.
  void upgraded();
  // Bytes the Engine.IO session holds unsent (0 once it is gone).
  std::size_t buffered_bytes() const;

 private:
  SessionTransport transport() const {  // With mutex_ held.
    return websocket_ ? SessionTransport::socketio_websocket : SessionTransport::socketio_polling;
  }

  const std::weak_ptr<engineio::Socket> socket_;
  mutable std::mutex mutex_;
  bool websocket_;             // Guarded by mutex_, as is stream_open_.
  bool stream_open_ = false;
  Metrics& metrics_;
};

// When context.options.socketio.enabled: the Engine.IO endpoint at its path with Socket.IO's namespace
// "/" serving one posestream stream per client (server/socketio_stream.h). Called by Server::run before
// the listener starts, so that an endpoint installed at the same path with Server::add_engine_server
// (the conformance server's) takes precedence. Throws std::invalid_argument for unusable settings.
void install_socketio_endpoint(ServerContext& context);

}  // namespace posestream::server
