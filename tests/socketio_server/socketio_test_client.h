// A blocking Socket.IO v5 client over Engine.IO v4's WebSocket transport, plain or TLS, for tests of
// posestream's Socket.IO endpoint: it joins "/", answers pings, and reads packets with a timeout.
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <optional>
#include <string>
#include <utility>

#include "server/server_test_support.h"

namespace posestream::server::testing {

inline const std::string kSocketIoWebSocketTarget = "/socket.io/?EIO=4&transport=websocket";

// `Next` is beast::tcp_stream (ws://) or beast::ssl_stream<beast::tcp_stream> (wss://).
template <class Next>
class SocketIoClient {
 public:
  // Plain: connects to 127.0.0.1:port.
  explicit SocketIoClient(std::uint16_t port) requires std::is_same_v<Next, beast::tcp_stream> : ws_(io_) {
    beast::get_lowest_layer(ws_).connect({net::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1:" + std::to_string(port), kSocketIoWebSocketTarget);
  }
  // TLS: `context` must trust the server's certificate and outlive the client.
  SocketIoClient(std::uint16_t port, net::ssl::context& context) requires(!std::is_same_v<Next, beast::tcp_stream>)
      : ws_(io_, context) {
    beast::get_lowest_layer(ws_).connect({net::ip::make_address("127.0.0.1"), port});
    ws_.next_layer().handshake(net::ssl::stream_base::client);
    ws_.handshake("127.0.0.1:" + std::to_string(port), kSocketIoWebSocketTarget);
  }

  // Reads the Engine.IO open packet and joins namespace "/". Returns the first Socket.IO packet that
  // follows: "40{...}" (joined) or "44{...}" (CONNECT_ERROR); nullopt if none came.
  std::optional<std::string> join() {
    const std::optional<std::string> open = read_raw();
    if (!open || !open->starts_with("0{")) return std::nullopt;
    send_text("40");
    return read_packet();
  }

  void send_text(const std::string& text) { write_text(ws_, text); }
  void send_binary(const Bytes& bytes) { write_binary(ws_, bytes); }
  void emit(const std::string& event, const json& body) { send_text("42" + json::array({event, body}).dump()); }
  // A `frame` event with the image as a binary attachment, as socket.io-client sends an ArrayBuffer.
  void emit_frame(std::uint64_t sequence, const Bytes& image) {
    send_text("451-" + json::array({"frame", {{"sequence", sequence},
                                               {"image", {{"_placeholder", true}, {"num", 0}}}}}).dump());
    send_binary(image);
  }

  // The next Socket.IO packet (an Engine.IO message without its "4"), pings answered on the way;
  // nullopt when the WebSocket closed or nothing came within the timeout.
  std::optional<std::string> read_packet() {
    for (;;) {
      std::optional<std::string> raw = read_raw();
      if (!raw) return std::nullopt;
      if (*raw == "2") {
        send_text("3");
        continue;
      }
      if (raw->starts_with('4')) return raw->substr(1);
      if (*raw == "1") return std::nullopt;  // Engine.IO close.
    }
  }

  // The next event as [name, body]; nullopt at the end (see last_packet for what ended it).
  std::optional<std::pair<std::string, json>> read_event() {
    for (;;) {
      std::optional<std::string> packet = read_packet();
      if (!packet) return std::nullopt;
      last_packet_ = *packet;
      if (!packet->starts_with('2')) return std::nullopt;
      const json event = json::parse(packet->substr(1));
      return std::make_pair(event.at(0).get<std::string>(), event.size() > 1 ? event.at(1) : json());
    }
  }
  const std::string& last_packet() const { return last_packet_; }

  // A WebSocket close, as a client does after the server's DISCONNECT.
  void close() {
    beast::error_code ignored;
    ws_.close(websocket::close_code::normal, ignored);
  }

 private:
  std::optional<std::string> read_raw() {
    beast::flat_buffer buffer;
    const std::optional<beast::error_code> result = read_within(io_, ws_, buffer, kAnswerTimeout);
    if (!result || *result) return std::nullopt;
    return beast::buffers_to_string(buffer.data());
  }

  net::io_context io_;
  websocket::stream<Next> ws_;
  std::string last_packet_;
};

using PlainSocketIoClient = SocketIoClient<beast::tcp_stream>;
using TlsSocketIoClient = SocketIoClient<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace posestream::server::testing
