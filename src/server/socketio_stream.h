// SocketIoStream: one posestream stream per Socket.IO connection (namespace "/"), as /ws serves one.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "server/message_rate.h"
#include "server/protocol.h"
#include "server/server_context.h"
#include "server/socketio/socketio.h"
#include "server/socketio_endpoint.h"

namespace posestream::server {

// The /ws protocol over Socket.IO events (docs/SOCKETIO.md): `frame` {sequence, image, timestamp?},
// `config`, `reset` in; `hello`, the result event (SocketIoSettings::result_event), `dropped`, `error`
// out, each with /ws's JSON body. A `frame` sent with an ack gets its one answer (result or dropped) as
// the ack's argument instead of an event. Ordering, drop policies and limits are the stream::Session's,
// exactly as on /ws.
//
// Threads: everything below runs on strand_, a strand of the server's io_context made for this stream.
// Socket.IO handlers (the engine session's strand) post events here; workers post answers here
// through a sink holding a weak_ptr. socketio::Socket::emit and Ack are thread-safe.
//
// Lifetime: held by shared_ptr: by the Socket.IO handler (until on_disconnect), by pending posts and the
// gap timer. It holds one ServerContext::websocket_sessions slot (max_sessions counts both kinds of
// stream) and is registered in context.connections as a stream, so a shutdown waits for it.
class SocketIoStream : public Connection, public std::enable_shared_from_this<SocketIoStream> {
 public:
  // The slot is already reserved (released by the destructor). Use connect().
  SocketIoStream(ServerContext& context, socketio::Socket socket, std::shared_ptr<TransportLink> link,
                 std::string peer);
  ~SocketIoStream() override;

  // The factory of namespace "/": a stream for the client, or a Refusal when the server is full,
  // draining, or cannot open a stream session. `link` is the Engine.IO session's (may be null).
  static socketio::ConnectResult connect(ServerContext& context, const socketio::ConnectRequest& request,
                                         std::shared_ptr<TransportLink> link);

  // Each posts to strand_ (callable from any thread).
  void post_connected();
  void post_event(std::string event, socketio::Json args, socketio::Ack ack);
  void post_disconnected(std::string reason);

  void shut_down() override;
  bool is_stream() const override { return true; }
  QueueDepths depths() const override;

 private:
  using Clock = std::chrono::steady_clock;

  // Opens the stream::Session (its sink posts answers here) and registers the connection; false if no
  // stream session could be opened.
  bool open();
  void on_event(const std::string& event, socketio::Json& args, const socketio::Ack& ack, Clock::time_point now);
  void handle_frame(const socketio::Json& args, const socketio::Ack& ack, Clock::time_point now);
  void push_frame(FrameMessage&& frame, const socketio::Ack& ack, Clock::time_point now);
  void handle_config(const socketio::Json& args, const socketio::Ack& ack);
  void handle_reset(const socketio::Ack& ack);
  void send_error(const BadMessage& bad, const socketio::Ack& ack);

  void on_answer(stream::Answer&& answer);
  void answer_result(const stream::ResultAnswer& result);
  void answer_dropped(std::uint64_t first, std::uint64_t last, std::string_view reason);
  // The answer to `sequence`: through its ack if the frame asked for one, else as `event`.
  void send_answer(std::uint64_t sequence, std::string_view event, std::string&& body);
  void emit(std::string_view event, const std::string& body);

  void arm_gap_timer();
  void on_gap_timer(const boost::system::error_code& error);
  void arm_idle_timer();
  void on_idle_timer(const boost::system::error_code& error);
  void finish(const std::string& why);

  ServerContext& context_;
  const net::strand<net::io_context::executor_type> strand_;
  const socketio::Socket socket_;
  const std::shared_ptr<TransportLink> link_;  // Null when the Engine.IO session was not found.
  std::shared_ptr<stream::Session> stream_;  // Set by open(), before anything is posted here.
  const std::string id_;
  const std::string peer_;
  std::uint64_t registry_id_ = 0;

  // max_messages_per_second and message_burst, as /ws: used only in post_event, i.e. on the Engine.IO
  // session's strand, so that the pause holds the client's very next message.
  MessageRate message_rate_;
  StreamSettings settings_;
  FrameNumbering numbering_;
  // Acks of frames not yet answered, by sequence (first come, first answered for a duplicate sequence).
  // Bounded as the frames are: each is answered (stream::Session's one answer per frame), then erased.
  std::multimap<std::uint64_t, socketio::Ack> acks_;
  net::steady_timer gap_timer_;
  std::optional<Clock::time_point> gap_deadline_;
  net::steady_timer idle_timer_;  // Limits::idle_timeout, as /ws: a stream without events is closed.
  Clock::time_point last_event_at_ = Clock::now();
  const Clock::time_point opened_at_ = Clock::now();
  bool connected_ = false;  // hello sent, session_opened counted.
  bool finished_ = false;
  std::uint64_t frames_ = 0;
  std::uint64_t bad_messages_ = 0;
  std::uint64_t downgraded_ = 0;
};

}  // namespace posestream::server
