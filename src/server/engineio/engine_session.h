// EngineSession: one Engine.IO session (sid): its states, outgoing queue, heartbeat, polling and upgrade.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/engineio/engineio.h"
#include "server/engineio/http_answers.h"
#include "server/engineio/packet.h"
#include "server/engineio/websocket_transport.h"

namespace posestream::server::engineio {

// One session, held by shared_ptr: by the server's registry from the handshake until it ends, and by
// its pending timer handlers. Everything runs on its own strand (net::make_strand(io)); the public calls
// are thread-safe and post there. The handler and the WebSocket transports hold only weak_ptrs to it.
//
// States: opening (made, the open packet not yet out) -> open (polling, or WebSocket after an upgrade or
// from the start) -> upgrading (polling, a probe WebSocket answered "3probe": every GET gets "6" until
// the client's "5") -> open on WebSocket; from any: closing (a server close on polling waits for the
// next GET to carry the queued messages and "1", at most Options::close_timeout) -> closed (gone from
// the registry: further requests with its sid get "Session ID unknown").
//
// Polling: at most one GET held (a second one: 400, the session closes and the held one gets "1");
// a held GET is answered as soon as packets are queued, with at most max_packets_per_poll of them. A
// held GET the client cancels (PollAbort) closes the session. Heartbeat: a ping ping_interval after the
// open (queued even with no GET held), then the session closes ping_timeout after the ping (or after
// the end of a read pause that outlasts the ping) unless a pong came; the next ping is ping_interval
// after that pong.
//
// Reading (engine_session_reading.cpp): client packets, from a POST or the WebSocket, go through one
// inbox and are handed on in order while reading is not paused (pause_reading). A POST is answered
// once its packets are handed on and no pause holds it; a second POST meanwhile is an overlap (400, the
// session closes), so POSTs never interleave. The WebSocket reads its next message only when the
// session asks (WsTransport::read_next): when the inbox is empty and no pause holds it.
class EngineSession final : public Socket, public TransportSink, public std::enable_shared_from_this<EngineSession> {
 public:
  enum class State { opening, open, upgrading, closing, closed };

  // `options` are the server's (shared: a session may outlive its server in pending handlers). `forget`
  // is called once, on the strand, when the session is closed: it drops the session from the registry.
  EngineSession(net::io_context& io, std::string sid, std::shared_ptr<const Options> options,
                std::function<void(const std::string& sid)> forget);

  // The opening, once: the handler is made on the strand, then the open packet goes out, as the answer
  // to the handshake GET or as the first frame on `transport`.
  void open_polling(Handshake handshake, HandlerFactory factory, ReplyTo to, Respond respond);
  void open_websocket(Handshake handshake, HandlerFactory factory, std::shared_ptr<WsTransport> transport);

  // Polling requests with this sid. `poll_id` names the GET for abort_get (the client cancelled it).
  void handle_get(std::uint64_t poll_id, ReplyTo to, Respond respond);
  void abort_get(std::uint64_t poll_id);
  void handle_post(ReplyTo to, std::string body, bool octet_stream, Respond respond);
  // A WebSocket that asked for this sid: the probe of an upgrade, or closed (after its 101) when the
  // session is not on polling, is upgrading already, or is closing.
  void attach_probe(std::shared_ptr<WsTransport> transport);
  // Whether the session is on WebSocket (its polling requests are refused). Thread-safe.
  bool on_websocket() const { return websocket_.load(); }

  // Socket.
  const std::string& sid() const override { return sid_; }
  void send(Message message) override;
  void close(std::string reason = {}) override;
  std::string transport() const override { return websocket_ ? "websocket" : "polling"; }
  std::size_t buffered_bytes() const override { return buffered_.load(); }
  void pause_reading(std::chrono::steady_clock::duration how_long) override;

  // TransportSink (called on a transport's strand; posted here).
  void on_transport_packet(std::uint64_t transport_id, std::optional<Packet> packet) override;
  void on_transport_closed(std::uint64_t transport_id, std::string reason) override;

 private:
  using Clock = std::chrono::steady_clock;

  struct PendingGet {
    std::uint64_t id = 0;
    ReplyTo to;
    Respond respond;
  };
  // The POST whose packets are in the inbox, or whose answer a pause holds.
  struct HeldPost {
    ReplyTo to;
    Respond respond;
  };

  // engine_session.cpp: the handler, the queue, heartbeats, closing.
  void make_handler(const HandlerFactory& factory, const Handshake& handshake);
  std::string open_packet(bool polling) const;
  void do_send(Message message, std::size_t bytes);
  void queue(Packet packet);
  void flush();
  void flush_to_get();
  void answer_get(std::string body);
  void handle_packet(Packet&& packet);
  void arm_ping();
  void on_heartbeat(std::uint64_t generation, beast::error_code error);
  void do_close(std::string reason);
  void close_now(std::string_view reason, std::string_view get_answer = "1");
  void notify_closed(std::string_view reason);
  void finish();

  // engine_session_transports.cpp: polling requests, the probe and the upgrade, transport events.
  void do_get(std::uint64_t poll_id, ReplyTo to, Respond respond);
  void do_post(ReplyTo to, const std::string& body, bool octet_stream, const Respond& respond);
  void do_attach_probe(std::shared_ptr<WsTransport> transport);
  void on_probe_packet(std::optional<Packet> packet);
  void complete_upgrade();
  void drop_probe();
  void on_upgrade_timer(std::uint64_t generation, beast::error_code error);
  void do_transport_packet(std::uint64_t transport_id, std::optional<Packet> packet);
  void do_transport_closed(std::uint64_t transport_id, const std::string& reason);

  // engine_session_reading.cpp: the inbox, read pauses, held POSTs.
  Clock::time_point read_paused_until() const;
  bool reading_paused() const;
  void take_post(ReplyTo to, const std::string& body, Respond respond);
  void take_ws_packet(std::optional<Packet> packet);
  void pump();
  void on_read_pause(beast::error_code error);
  void answer_post();
  void read_websocket();
  bool extend_pong_wait();
  void drop_inbox();

  net::strand<net::io_context::executor_type> strand_;
  const std::string sid_;
  const std::shared_ptr<const Options> options_holder_;
  const Options& options_;  // *options_holder_.
  std::function<void(const std::string&)> forget_;
  std::unique_ptr<SocketHandler> handler_;  // From the opening until on_close.
  State state_ = State::opening;
  std::atomic<bool> websocket_{false};       // ws_ is the transport (upgraded, or opened on WebSocket).
  std::deque<Packet> queue_;                 // Packets not yet handed to a GET or the WebSocket.
  std::atomic<std::size_t> buffered_{0};     // Bytes of messages sent and not yet handed on.
  std::optional<PendingGet> get_;            // The GET held, if any.
  std::shared_ptr<WsTransport> ws_;          // The WebSocket in use, once on WebSocket.
  std::shared_ptr<WsTransport> probe_;       // The WebSocket being probed for an upgrade.
  net::steady_timer heartbeat_;
  std::uint64_t heartbeat_generation_ = 0;   // Which arming a heartbeat wake-up belongs to.
  bool awaiting_pong_ = false;
  net::steady_timer upgrade_timer_;
  std::uint64_t upgrade_generation_ = 0;
  net::steady_timer close_timer_;
  // Reading. read_paused_until_ is a Clock::time_point's count, raised (never lowered) by pause_reading
  // from any thread; the rest is the strand's.
  std::atomic<Clock::rep> read_paused_until_{Clock::time_point::min().time_since_epoch().count()};
  std::deque<std::optional<Packet>> inbox_;  // Client packets not yet handled; nullopt: an invalid one.
  std::optional<HeldPost> post_;             // The POST being handled.
  bool ws_read_pending_ = false;             // ws_ was asked for a message and has not delivered it.
  net::steady_timer read_pause_;
  Clock::time_point pong_wait_from_;         // The ping, or the end of a pause after it.
};

}  // namespace posestream::server::engineio
