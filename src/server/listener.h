// Listener: accepts TCP connections on the server's port and starts an HttpSession for each.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>

#include "server/server_context.h"

namespace posestream::server {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Opens, binds and listens at once, so a taken port fails here. Throws boost::system::system_error.
  // `tls`: every connection speaks TLS with it (HTTPS, WSS); nullptr: plain HTTP and WebSocket. Not
  // retained beyond the sessions', which must all end before it does (Server owns it).
  Listener(ServerContext& context, const net::ip::tcp::endpoint& endpoint, net::ssl::context* tls);

  std::uint16_t port() const { return port_; }
  // Starts accepting; each connection gets its own strand.
  void run();
  // Closes the acceptor (thread-safe: posted to its strand).
  void stop();
  // Closes the acceptor now, in case the io_context stopped before stop()'s post ran. Only once no
  // thread runs the io_context.
  void close_after_io_stopped();

 private:
  void do_accept();
  void on_accept(boost::system::error_code error, net::ip::tcp::socket socket);

  ServerContext& context_;
  net::ssl::context* const tls_;
  net::ip::tcp::acceptor acceptor_;
  net::steady_timer retry_timer_;  // Backs off after an accept error (e.g. out of file descriptors).
  std::uint16_t port_ = 0;
};

}  // namespace posestream::server
