// WebSocketSession: one client stream over GET /ws: reads frames, feeds its stream::Session, writes answers.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "server/answer_queue.h"
#include "server/message_rate.h"
#include "server/protocol.h"
#include "server/server_context.h"
#include "server/session_stream.h"

namespace posestream::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

// Lifetime (Beast's chat-multi pattern): held by shared_ptr; every pending handler (read, write, timers)
// holds shared_from_this(), so the session lives exactly as long as it has work. The stream::Session's
// answer sink holds only a weak_ptr and posts each answer to this session's strand (the tcp_stream's
// executor), where everything below runs: no member is touched from two threads, except the atomics
// that depths() reads.
//
// Closing (docs/PROTOCOL.md "Closing"): close() asks for a close frame with a code and reason; with
// `drain` the answers already queued are written first. A close that cannot complete within
// limits.handshake_timeout (a peer that stopped reading) closes the TCP socket instead.
//
// `Stream` is PlainStream or TlsStream (server/session_stream.h): ws:// or wss://. Over TLS, Beast's
// close ends with an SSL shutdown (its teardown for ssl_stream), under the same timeouts.
template <typename Stream>
class WebSocketSession : public Connection, public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  // `stream` has been upgraded-requested by the HTTP session, which reserved one websocket_sessions
  // slot for it; this session releases the slot when it is destroyed.
  WebSocketSession(Stream&& stream, ServerContext& context, std::string peer);
  ~WebSocketSession() override;

  // Opens the stream session, accepts the upgrade, sends hello and starts reading.
  void run(http::request<http::string_body> request);

  void shut_down() override;
  bool is_stream() const override { return true; }
  QueueDepths depths() const override;

 private:
  using Clock = std::chrono::steady_clock;

  struct CloseRequest {
    websocket::close_reason reason;
    bool drain = true;
  };

  void on_accept(beast::error_code error);
  void do_read();
  void read_after(Clock::duration pause);
  void on_read_pause(beast::error_code error);
  void on_read(beast::error_code error, std::size_t bytes);
  void on_message(Clock::time_point now);
  ClientMessage parse_buffer() const;
  ClientMessage oversized_message() const;
  void handle(ClientMessage&& message, Clock::time_point now);
  void handle_frame(FrameMessage&& frame, Clock::time_point now);
  void handle_config(const ConfigMessage& config);
  void handle_reset();
  void send_error(const std::string& code, const std::string& message);

  void on_answer(stream::Answer&& answer);
  void log_answer(const stream::Answer& answer) const;
  void enqueue(bool fits);
  void do_write();
  void on_write(beast::error_code error, std::size_t bytes);

  void arm_gap_timer();
  void on_gap_timer(beast::error_code error);
  void arm_idle_timer();
  void on_idle_timer(beast::error_code error);

  void close(websocket::close_code code, const std::string& reason, const char* metric_reason, bool drain);
  void close_for_shutdown();
  void do_close();
  void on_close(beast::error_code error);
  void force_close();
  void finish(const std::string& why);

  websocket::stream<Stream> ws_;
  const net::any_io_executor strand_;  // ws_'s, kept for posts from other threads.
  ServerContext& context_;
  const std::string id_;
  const std::string peer_;
  std::uint64_t registry_id_ = 0;  // In context_.connections, from run() on.
  beast::flat_buffer buffer_;         // The message being read (nothing, once it is oversized).
  std::size_t message_bytes_ = 0;     // Read so far of the current message.
  bool oversized_ = false;            // The current message went over max_message_bytes.
  std::vector<std::uint8_t> oversized_head_;  // Its first bytes: a PSF1 header, if binary.
  std::shared_ptr<stream::Session> stream_;  // Set in run(), before the session is registered.
  MessageRate message_rate_;             // max_messages_per_second: pauses reading, never drops.
  net::steady_timer read_pause_;

  StreamSettings settings_;
  FrameNumbering numbering_;
  AnswerQueue answers_;
  std::string in_flight_;  // The answer being written.
  bool writing_ = false;
  std::atomic<std::size_t> queued_bytes_{0};  // answers_.bytes(), for depths() from other threads.
  std::uint64_t downgrades_reported_ = 0;

  net::steady_timer gap_timer_;
  std::optional<Clock::time_point> gap_deadline_;  // The wake-up armed, if any.
  net::steady_timer idle_timer_;
  net::steady_timer close_deadline_;
  const Clock::time_point opened_at_ = Clock::now();
  Clock::time_point last_message_at_ = opened_at_;

  bool accepted_ = false;
  std::optional<CloseRequest> close_request_;
  bool close_sent_ = false;
  bool finished_ = false;
  std::string end_reason_ = "not accepted";
  std::uint64_t messages_ = 0;
  std::uint64_t bad_messages_ = 0;
};

}  // namespace posestream::server
