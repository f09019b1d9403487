// Public API of the Engine.IO v4 layer: the sessions (one per sid) as the layer above sees them.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posestream::server::engineio {

// Engine.IO v4 (../shared/SOCKETIO_FACTS.md section 1): a session per sid, over HTTP long-polling,
// WebSocket, or polling upgraded to WebSocket, with heartbeats driven by the server. This layer knows
// nothing of Socket.IO or of posestream: above it sits a SocketHandler (Socket.IO's connection, or an
// echo for the Engine.IO conformance suite), one per session.

// Every limit of the layer. Defaults are the reference server's (engine.io 6.x).
struct Options {
  // The path the layer answers at, with its trailing slash ("/socket.io/", "/engine.io/").
  std::string path = "/socket.io/";
  // The server sends a ping every ping_interval; a session whose client has not answered it (pong, or
  // any packet) within ping_timeout is closed ("ping timeout"); a read pause (Socket::pause_reading)
  // restarts that wait from the pause's end.
  std::chrono::milliseconds ping_interval{25'000};
  std::chrono::milliseconds ping_timeout{20'000};
  // The largest POST body (413 over it) and the largest WebSocket message (the socket closes), in bytes;
  // announced to clients as maxPayload.
  std::size_t max_payload = 1'000'000;
  // At most this many packets in one polling response (Debian's python3-engineio refuses more).
  std::size_t max_packets_per_poll = 16;
  // An upgrade (the probe on a new WebSocket) must complete within this, or that WebSocket is closed and
  // the session stays on polling.
  std::chrono::milliseconds upgrade_timeout{10'000};
  // Bytes of packets the server may hold for a session that is not reading them (no GET pending, or a
  // WebSocket write behind). Over it the session is closed ("transport error"): the layer above is
  // expected to bound what it sends (posestream's answers are bounded by its own queue limits).
  std::size_t max_buffered_bytes = 8u << 20;

  // Additions (the Engine.IO transport layer's own, after the fields above):
  // A server close on polling with no GET held waits this long for the client's next GET to carry the
  // queued messages and the close packet; then the session is dropped (the reference's closeTimeout).
  std::chrono::milliseconds close_timeout{30'000};
  // Open sessions at this path. A handshake over it gets 503 with an empty body (polling) or a 503
  // before the upgrade (WebSocket): a bound on what anonymous clients can make the server hold.
  std::size_t max_sessions = 4096;
  // Browser origins admitted (server/engineio/origin.h has the rules): empty = same origin only, "*" =
  // any, else the listed "scheme://host[:port]". Requests without an Origin header are admitted. A
  // refused one gets 403 {"code":4,"message":"Forbidden"}. ServerContext::add_engine_server replaces it
  // with ServerOptions::allowed_origins, so one setting governs /ws and every Engine.IO path.
  std::vector<std::string> allowed_origins;
};

// One Engine.IO message (packet type 4): text, or binary (sent as a binary WebSocket frame, or as
// "b" + base64 in a polling payload).
struct Message {
  bool binary = false;
  std::string data;  // The bytes: UTF-8 text, or the binary payload.
};

// What is known of a session when it opens.
struct Handshake {
  std::string sid;
  std::string transport;          // "polling" or "websocket": the one the session opened with.
  std::string query;              // The opening request's query string, without the '?'.
  std::string peer;               // "address:port" of the opening connection.
  std::optional<std::string> origin;  // Its Origin header, if any.
};

// One Engine.IO session, as the layer above sees it. Thread-safe: every call may come from any thread;
// each is posted to the session's strand (pause_reading takes effect at once). Calls after the session
// closed do nothing.
class Socket {
 public:
  virtual ~Socket() = default;
  virtual const std::string& sid() const = 0;
  // Queues one message: written on the WebSocket, or returned by the next GET (several per GET, up to
  // Options::max_packets_per_poll).
  virtual void send(Message message) = 0;
  // Closes the session from the server's side: queued messages are delivered first, then, as the
  // reference server does (SOCKETIO_FACTS.md 1.3, 1.4): on polling a close packet "1" in the GET held or
  // the next one (at most Options::close_timeout later); on WebSocket a close frame (no "1" packet).
  // ("6" is what a held GET gets when the *client* closes: item 20 of 3.1.) `reason` is what
  // SocketHandler::on_close receives ("server close" if empty), at once: the handler is not called
  // again.
  virtual void close(std::string reason = {}) = 0;
  // "polling" or "websocket": the transport now in use. Thread-safe.
  virtual std::string transport() const = 0;
  // Bytes of messages queued and not yet handed to a transport. Thread-safe.
  virtual std::size_t buffered_bytes() const = 0;
  // Backpressure on the client (a rate limit such as server/message_rate.h): no further client message
  // is read or handed to SocketHandler::on_message until `how_long` from now has passed. Takes effect at
  // once, also when called from inside on_message (the rest of that POST waits). Pauses only extend:
  // one ending before a pause already asked changes nothing; zero or negative does nothing. Nothing is
  // dropped:
  // - WebSocket: the next read from the socket starts after the pause (the kernel's buffers fill and
  //   the client's sends block). At most the one message already being read when the pause was asked
  //   from another thread is read during it, and held until it ends.
  // - Polling: the POST during which the pause was asked, or one arriving during it, is answered "ok"
  //   only when it ends, and the packets of a POST arriving during it are handed on only after it. A
  //   client cannot POST again before its POST is answered, so its sends wait too. (A POST while one is
  //   held overlaps, as the reference sees it: 400, the session closes.)
  // - An upgrade probe's own packets ("2probe", "5") are not held; the WebSocket, once it is the
  //   transport, reads as above.
  // Sending is not paused, and neither are the server's pings. The client's pong may be among what is
  // not read (on WebSocket it queues behind the client's messages), so a session's ping timeout counts
  // only from the end of the last pause: a pause never makes a live client time out, and a dead one is
  // found at most the pause later. Keep pauses short (a rate limit's are about 1/rate each): while
  // paused, the client's close frame or dead socket goes unseen too. Thread-safe; nothing after the
  // session closed.
  virtual void pause_reading(std::chrono::steady_clock::duration how_long) = 0;
};

// The layer above one session. Called on the session's strand only, never concurrently, never after
// on_close.
class SocketHandler {
 public:
  virtual ~SocketHandler() = default;
  // A message from the client, in order.
  virtual void on_message(Message message) = 0;
  // The session moved from polling to WebSocket (after the client's "5").
  virtual void on_upgrade() {}
  // The session ended, once: "client close", "ping timeout", "transport close", "transport error"
  // (also: overlapping GETs, a cancelled GET, a client ping, max_buffered_bytes), "parse error",
  // "server close" or the reason given to Socket::close().
  virtual void on_close(std::string_view reason) = 0;
};

// Makes the handler of a session as it opens, before the open packet is sent (so a message the handler
// sends at once follows it). The socket owns the handler: a handler keeps a weak_ptr to its socket, never
// a shared_ptr. Called on the new session's strand, so sessions' calls may run concurrently: the factory
// must be thread-safe. It must not return null (a null handler closes the session at once).
using HandlerFactory = std::function<std::unique_ptr<SocketHandler>(std::shared_ptr<Socket> socket,
                                                                    const Handshake& handshake)>;

}  // namespace posestream::server::engineio
