// Listener: the accept loop, with a short back-off when accepting fails.
#include "server/listener.h"

#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "server/http_session.h"

namespace posestream::server {
namespace {

// After an accept error (EMFILE, ENFILE, ENOBUFS) retrying at once would spin; a pause lets connections
// close and free descriptors.
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

}  // namespace

Listener::Listener(ServerContext& context, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls)
    : context_(context), tls_(tls), acceptor_(net::make_strand(context.io)), retry_timer_(acceptor_.get_executor()) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(net::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(net::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
}

void Listener::run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::close_after_io_stopped() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void Listener::do_accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(net::make_strand(context_.io), [self = shared_from_this()](boost::system::error_code error,
                                                                                   net::ip::tcp::socket socket) {
    self->on_accept(error, std::move(socket));
  });
}

void Listener::on_accept(boost::system::error_code error, net::ip::tcp::socket socket) {
  if (error == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (error) {
    spdlog::warn("accept failed: {}; retrying in {} ms", error.message(), kAcceptRetryDelay.count());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_error) {
      if (!wait_error) self->do_accept();
    });
    return;
  }
  // Answers are small messages written as soon as they are ready: without TCP_NODELAY, Nagle's algorithm
  // holds each behind the client's delayed ACK (~40 ms on Linux).
  boost::system::error_code ignored;
  socket.set_option(net::ip::tcp::no_delay(true), ignored);
  if (tls_ != nullptr) {
    std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *tls_), context_)->run();
  } else {
    std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), context_)->run();
  }
  do_accept();
}

}  // namespace posestream::server
