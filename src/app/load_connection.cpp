// LoadConnection: resolve, connect, TLS and WebSocket handshakes, the read loop and close of one connection.
#include "app/load_connection.h"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http.hpp>

#include <openssl/ssl.h>

namespace posestream::app {
namespace {

// Resolve + TCP connect + TLS handshake together; the WebSocket handshake has Beast's own timeout.
constexpr std::chrono::seconds kConnectTimeout{10};

}  // namespace

LoadConnection::LoadConnection(net::io_context& io, ssl::context& tls_context, const LoadTarget& target,
                               LoadConnectionHandlers handlers)
    : resolver_(io), target_(target), handlers_(std::move(handlers)) {
  if (target_.tls) {
    socket_ = std::make_unique<TlsSocket>(io, tls_context);
  } else {
    socket_ = std::make_unique<PlainSocket>(io);
  }
}

beast::tcp_stream& LoadConnection::tcp() {
  return std::visit([](auto& socket) -> beast::tcp_stream& { return beast::get_lowest_layer(*socket); }, socket_);
}

void LoadConnection::open() {
  tcp().expires_after(kConnectTimeout);
  resolver_.async_resolve(target_.host, target_.port, beast::bind_front_handler(&LoadConnection::on_resolve, shared_from_this()));
}

void LoadConnection::fail(beast::error_code error, const char* what) {
  if (failure_.empty()) failure_ = std::string(what) + ": " + error.message();
  resolver_.cancel();
  beast::error_code ignored;
  tcp().socket().close(ignored);
  report_closed(failure_, closing_);
}

void LoadConnection::report_closed(std::string reason, bool clean) {
  if (closed_) return;
  closed_ = true;
  if (handlers_.on_closed) handlers_.on_closed(std::move(reason), clean);
}

void LoadConnection::on_resolve(beast::error_code error, const net::ip::tcp::resolver::results_type& results) {
  if (error) return fail(error, "resolve");
  tcp().async_connect(results, [self = shared_from_this()](beast::error_code connect_error, const net::ip::tcp::endpoint&) {
    self->on_connect(connect_error);
  });
}

void LoadConnection::on_connect(beast::error_code error) {
  if (error) return fail(error, "connect");
  beast::error_code ignored;  // Frames go out whole and at once, not held for Nagle's algorithm.
  tcp().socket().set_option(net::ip::tcp::no_delay(true), ignored);
  auto* tls = std::get_if<std::unique_ptr<TlsSocket>>(&socket_);
  if (tls == nullptr) return do_ws_handshake();
  auto& stream = (*tls)->next_layer();
  // SNI, so a balancer or server with several certificates picks this name's.
  if (!SSL_set_tlsext_host_name(stream.native_handle(), target_.host.c_str())) {
    return fail(beast::error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category()), "tls sni");
  }
  if (target_.tls_verify) stream.set_verify_callback(ssl::host_name_verification(target_.host));
  stream.async_handshake(ssl::stream_base::client,
                         beast::bind_front_handler(&LoadConnection::on_tls_handshake, shared_from_this()));
}

void LoadConnection::on_tls_handshake(beast::error_code error) {
  if (error) return fail(error, "tls handshake");
  do_ws_handshake();
}

void LoadConnection::do_ws_handshake() {
  tcp().expires_never();  // From here Beast's WebSocket timeouts apply.
  std::visit(
      [this](auto& socket) {
        socket->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        if (target_.token) {
          socket->set_option(websocket::stream_base::decorator(
              [token = *target_.token](websocket::request_type& request) {
                request.set(beast::http::field::authorization, "Bearer " + token);
              }));
        }
        // The response is kept so a refused upgrade reports its HTTP status (401, 503).
        auto response = std::make_shared<websocket::response_type>();
        socket->async_handshake(*response, target_.host + ":" + target_.port, target_.path,
                                [self = shared_from_this(), response](beast::error_code handshake_error) {
                                  if (handshake_error && response->result_int() != 0 && response->result_int() != 101) {
                                    self->failure_ = "handshake: HTTP " + std::to_string(response->result_int());
                                  }
                                  self->on_ws_handshake(handshake_error);
                                });
      },
      socket_);
}

void LoadConnection::on_ws_handshake(beast::error_code error) {
  if (error) return fail(error, "handshake");
  do_read();
  if (handlers_.on_open) handlers_.on_open();
}

void LoadConnection::do_read() {
  std::visit([this](auto& socket) {
    socket->async_read(buffer_, beast::bind_front_handler(&LoadConnection::on_read, shared_from_this()));
  }, socket_);
}

void LoadConnection::on_read(beast::error_code error, std::size_t) {
  if (error == websocket::error::closed) {
    const websocket::close_reason reason = std::visit([](auto& socket) { return socket->reason(); }, socket_);
    return report_closed("close " + std::to_string(reason.code) + " " + std::string(reason.reason), closing_);
  }
  if (error && closing_) return report_closed("closed by the client", true);
  if (error) return fail(error, "read");
  std::string message = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  if (handlers_.on_message) handlers_.on_message(std::move(message));
  if (!closed_) do_read();
}

void LoadConnection::write(const std::string& message, bool binary, WriteHandler done) {
  std::visit(
      [&](auto& socket) {
        socket->binary(binary);
        socket->async_write(net::buffer(message),
                            [self = shared_from_this(), done = std::move(done)](beast::error_code error, std::size_t) {
                              done(error);  // First: the caller's queue forgets the message.
                              if (error) self->fail(error, "write");
                            });
      },
      socket_);
}

void LoadConnection::close() {
  if (closing_ || closed_) return;
  closing_ = true;
  std::visit([this](auto& socket) {
    socket->async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code error) {
      // The read loop usually reports first (the server's close frame); this covers a failed close.
      if (error) self->fail(error, "close");
    });
  }, socket_);
}

void LoadConnection::abort() {
  closing_ = true;
  fail(net::error::operation_aborted, "aborted");
}

}  // namespace posestream::app
