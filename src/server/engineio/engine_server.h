// EngineServer: the Engine.IO endpoint at one path: request checks, the sid registry, handshakes, upgrades.
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "server/engineio/engineio.h"
#include "server/engineio/http_answers.h"

namespace posestream::server::engineio {

namespace net = boost::asio;

class EngineSession;
class WsTransport;

// One per path (Options::path), shared by the connections that reach it; thread-safe. It never owns a
// socket's HTTP connection: the caller (server/http_engineio.cpp, or any HTTP server) reads each
// request whole (body at most Options::max_payload: over it, answer 413 with an empty body without
// calling here), hands it over, writes the answer it gets, and hands WebSocket upgrades to
// accept_websocket. Answers are the reference server's, byte for byte (SOCKETIO_FACTS.md 1.7).
class EngineServer : public std::enable_shared_from_this<EngineServer> {
 public:
  // `io` runs the sessions (each on its own strand) and must outlive them; `factory` makes each
  // session's handler (thread-safe).
  static std::shared_ptr<EngineServer> create(net::io_context& io, Options options, HandlerFactory factory);

  const Options& options() const { return *options_; }
  // Whether a request target (path and query) is at this server's path: a prefix match, as the
  // reference's ("/engine.io/?EIO=4..." and "/engine.io/anything" both are).
  bool serves(std::string_view target) const;

  // Called when the connection of a held GET closes before its answer came (the client cancelled it:
  // the session closes, SOCKETIO_FACTS.md 3.1 item 12). Empty when nothing is held for this request.
  using PollAbort = std::function<void()>;
  // A polling request (GET, POST, OPTIONS; other methods get the reference's answers). `respond` is
  // called exactly once, from any thread, possibly before this returns, unless the PollAbort returned is
  // called first. A GET may be held until there is something to send (ping_interval at most).
  PollAbort handle_http(const Request& request, const std::string& peer, Respond respond);

  // For a WebSocket upgrade request at this path: the refusal to send instead of the 101 (a refused
  // origin, an unknown transport, a bad EIO for a new session, an unknown sid, max_sessions), or nullopt
  // when the request may be handed to accept_websocket.
  std::optional<Response> check_upgrade(const Request& request) const;
  // Takes the connection (its upgrade request just read; TLS: handshaken) and answers 101. Without a
  // sid: a new session on WebSocket; with one: the probe of that session's upgrade (or, if it cannot be,
  // a WebSocket closed right after its 101, as the reference). `Stream` is PlainStream or TlsStream
  // (server/session_stream.h); explicitly instantiated for both.
  template <typename Stream>
  void accept_websocket(Stream&& stream, Request request, std::string peer);

  // Closes every session from the server's side (Socket::close with `reason`). Thread-safe.
  void close_all(const std::string& reason);
  std::size_t session_count() const;
  // WebSockets still open or closing, sessions' or not: a session is forgotten as soon as it closes, its
  // transport lives on until its queued packets and close frame are written. A server stopping waits
  // for both counts to reach 0 (Server::shut_down), or the DISCONNECT a client is owed is never sent.
  std::size_t open_websocket_count() const { return open_websockets_->load(); }
  // Drops the registry's references to its sessions without closing them: for the owner of the
  // io_context, just before it is destroyed (a session's timers must not outlive it).
  void clear_sessions();

 private:
  // The query parameters the protocol reads (others, such as t and b64, are ignored: 6.4).
  struct Query {
    std::optional<std::string> eio;
    std::optional<std::string> transport;
    std::optional<std::string> sid;
    std::string raw;  // Without the '?'.
  };
  static Query parse_query(std::string_view target);

  struct Private {
    explicit Private() = default;
  };

 public:
  // Use create() (sessions need weak_from_this()).
  EngineServer(Private, net::io_context& io, Options options, HandlerFactory factory);

 private:

  // The reference's verify(): the error a request earns, if any. `get`: the method is GET.
  std::optional<ErrorCode> verify(const Query& query, bool get, bool websocket) const;
  std::shared_ptr<EngineSession> find(const std::string& sid) const;
  // A new session with a fresh random sid, registered; null at max_sessions.
  std::shared_ptr<EngineSession> create_session();
  void forget(const std::string& sid);
  void handshake(const Query& query, const Request& request, const std::string& peer, ReplyTo to, Respond respond);
  void on_websocket_accepted(const std::shared_ptr<WsTransport>& transport, const Query& query,
                             const Handshake& handshake);

  net::io_context& io_;
  const std::shared_ptr<const Options> options_;  // Shared with the sessions.
  const HandlerFactory factory_;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<EngineSession>, std::less<>> sessions_;  // Guarded by mutex_.
  std::atomic<std::uint64_t> next_poll_id_{1};
  std::atomic<std::uint64_t> next_transport_id_{1};
  const std::shared_ptr<std::atomic<std::size_t>> open_websockets_ = std::make_shared<std::atomic<std::size_t>>(0);
};

}  // namespace posestream::server::engineio
