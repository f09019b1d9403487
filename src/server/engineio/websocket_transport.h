// WebSocket transport of an Engine.IO session: one socket, its reads, its bounded write queue, its close.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "server/engineio/engineio.h"
#include "server/engineio/http_answers.h"
#include "server/engineio/packet.h"
#include "server/session_stream.h"

namespace posestream::server::engineio {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace websocket = beast::websocket;

// Where a transport delivers what it reads: the session (engine_session.h). Called on the transport's
// strand, not the sink's: an implementation posts to its own.
class TransportSink {
 public:
  virtual ~TransportSink() = default;
  // One message, in order. Empty: a text frame that is no Engine.IO packet.
  virtual void on_transport_packet(std::uint64_t transport_id, std::optional<Packet> packet) = 0;
  // Once, when the socket is gone: "transport close" (the client closed it or we did), "transport error"
  // (a read failed, a message over max_payload, the write queue over max_buffered_bytes).
  virtual void on_transport_closed(std::uint64_t transport_id, std::string reason) = 0;
};

// The session's view of one WebSocket, whatever its stream type. Thread-safe: every call posts to the
// transport's strand (the connection's own, from the accept).
class WsTransport {
 public:
  virtual ~WsTransport() = default;
  virtual std::uint64_t id() const = 0;
  // Reads one message; `sink` (not retained beyond a weak_ptr) receives the packets. One at a time:
  // after handing one on, the transport reads nothing more until read_next, so that the session decides
  // when the socket is read again (its read pauses: Socket::pause_reading).
  virtual void start(std::weak_ptr<TransportSink> sink) = 0;
  // Reads the next message. Nothing while a read is outstanding or before start.
  virtual void read_next() = 0;
  // Queues one packet: a text frame "<digit><data>", or a binary frame of the raw bytes of a binary
  // message. Over Options::max_buffered_bytes queued (a client that stopped reading), the socket closes.
  virtual void send(Packet packet) = 0;
  // After the queued packets, a close frame (1000); the socket closes when the client answers it or
  // the stream's close timeout passes.
  virtual void close() = 0;

  // Kept as long as the transport lives (its socket open or its last writes and close under way): the
  // EngineServer's count of open WebSockets (EngineServer::open_websocket_count) goes down when it goes.
  void keep_until_gone(std::shared_ptr<void> token) { token_ = std::move(token); }

 private:
  std::shared_ptr<void> token_;
};

// Lifetime as in Beast's examples: held by shared_ptr, every pending handler holds shared_from_this();
// the session holds it while it is its probe or its transport. One write in flight, a queue behind it;
// one read at a time, each asked for by the session.
template <typename Stream>
class WebSocketTransport final : public WsTransport, public std::enable_shared_from_this<WebSocketTransport<Stream>> {
 public:
  // `stream` carries the upgrade request just read (for TLS: handshaken); `id` is unique per server.
  WebSocketTransport(Stream&& stream, std::uint64_t id, const Options& options);

  // Answers `request` with 101, then calls `on_accepted(true)` on the transport's strand (false: the
  // handshake failed, the socket is gone).
  void accept(Request request, std::function<void(bool accepted)> on_accepted);

  std::uint64_t id() const override { return id_; }
  void start(std::weak_ptr<TransportSink> sink) override;
  void read_next() override;
  void send(Packet packet) override;
  void close() override;

 private:
  void on_accept(beast::error_code error);
  void do_read();
  void on_read(beast::error_code error, std::size_t bytes);
  void enqueue(Packet packet);
  void do_write();
  void on_write(beast::error_code error, std::size_t bytes);
  void do_close();
  void report_closed(std::string reason);

  websocket::stream<Stream> ws_;
  const std::uint64_t id_;
  const std::size_t max_queued_bytes_;
  Request request_;  // The upgrade request, until the accept completes.
  std::function<void(bool)> on_accepted_;
  std::weak_ptr<TransportSink> sink_;
  beast::flat_buffer buffer_;
  std::deque<Packet> queue_;
  std::size_t queued_bytes_ = 0;
  std::string frame_;  // The frame being written.
  bool reading_ = false;  // A read is outstanding.
  bool writing_ = false;
  bool close_requested_ = false;
  bool closing_ = false;    // The close frame is on its way.
  bool overflowed_ = false;  // The write queue went over max_queued_bytes_: "transport error".
  bool reported_ = false;    // on_transport_closed was called.
};

}  // namespace posestream::server::engineio
