// HttpSession: request reading with limits, routing, static files, health, metrics and WebSocket upgrades.
#include "server/http_session.h"

#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <utility>

#include "server/static_files.h"
#include "server/websocket_session.h"

namespace posestream::server {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheusText = "text/plain; version=0.0.4; charset=utf-8";

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

template <typename Stream>
std::string peer_of(Stream& stream) {
  beast::error_code error;
  const auto endpoint = beast::get_lowest_layer(stream).socket().remote_endpoint(error);
  return error ? "unknown peer" : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

// Errors reading a request that deserve an answer (the client sent something wrong) rather than a
// silent close (the connection went away or timed out).
std::optional<http::status> status_for_read_error(const beast::error_code& error) {
  if (error == http::error::end_of_stream || error == http::error::partial_message) return std::nullopt;
  if (error == http::error::body_limit) return http::status::payload_too_large;
  if (error == http::error::header_limit) return http::status::request_header_fields_too_large;
  if (error.category() == beast::http::make_error_code(http::error::bad_method).category()) {
    return http::status::bad_request;
  }
  return std::nullopt;
}

}  // namespace

template <typename Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, ServerContext& context)
    : stream_(std::move(stream)), strand_(stream_.get_executor()), context_(context) {}

template <typename Stream>
HttpSession<Stream>::~HttpSession() {
  if (registry_id_ != 0) context_.connections.remove(registry_id_);
}

template <typename Stream>
void HttpSession<Stream>::run() {
  registry_id_ = context_.connections.add(this->shared_from_this());
  if constexpr (kIsTls<Stream>) {
    net::dispatch(strand_, beast::bind_front_handler(&HttpSession::do_handshake, this->shared_from_this()));
  } else {
    net::dispatch(strand_, beast::bind_front_handler(&HttpSession::do_read, this->shared_from_this()));
  }
}

template <typename Stream>
void HttpSession<Stream>::do_read() {
  if (closing_ || context_.shutting_down) {
    close_socket();
    return;
  }
  parser_.emplace();
  parser_->body_limit(context_.options.limits.max_message_bytes);  // Headers: Beast's 8 KiB header_limit.
  tcp().expires_after(context_.options.limits.handshake_timeout);
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::on_header, this->shared_from_this()));
}

// Access is checked first, from the headers alone: a request without a valid token is refused before its
// body is read, a session is opened or anything is decoded (http_access.cpp). Then: clients that send
// "Expect: 100-continue" (curl, for bodies over 1 KiB) wait for a 100 before sending the body; without
// one they wait a second first.
template <typename Stream>
void HttpSession<Stream>::on_header(beast::error_code error, std::size_t bytes) {
  if (error) return on_read(error, bytes);
  const Request& request = parser_->get();
  if (!authorized(request)) {
    refuse_unauthorized(request);
    return;
  }
  if (refuse_engine_body(request)) return;
  if (!parser_->is_done() && beast::iequals(request[http::field::expect], "100-continue")) {
    auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, request.version());
    http::async_write(stream_, *interim, [self = this->shared_from_this(), interim](beast::error_code write_error, std::size_t) {
      if (write_error) return self->close_socket();
      self->read_body();
    });
    return;
  }
  read_body();
}

template <typename Stream>
void HttpSession<Stream>::read_body() {
  http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
}

template <typename Stream>
void HttpSession<Stream>::on_read(beast::error_code error, std::size_t) {
  if (error) {
    if (const auto status = status_for_read_error(error)) {
      busy_ = true;
      send_text(parser_->get().version(), false, *status, kJson, encode_error("bad_request", error.message()), "other");
    } else {
      close_socket();
    }
    return;
  }
  busy_ = true;
  handle(parser_->release());
}

template <typename Stream>
void HttpSession<Stream>::handle(Request&& request) {
  const std::string_view path = path_of(request.target());
  const unsigned version = request.version();
  const bool keep_alive = request.keep_alive();
  const bool get = request.method() == http::verb::get || request.method() == http::verb::head;
  if (engineio::EngineServer* engine = context_.engine_server_for(request.target())) {
    handle_engineio(*engine, std::move(request));
  } else if (beast::websocket::is_upgrade(request)) {
    if (path == "/ws") {
      if (!refuse_foreign_origin(request)) upgrade(std::move(request));
    } else {
      send_text(version, false, http::status::not_found, kJson, encode_error("not_found", "WebSocket is at /ws"), "other");
    }
  } else if (path == "/v1/detect") {
    if (request.method() == http::verb::post) {
      start_detect(std::move(request));
    } else {
      send_text(version, keep_alive, http::status::method_not_allowed, kJson,
                encode_error("method_not_allowed", "POST an image to /v1/detect"), "detect");
    }
  } else if (path == "/healthz" && get) {
    send_health(version, keep_alive);
  } else if (path == "/readyz" && get) {
    send_readiness(version, keep_alive);
  } else if (path == "/metrics" && get) {
    send_text(version, keep_alive, http::status::ok, kPrometheusText, context_.metrics.scrape(context_.queue_depths()),
              "metrics");
  } else if (get) {
    serve_file(request);
  } else {
    send_text(version, keep_alive, http::status::method_not_allowed, kJson,
              encode_error("method_not_allowed", "only GET and HEAD here"), "other");
  }
}

template <typename Stream>
void HttpSession<Stream>::upgrade(Request&& request) {
  const Limits& limits = context_.options.limits;
  if (context_.draining || !ServerContext::try_reserve(context_.websocket_sessions, limits.max_sessions)) {
    const std::string message = context_.draining
                                    ? std::string("the server is shutting down")
                                    : "max_sessions (" + std::to_string(limits.max_sessions) + ") sessions are open";
    send_text(request.version(), false, http::status::service_unavailable, kJson, encode_error("unavailable", message),
              "ws");
    return;
  }
  context_.metrics.http_request("ws", 101);
  std::string peer = peer_of(stream_);
  context_.connections.remove(registry_id_);  // The WebSocket session registers itself.
  registry_id_ = 0;
  upgraded_ = true;
  // The WebSocket session takes the socket (and its strand); this HTTP session ends when we return.
  std::make_shared<WebSocketSession<Stream>>(std::move(stream_), context_, std::move(peer))->run(std::move(request));
}

template <typename Stream>
void HttpSession<Stream>::serve_file(const Request& request) {
  const std::optional<std::filesystem::path> file = resolve_static_path(context_.web_root, request.target());
  http::file_body::value_type body;
  beast::error_code error;
  if (file) body.open(file->c_str(), beast::file_mode::scan, error);
  if (!file || error) {
    send_text(request.version(), request.keep_alive(), http::status::not_found, kJson,
              encode_error("not_found", "no such file"), "static");
    return;
  }
  const std::uint64_t size = body.size();
  const auto set_headers = [&](auto& response) {
    response.set(http::field::server, "posestream");
    response.set(http::field::content_type, content_type_for(*file));
    response.set(http::field::cache_control, "no-cache");
    response.content_length(size);
    response.keep_alive(request.keep_alive());
  };
  if (request.method() == http::verb::head) {
    http::response<http::empty_body> response{http::status::ok, request.version()};
    set_headers(response);
    send(std::move(response), "static");
    return;
  }
  http::response<http::file_body> response{std::piecewise_construct, std::make_tuple(std::move(body)),
                                           std::make_tuple(http::status::ok, request.version())};
  set_headers(response);
  send(std::move(response), "static");
}

template <typename Stream>
template <typename Body>
void HttpSession<Stream>::send(http::response<Body>&& response, const char* route) {
  context_.metrics.http_request(route, response.result_int());
  const bool close = response.need_eof() || closing_;
  if (closing_) response.keep_alive(false);
  auto owned = std::make_shared<http::response<Body>>(std::move(response));
  response_ = owned;
  tcp().expires_after(context_.options.limits.handshake_timeout);
  http::async_write(stream_, *owned, beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this(), close));
}

// The 401 (http_access.cpp) adds a header, so it builds its own response.
template void HttpSession<PlainStream>::send(http::response<http::string_body>&& response, const char* route);
template void HttpSession<TlsStream>::send(http::response<http::string_body>&& response, const char* route);

template <typename Stream>
void HttpSession<Stream>::send_text(unsigned version, bool keep_alive, http::status status, std::string_view content_type,
                            std::string body, const char* route) {
  http::response<http::string_body> response{status, version};
  response.set(http::field::server, "posestream");
  response.set(http::field::content_type, content_type);
  response.keep_alive(keep_alive);
  response.body() = std::move(body);
  response.prepare_payload();
  send(std::move(response), route);
}

template <typename Stream>
void HttpSession<Stream>::on_write(bool close, beast::error_code error, std::size_t) {
  response_.reset();
  busy_ = false;
  if (error || close || closing_) {
    close_socket();
    return;
  }
  do_read();
}

template <typename Stream>
void HttpSession<Stream>::close_socket() {
  if (upgraded_) return;
  // TLS: the body of a refused request is read away through TLS first (a TCP half-close would cut the
  // TLS session short), and then, as after any answer, the SSL shutdown is sent. A second close (the
  // server shutting down meanwhile) closes the socket at once.
  if constexpr (kIsTls<Stream>) {
    if (!handshaken_ || std::exchange(tls_shutting_down_, true)) {
      tcp().close();
    } else if (std::exchange(discard_unread_, false)) {
      discard_then_close();
    } else {
      do_tls_shutdown();
    }
    return;
  }
  beast::error_code ignored;
  tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  if (std::exchange(discard_unread_, false)) {
    discard_then_close();
    return;
  }
  tcp().close();
}

template <typename Stream>
void HttpSession<Stream>::shut_down() {
  net::post(strand_, [self = this->shared_from_this()] {
    self->closing_ = true;
    if (self->engine_waiting_) {
      self->end_engine_poll();  // A held Engine.IO GET would wait up to ping_interval.
    } else if (!self->busy_) {
      self->close_socket();
    }
  });
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace posestream::server
