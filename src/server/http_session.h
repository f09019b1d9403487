// HttpSession: one HTTP connection: routes requests, serves files, runs /v1/detect, hands /ws upgrades on.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/engineio/engine_server.h"
#include "server/server_context.h"
#include "server/session_stream.h"

namespace posestream::server {

namespace beast = boost::beast;
namespace http = beast::http;

// One request at a time (no pipelining): read, answer, read again while keep-alive. Lifetime as in
// Beast's examples: pending handlers hold shared_from_this(). While a /v1/detect image runs no handler is
// pending, so the session holds itself (pending_self_) until the image's one answer arrives (every frame
// gets one, also at shutdown); the answer sink holds only a weak_ptr and posts to the strand, where
// everything runs.
//
// Engine.IO (http_engineio.cpp): a request at an installed EngineServer's path (ServerContext::
// engine_servers) goes to it before any other route. A polling request may be held (a GET waits for
// packets, up to ping_interval): meanwhile a read stays on the socket, so that a client that goes away is
// noticed and its held GET aborted (the session then closes, as the reference's), and it keeps the
// session alive; the answer arrives through a callback that posts to the strand, where the read is
// cancelled and the answer written. Bytes that arrive meanwhile (a pipelined request) stay in buffer_
// for the next read. Upgrades at that path are checked by the EngineServer and the socket handed to it.
//
// `Stream` is PlainStream or TlsStream (server/session_stream.h). Over TLS the session starts with the
// handshake (http_session_tls.cpp), under the same handshake_timeout as a request, and ends with an SSL
// shutdown; everything between is the same code. A failed handshake closes this connection only.
template <typename Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `stream` is freshly accepted (for TLS: not yet handshaken), on its own strand.
  HttpSession(Stream&& stream, ServerContext& context);
  ~HttpSession() override;

  void run();
  void shut_down() override;

 private:
  using Request = http::request<http::string_body>;

  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  // TLS only (http_session_tls.cpp).
  void do_handshake();
  void on_handshake(beast::error_code error);
  void do_tls_shutdown();

  void do_read();
  void on_header(beast::error_code error, std::size_t bytes);
  void read_body();
  void on_read(beast::error_code error, std::size_t bytes);
  void handle(Request&& request);
  void upgrade(Request&& request);
  void send_health(unsigned version, bool keep_alive);
  void send_readiness(unsigned version, bool keep_alive);
  // Access (http_access.cpp): whether the request's route admits it; a 401, after which the connection
  // closes once the unread body is discarded.
  bool authorized(const Request& request) const;
  void refuse_unauthorized(const Request& request);
  void discard_then_close();
  void on_discard(beast::error_code error, std::size_t bytes);
  void serve_file(const Request& request);
  void start_detect(Request&& request);
  void on_detect_answer(stream::Answer&& answer, unsigned version, bool keep_alive);

  // Engine.IO routes and origin checks (http_engineio.cpp).
  bool refuse_engine_body(const Request& request);  // In on_header: body limit, 413 over max_payload.
  void handle_engineio(engineio::EngineServer& engine, Request&& request);
  void upgrade_engineio(engineio::EngineServer& engine, Request&& request);
  void watch_connection();
  void on_watch(beast::error_code error, std::size_t bytes);
  void on_engine_answer(std::uint64_t poll, engineio::Response&& response);
  void end_engine_poll();
  bool refuse_foreign_origin(const Request& request);  // /ws upgrades: 403 unless allowed_origins admits.

  // Sends `response` (owned until written), then reads the next request or closes.
  template <typename Body>
  void send(http::response<Body>&& response, const char* route);
  void send_text(unsigned version, bool keep_alive, http::status status, std::string_view content_type,
                 std::string body, const char* route);
  void on_write(bool close, beast::error_code error, std::size_t bytes);
  void close_socket();

  Stream stream_;
  const net::any_io_executor strand_;  // stream_'s, kept for shut_down() from other threads.
  ServerContext& context_;
  std::uint64_t registry_id_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;  // The response being written.
  std::shared_ptr<stream::Session> detect_;      // While a /v1/detect image runs,
  std::shared_ptr<HttpSession> pending_self_;   // this session keeps itself alive (its sink is weak).
  bool handshaken_ = !kIsTls<Stream>;  // TLS: the handshake completed (an SSL shutdown is then owed).
  bool tls_shutting_down_ = false;     // TLS: the SSL shutdown is in flight.
  bool busy_ = false;      // Between a request read and its response written.
  bool closing_ = false;   // shut_down(): no further requests.
  bool upgraded_ = false;  // stream_ went to a WebSocketSession.
  bool discard_unread_ = false;  // A refused request's body is still coming: read it away before closing.
  std::size_t discarded_bytes_ = 0;
  // Engine.IO: the request handed to an EngineServer, until its answer is written.
  std::uint64_t engine_poll_ = 0;          // Names the latest; older answers are stale.
  bool engine_waiting_ = false;            // Its answer has not arrived.
  engineio::EngineServer::PollAbort engine_abort_;  // Tells a held GET's session the client went away.
  bool watching_ = false;                  // The read watching the socket meanwhile is in flight.
  std::optional<engineio::Response> engine_answer_;  // Arrived while that read was in flight.
};

}  // namespace posestream::server
