// LoadStream: one simulated camera for `posestream load`: paced PSF1 frames out, answers in, checked,
// and with reconnect on, the stream carried over dropped connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "app/load_connection.h"
#include "app/load_socketio.h"

namespace posestream::app {

struct LoadPlan {
  LoadTarget target;
  // PSF1 over /ws, or Socket.IO `frame` events (target.path is then the Engine.IO WebSocket path).
  LoadProtocol protocol = LoadProtocol::ws;
  double fps = 30;
  std::chrono::milliseconds duration{10'000};
  // Frames are held until this many were captured, then sent back to back in a shuffled order, as a
  // network that reorders packets would deliver them (1: in order, each when captured).
  std::size_t shuffle_window = 1;
  double loss = 0;  // Probability that a frame is never sent (the server should answer it `lost`).
  // Probability that a frame's image is replaced by random bytes of the same size behind a valid PSF1
  // header (the server should answer it `dropped` `invalid`): a client sending garbage.
  double garbage = 0;
  std::optional<std::string> config_json;  // Sent as a text message first on every connection.
  // After the last frame, how long to wait for the answers still owed before closing.
  std::chrono::milliseconds drain_timeout{5'000};
  // Frames waiting behind the write in flight (plus one shuffle window); beyond it a frame is skipped
  // (a camera drops frames it cannot send), and the server answers its number `lost`.
  std::size_t max_send_backlog = 8;
  // Reconnect: when a connection drops (server close, EOF, reset) or a connect fails, connect again
  // (resolving again) after a backoff that starts at reconnect_backoff_ms, doubles up to
  // reconnect_backoff_max_ms (each +-25% at random, so streams do not return in step), for at most
  // reconnect_attempts failures in a row. Each connection is a new session: sequence numbers start
  // again at 0 and the config is sent again. Frames captured while disconnected are skipped.
  bool reconnect = false;
  std::size_t reconnect_attempts = 10;
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1'000};
};

// One connection's share of a stream (one server session).
struct ConnectionRecord {
  std::uint64_t frames_sent = 0;
  std::uint64_t answered = 0;    // Sequence numbers answered (a `lost` range counts each number).
  std::uint64_t unanswered = 0;  // Sent, without an answer when the connection ended.
  std::string ended;             // Why it ended: "close 1012 server restarting", "read: End of file", ...
  bool dropped = false;          // Ended before the client's own close (then a reconnect follows).
  double gap_after_ms = -1;      // Dropped: its last answer -> the next connection's first (-1: none).
};

// What one stream saw. Answers are counted per sequence number (a `lost` range counts each number).
struct LoadStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_skipped = 0;               // Loss (--loss) and send backlog.
  std::uint64_t frames_skipped_disconnected = 0;  // Captured while no connection was open.
  std::map<std::string, std::uint64_t> answers;   // "result", "late", ..., "error".
  std::uint64_t answered_twice = 0;        // A number answered more than once on one connection.
  std::uint64_t results_out_of_order = 0;  // A result below an earlier result's sequence (one connection).
  std::uint64_t people = 0;  // People in results: each `people` list's size (num_poses > 1), else a pose is 1.
  std::uint64_t unanswered = 0;            // Sent on the last connection, no answer when the stream closed.
  std::uint64_t unanswered_at_drop = 0;    // Sent on a connection that dropped, no answer before it did.
  std::uint64_t reconnects = 0;            // Connections opened after the first.
  std::vector<double> reconnect_gap_ms;    // Per reconnect: last answer before the drop -> first after.
  std::vector<ConnectionRecord> connections;
  std::vector<double> latency_ms;       // Send -> result received, per result.
  std::vector<double> pipeline_ms;      // The server's frame time, total - queue, per result.
  std::vector<double> server_total_ms;  // The server's arrival -> result ready (waits included).
  std::string error;                    // Connection failure that ended the stream, if any.
  std::string close_reason;             // The server's last close code and reason, if it closed one.
};

// Single-threaded: everything runs on the io_context's one thread. Start with run().
class LoadStream : public std::enable_shared_from_this<LoadStream> {
 public:
  // `frames`: encoded images (JPEG/PNG), cycled through. `plan`, `frames` and `tls_context` are not
  // owned and must outlive the stream.
  LoadStream(net::io_context& io, ssl::context& tls_context, const LoadPlan& plan,
             const std::vector<std::string>& frames, std::uint32_t seed);

  void run();
  const LoadStats& stats() const { return stats_; }

 private:
  using Clock = std::chrono::steady_clock;
  // A message waiting to be written: a frame's (its first message carries its number), a control
  // message, or a Socket.IO transport reply, which may go before the hello.
  struct Outgoing {
    LoadMessage message;
    std::optional<std::uint64_t> frame;
    bool before_hello = false;
  };
  struct Captured {
    std::uint64_t sequence;  // On the current connection.
    std::uint64_t slot;      // Capture number over the whole stream (picks the image and the timestamp).
  };

  void connect();
  void on_open(std::uint64_t generation);
  void on_message(std::uint64_t generation, const std::string& text);
  void on_closed(std::uint64_t generation, const std::string& reason, bool clean);
  void forget_connection();
  void schedule_reconnect(const std::string& reason);
  void on_hello();
  void handle_socketio(const std::string& text);
  void handle_answer(const std::string& text);
  std::size_t frames_in_backlog() const;
  void on_result(const nlohmann::json& answer);
  void record(std::uint64_t sequence, const std::string& kind);
  void schedule_next();
  void on_tick(beast::error_code error);
  void flush_window();
  void send_frame(const Captured& frame);
  void do_write();
  void on_write(std::uint64_t generation, beast::error_code error);
  void finish_sending();
  void on_drain(beast::error_code error);
  void close();
  void stop_timers();

  net::io_context& io_;
  ssl::context& tls_context_;
  const LoadPlan& plan_;
  const std::vector<std::string>& frames_;
  std::mt19937 random_;
  net::steady_timer tick_timer_;
  net::steady_timer drain_timer_;
  net::steady_timer reconnect_timer_;

  // The stream, over every connection.
  std::shared_ptr<LoadConnection> connection_;
  std::uint64_t generation_ = 0;  // Which connection's callbacks are current; older ones are ignored.
  std::size_t failed_attempts_ = 0;  // Connects or connections that failed in a row.
  std::uint64_t next_slot_ = 0;      // Frames captured so far.
  bool ticking_ = false;
  Clock::time_point started_at_;
  std::int64_t capture_origin_us_ = 0;
  bool sending_done_ = false;
  bool closing_ = false;
  std::optional<Clock::time_point> last_answer_at_;
  std::optional<Clock::time_point> gap_from_;  // Set by a drop, cleared by the next answer.

  // The current connection (one session).
  bool connected_ = false;  // The hello arrived; frames may be sent.
  bool opened_ = false;     // The WebSocket handshake completed (a ConnectionRecord exists).
  std::uint64_t next_sequence_ = 0;
  std::vector<Captured> window_;  // Captured, held until the shuffle window is full.
  std::deque<Outgoing> backlog_;
  bool writing_ = false;
  std::map<std::uint64_t, Clock::time_point> in_flight_;  // Sent, not answered yet.
  std::set<std::uint64_t> answered_;  // Numbers answered, kept to catch second answers.
  std::optional<std::uint64_t> last_result_;
  LoadStats stats_;
};

}  // namespace posestream::app
