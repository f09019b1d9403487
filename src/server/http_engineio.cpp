// HttpSession's Engine.IO routes: polling requests held while the client waits, upgrades, origins on /ws.
#include <boost/beast/websocket.hpp>

#include "server/engineio/origin.h"
#include "server/http_session.h"
#include "server/protocol.h"

namespace posestream::server {
namespace {

constexpr const char* kRoute = "engineio";  // The route label in posestream_http_requests_total.
// What one watch read takes. Bytes a client sends while its request is held (it pipelines) are kept for
// the next request; past kMaxEarlyBytes of them the connection is no longer watched (its next request
// is already waiting in full, most likely) and a disconnect is noticed only at the answer's write.
constexpr std::size_t kWatchBytes = 4096;
constexpr std::size_t kMaxEarlyBytes = 16 * 1024;

template <typename Stream>
std::string peer_of(Stream& stream) {
  beast::error_code error;
  const auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(error);
  return error ? "unknown peer" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

std::optional<std::string_view> origin_of(const http::request<http::string_body>& request) {
  const auto found = request.find(http::field::origin);
  if (found == request.end()) return std::nullopt;
  return std::string_view(found->value());
}

}  // namespace

// From the headers: the Engine.IO path's body limit is its max_payload, and a body announced over it is
// answered 413 with an empty body (the reference's) without being read.
template <typename Stream>
bool HttpSession<Stream>::refuse_engine_body(const Request& request) {
  engineio::EngineServer* engine = context_.engine_server_for(request.target());
  if (engine == nullptr) return false;
  const std::size_t limit = engine->options().max_payload;
  parser_->body_limit(limit);
  const boost::optional<std::uint64_t> length = parser_->content_length();
  if (!length || *length <= limit) return false;
  busy_ = true;
  discard_unread_ = !parser_->is_done();
  http::response<http::string_body> response{http::status::payload_too_large, request.version()};
  response.set(http::field::server, "posestream");
  response.keep_alive(false);
  response.prepare_payload();
  send(std::move(response), kRoute);
  return true;
}

template <typename Stream>
void HttpSession<Stream>::handle_engineio(engineio::EngineServer& engine, Request&& request) {
  if (beast::websocket::is_upgrade(request)) {
    upgrade_engineio(engine, std::move(request));
    return;
  }
  const std::uint64_t poll = ++engine_poll_;
  engine_waiting_ = true;
  // The answer may come from the session's strand, later: it is posted to this session's.
  auto respond = [self = this->shared_from_this(), poll](engineio::Response response) {
    net::post(self->strand_, [self, poll, response = std::move(response)]() mutable {
      self->on_engine_answer(poll, std::move(response));
    });
  };
  engine_abort_ = engine.handle_http(request, peer_of(stream_), std::move(respond));
  watch_connection();
}

template <typename Stream>
void HttpSession<Stream>::upgrade_engineio(engineio::EngineServer& engine, Request&& request) {
  if (std::optional<engineio::Response> refusal = engine.check_upgrade(request)) {
    refusal->keep_alive(false);
    send(std::move(*refusal), kRoute);
    return;
  }
  context_.metrics.http_request(kRoute, 101);
  std::string peer = peer_of(stream_);
  context_.connections.remove(registry_id_);  // The socket leaves this session for the EngineServer.
  registry_id_ = 0;
  upgraded_ = true;
  engine.accept_websocket(std::move(stream_), std::move(request), std::move(peer));
}

// No timeout while a request is held: the EngineServer answers within ping_interval.
template <typename Stream>
void HttpSession<Stream>::watch_connection() {
  if (!engine_waiting_ || buffer_.size() >= kMaxEarlyBytes) return;
  watching_ = true;
  tcp().expires_never();
  stream_.async_read_some(buffer_.prepare(kWatchBytes),
                          beast::bind_front_handler(&HttpSession::on_watch, this->shared_from_this()));
}

template <typename Stream>
void HttpSession<Stream>::on_watch(beast::error_code error, std::size_t bytes) {
  watching_ = false;
  buffer_.commit(bytes);
  if (engine_answer_) {  // The answer cancelled this read.
    engineio::Response answer = std::move(*engine_answer_);
    engine_answer_.reset();
    send(std::move(answer), kRoute);
    return;
  }
  if (!engine_waiting_) return;  // Ended meanwhile (shut_down).
  if (error) {
    end_engine_poll();  // The client went away (3.1 item 12).
    return;
  }
  watch_connection();
}

template <typename Stream>
void HttpSession<Stream>::on_engine_answer(std::uint64_t poll, engineio::Response&& response) {
  if (poll != engine_poll_ || !engine_waiting_) return;
  engine_waiting_ = false;
  engine_abort_ = nullptr;
  if (watching_) {
    engine_answer_ = std::move(response);
    tcp().cancel();  // on_watch writes it.
    return;
  }
  send(std::move(response), kRoute);
}

// The client went away, or the server is shutting down: a held GET's session learns it (and closes),
// and the socket closes at once (a watch read may be in flight: no TLS shutdown beside it).
template <typename Stream>
void HttpSession<Stream>::end_engine_poll() {
  engine_waiting_ = false;
  if (engineio::EngineServer::PollAbort abort = std::exchange(engine_abort_, nullptr)) abort();
  tcp().close();
}

template <typename Stream>
bool HttpSession<Stream>::refuse_foreign_origin(const Request& request) {
  const std::optional<std::string_view> origin = origin_of(request);
  if (engineio::origin_allowed(origin, request[http::field::host], context_.options.allowed_origins)) return false;
  send_text(request.version(), false, http::status::forbidden, "application/json",
            encode_error("forbidden", "origin '" + std::string(*origin) + "' is not allowed here (allowed_origins)"),
            "ws");
  return true;
}

// The members defined here, for both transports (the class itself is instantiated in http_session.cpp).
#define POSESTREAM_HTTP_ENGINEIO_MEMBERS(S)                                                        \
  template bool HttpSession<S>::refuse_engine_body(const Request&);                                \
  template void HttpSession<S>::handle_engineio(engineio::EngineServer&, Request&&);               \
  template void HttpSession<S>::upgrade_engineio(engineio::EngineServer&, Request&&);              \
  template void HttpSession<S>::watch_connection();                                                \
  template void HttpSession<S>::on_watch(beast::error_code, std::size_t);                          \
  template void HttpSession<S>::on_engine_answer(std::uint64_t, engineio::Response&&);             \
  template void HttpSession<S>::end_engine_poll();                                                 \
  template bool HttpSession<S>::refuse_foreign_origin(const Request&);
POSESTREAM_HTTP_ENGINEIO_MEMBERS(PlainStream)
POSESTREAM_HTTP_ENGINEIO_MEMBERS(TlsStream)
#undef POSESTREAM_HTTP_ENGINEIO_MEMBERS

}  // namespace posestream::server
