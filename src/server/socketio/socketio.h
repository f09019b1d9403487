// Public API of the Socket.IO v5 layer: options, namespaces, sockets, events and acks.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>

#include "server/engineio/engineio.h"
#include "server/socketio/binary.h"
#include "server/socketio/packet.h"

namespace posestream::server::socketio {

// Socket.IO v5 (../shared/SOCKETIO_FACTS.md section 2) over one Engine.IO session per client: the
// client joins namespaces ("/", "/custom", ...), each join making a namespace socket with its own
// Socket.IO sid; events go both ways, each optionally acknowledged. Arguments are JSON (Json, order
// and integers kept); a binary argument is a Json binary value (make_binary / binary_bytes) and travels
// as an attachment.
//
// Threads: handlers (SocketHandler, SocketFactory, ack callbacks) run on the Engine.IO session's
// strand, one at a time, and must not block. Socket and Ack may be used from any thread.

// Every limit and timing of the layer. Defaults are the reference server's (socket.io 4.x) unless said.
struct Options {
  // A client that has joined no namespace this long after its Engine.IO session opened has its session
  // closed (the reference's connectTimeout, 45 s).
  std::chrono::milliseconds connect_timeout{45'000};
  // Attachments per packet (default 10, as the reference) and JSON nesting depth of a client's payload.
  DecodeLimits decode;
  // Bytes of attachments held for one packet while the rest are awaited: a client announcing
  // attachments it never sends holds at most this (each is also bounded by the Engine.IO max_payload).
  // Over it, the session is closed. Default: 10 attachments of the Engine.IO default max_payload.
  std::size_t max_attachment_bytes = 10'000'000;
  // Events emitted by the server with an ack callback whose ack has not come back yet, per namespace
  // socket. At it, emit_with_ack refuses (returns false). The reference has no limit.
  std::size_t max_pending_acks = 256;
};

struct SocketState;  // Internal (wire.h).

// A handle on one namespace socket. Cheap to copy; thread-safe. It may outlive the connection: calls
// after the socket left its namespace or the session closed do nothing (and return false).
class Socket {
 public:
  Socket() = default;  // No socket: connected() is false and every call does nothing.
  explicit Socket(std::shared_ptr<SocketState> state) : state_(std::move(state)) {}

  const std::string& id() const;   // The Socket.IO sid ("" for no socket).
  const std::string& nsp() const;  // The namespace ("/" ...).
  bool connected() const;          // Joined and not yet left or closed.

  // Sends event `event` with arguments `args` (a JSON array; any binary values in it, at any depth,
  // make it a BINARY_EVENT with attachments). Order is kept between emits from one thread. Does not
  // retain `args` beyond the call. False when not connected.
  bool emit(std::string_view event, Json args = Json::array()) const;
  // As emit, asking the client to acknowledge: `on_ack` is called on the session's strand with the
  // client's ack arguments (binaries as binary values), at most once; never if the session closes
  // first. False when not connected or at Options::max_pending_acks.
  using AckCallback = std::function<void(Json args)>;
  bool emit_with_ack(std::string_view event, Json args, AckCallback on_ack) const;

  // Disconnects the client: DISCONNECT for each namespace it joined, then the Engine.IO session closes
  // (the reference's socket.disconnect(true)). Handlers get on_disconnect("server namespace disconnect").
  void disconnect() const;

  // Backpressure on the client (a rate limit): nothing more the client sends is read or handed to any
  // handler until `how_long` from now has passed; on WebSocket its sends block, on polling its POST is
  // answered only then. The whole connection pauses, every namespace the client joined (they share one
  // Engine.IO session); pauses only extend. Takes effect at once, also from inside on_event: the rest of
  // a polling POST waits. Keep pauses short (about 1/rate each); the heartbeat does not count them.
  // engineio::Socket::pause_reading has the details. Nothing when not connected.
  void pause_reading(std::chrono::steady_clock::duration how_long) const;

 private:
  std::shared_ptr<SocketState> state_;
};

// The answer to one event the client sent with an ack id. Cheap to copy; thread-safe; the first call
// sends the ACK (BINARY_ACK when args hold binary values), later calls do nothing.
class Ack {
 public:
  Ack() = default;  // The client asked for no ack: requested() is false and calls do nothing.
  Ack(std::shared_ptr<SocketState> socket, std::uint64_t id);

  bool requested() const { return state_ != nullptr; }
  // False when no ack was requested, it was already sent, or the socket is no longer connected.
  bool operator()(Json args = Json::array()) const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

// The application's side of one namespace socket, made by a SocketFactory. Runs on the session's strand.
class SocketHandler {
 public:
  virtual ~SocketHandler() = default;
  // The client joined; the CONNECT answer is already queued, so emits from here follow it. `auth` is
  // the CONNECT payload ({} when there was none).
  virtual void on_connect(const Json& auth) { (void)auth; }
  // An event from the client: its name (a number event name as its decimal text) and its arguments
  // (the array after the name, binaries as binary values). `ack` is requested() when the client asked
  // for an acknowledgement.
  virtual void on_event(std::string_view event, Json args, Ack ack) = 0;
  // The socket left, once: "client namespace disconnect", "server namespace disconnect", or the
  // Engine.IO session's close reason ("transport close", "ping timeout", "parse error", ...).
  virtual void on_disconnect(std::string_view reason) { (void)reason; }
};

// What a factory is told about a client joining a namespace. Valid during the call only.
struct ConnectRequest {
  const Socket& socket;  // Not yet connected: emits made now are refused. Copy it to keep it.
  const Json& auth;      // The CONNECT payload, {} when absent.
  const engineio::Handshake& handshake;
};

// A namespace refusing a client: it gets CONNECT_ERROR {"message": message} and may try again.
struct Refusal {
  std::string message;
};

// A null handler refuses with the message "Connection rejected by server".
using ConnectResult = std::variant<std::unique_ptr<SocketHandler>, Refusal>;
using SocketFactory = std::function<ConnectResult(const ConnectRequest& request)>;

// The namespaces served, by name ("/" for the main one). A CONNECT to any other gets
// `44<nsp>,{"message":"Invalid namespace"}`, as the reference. Shared read-only by all connections.
using Namespaces = std::map<std::string, SocketFactory, std::less<>>;

// The Engine.IO handler factory serving `namespaces`: one Connection (connection.h) per session. Its
// connect timeout runs on `executor` (the server's io_context).
engineio::HandlerFactory make_handler_factory(std::shared_ptr<const Namespaces> namespaces,
                                              Options options, boost::asio::any_io_executor executor);

}  // namespace posestream::server::socketio
