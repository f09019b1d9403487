// LoadConnection: one WebSocket of `posestream load` over TCP or TLS: open, read loop, writes, close.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace posestream::app {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

// Where a load stream connects. Resolved again by every connection (a balancer's name may move).
struct LoadTarget {
  std::string host;
  std::string port;
  std::string path = "/ws";
  bool tls = false;                  // wss://
  bool tls_verify = true;            // Check the server's certificate and name (off: --insecure).
  std::optional<std::string> token;  // Sent as `Authorization: Bearer TOKEN`.
};

// Called on the io_context's thread. `on_closed` is called once per connection, whatever ended it:
// `reason` is "close CODE REASON" when the server closed the WebSocket, else the failing step and its
// error ("connect: Connection refused", "read: End of file"); `clean` is true only for a close the
// client itself asked for.
struct LoadConnectionHandlers {
  std::function<void()> on_open;  // Handshakes done; reading has started.
  std::function<void(std::string message)> on_message;
  std::function<void(std::string reason, bool clean)> on_closed;
};

// Single-threaded, one write in flight (the caller waits for `write`'s handler before the next).
class LoadConnection : public std::enable_shared_from_this<LoadConnection> {
 public:
  using WriteHandler = std::function<void(beast::error_code)>;

  // `tls_context` is used only for wss:// and must outlive the connection; `target` is copied.
  LoadConnection(net::io_context& io, ssl::context& tls_context, const LoadTarget& target,
                 LoadConnectionHandlers handlers);

  void open();
  // `message` must stay alive until `done` runs (the caller's send queue holds it).
  void write(const std::string& message, bool binary, WriteHandler done);
  void close();  // A normal (1000) close; on_closed follows with clean = true.
  void abort();  // Drops the TCP connection at once (no close handshake).

 private:
  using PlainSocket = websocket::stream<beast::tcp_stream>;
  using TlsSocket = websocket::stream<ssl::stream<beast::tcp_stream>>;

  beast::tcp_stream& tcp();
  void fail(beast::error_code error, const char* what);
  void on_resolve(beast::error_code error, const net::ip::tcp::resolver::results_type& results);
  void on_connect(beast::error_code error);
  void on_tls_handshake(beast::error_code error);
  void do_ws_handshake();
  void on_ws_handshake(beast::error_code error);
  void do_read();
  void on_read(beast::error_code error, std::size_t bytes);
  void report_closed(std::string reason, bool clean);

  net::ip::tcp::resolver resolver_;
  std::variant<std::unique_ptr<PlainSocket>, std::unique_ptr<TlsSocket>> socket_;
  LoadTarget target_;
  LoadConnectionHandlers handlers_;
  beast::flat_buffer buffer_;
  std::string failure_;  // The first step that failed, reported by on_closed.
  bool closing_ = false;
  bool closed_ = false;
};

}  // namespace posestream::app
