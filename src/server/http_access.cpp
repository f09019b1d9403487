// HttpSession access control: which routes need a token, the 401, and closing after an unread body.
#include "server/http_session.h"

#include "server/protocol.h"

namespace posestream::server {
namespace {

// A refused request's body is read and dropped (never buffered) before the socket closes, so that the
// client, still sending, gets the 401 rather than a reset; at most this many bytes or one
// handshake_timeout, whichever comes first.
constexpr std::size_t kDiscardChunkBytes = 64 * 1024;

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// The tokens a route needs: the streams and images (/ws, /v1/detect, every Engine.IO path such as
// /socket.io/: its polling requests and upgrades) the API's, /metrics its own; nullptr for open routes
// (/healthz, /readyz, static files). Socket.IO clients send the token as a query parameter
// (`query: {token}`) or an Authorization header (`extraHeaders`), on every request.
const AccessTokens* tokens_for(std::string_view path, const ServerContext& context) {
  if (path == "/ws" || path == "/v1/detect") return &context.api_tokens;
  if (context.engine_server_for(path) != nullptr) return &context.api_tokens;
  if (path == "/metrics") return &context.metrics_tokens;
  return nullptr;
}

const char* route_of(std::string_view path, const ServerContext& context) {
  if (path == "/ws") return "ws";
  if (path == "/v1/detect") return "detect";
  if (context.engine_server_for(path) != nullptr) return "engineio";
  return "metrics";
}

}  // namespace

template <typename Stream>
bool HttpSession<Stream>::authorized(const Request& request) const {
  const AccessTokens* tokens = tokens_for(path_of(request.target()), context_);
  if (tokens == nullptr || tokens->open()) return true;
  return tokens->admits(presented_token(request[http::field::authorization], request.target()));
}

// The presented token is never echoed nor logged.
template <typename Stream>
void HttpSession<Stream>::refuse_unauthorized(const Request& request) {
  busy_ = true;
  discard_unread_ = !parser_->is_done();
  http::response<http::string_body> response{http::status::unauthorized, request.version()};
  response.set(http::field::server, "posestream");
  response.set(http::field::content_type, "application/json");
  response.set(http::field::www_authenticate, "Bearer");
  response.keep_alive(false);
  response.body() = encode_error("unauthorized", "a valid access token is required: \"Authorization: Bearer TOKEN\" "
                                                 "or ?token=TOKEN");
  response.prepare_payload();
  send(std::move(response), route_of(path_of(request.target()), context_));
}

template <typename Stream>
void HttpSession<Stream>::discard_then_close() {
  buffer_.consume(buffer_.size());
  tcp().expires_after(context_.options.limits.handshake_timeout);
  stream_.async_read_some(buffer_.prepare(kDiscardChunkBytes),
                          beast::bind_front_handler(&HttpSession::on_discard, this->shared_from_this()));
}

template <typename Stream>
void HttpSession<Stream>::on_discard(beast::error_code error, std::size_t bytes) {
  discarded_bytes_ += bytes;
  if (error || discarded_bytes_ > context_.options.limits.max_message_bytes) {
    tcp().close();
    return;
  }
  discard_then_close();
}

// The members defined here, for both transports (the class itself is instantiated in http_session.cpp).
template bool HttpSession<PlainStream>::authorized(const Request&) const;
template bool HttpSession<TlsStream>::authorized(const Request&) const;
template void HttpSession<PlainStream>::refuse_unauthorized(const Request&);
template void HttpSession<TlsStream>::refuse_unauthorized(const Request&);
template void HttpSession<PlainStream>::discard_then_close();
template void HttpSession<TlsStream>::discard_then_close();
template void HttpSession<PlainStream>::on_discard(beast::error_code, std::size_t);
template void HttpSession<TlsStream>::on_discard(beast::error_code, std::size_t);

}  // namespace posestream::server
