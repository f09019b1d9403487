// HttpSession over TLS: the handshake that starts each connection and the SSL shutdown that ends it.
#include <spdlog/spdlog.h>

#include "server/http_session.h"

namespace posestream::server {
namespace {

// A peer that closes before sending anything is most likely a TCP health check or a port scan, not a
// client failing TLS: it is not counted.
bool closed_before_hello(const beast::error_code& error) {
  return error == net::error::eof || error == net::error::connection_reset;
}

}  // namespace

// Under handshake_timeout, as the HTTP request that follows. A client speaking plain HTTP to this port
// fails here (OpenSSL: "http request"), as does one that does not trust the certificate: only this
// connection closes.
template <typename Stream>
void HttpSession<Stream>::do_handshake() {
  if (closing_ || context_.shutting_down) {
    close_socket();
    return;
  }
  tcp().expires_after(context_.options.limits.handshake_timeout);
  stream_.async_handshake(net::ssl::stream_base::server,
                          beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
}

template <typename Stream>
void HttpSession<Stream>::on_handshake(beast::error_code error) {
  if (error) {
    if (!closing_ && !closed_before_hello(error)) context_.metrics.tls_handshake_failed();
    beast::error_code ignored;
    const auto peer = tcp().socket().remote_endpoint(ignored);
    spdlog::debug("TLS handshake with {}:{} failed: {}", peer.address().to_string(), peer.port(), error.message());
    tcp().close();
    return;
  }
  handshaken_ = true;
  do_read();
}

// Sends close_notify and waits (at most handshake_timeout) for the peer's, as Beast's examples do;
// either way the socket closes when the session goes.
template <typename Stream>
void HttpSession<Stream>::do_tls_shutdown() {
  tcp().expires_after(context_.options.limits.handshake_timeout);
  stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->tcp().close(); });
}

template void HttpSession<TlsStream>::do_handshake();
template void HttpSession<TlsStream>::on_handshake(beast::error_code);
template void HttpSession<TlsStream>::do_tls_shutdown();

}  // namespace posestream::server
