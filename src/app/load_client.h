// LoadStream: one simulated camera for `posestream load`: paced PSF1 frames out, answers in, checked.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace posestream::app {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

struct LoadPlan {
  std::string host;
  std::string port;
  std::string path = "/ws";
  double fps = 30;
  std::chrono::milliseconds duration{10'000};
  // Frames are held until this many were captured, then sent back to back in a shuffled order, as a
  // network that reorders packets would deliver them (1: in order, each when captured).
  std::size_t shuffle_window = 1;
  double loss = 0;  // Probability that a frame is never sent (the server should answer it `lost`).
  // Probability that a frame's image is replaced by random bytes of the same size behind a valid PSF1
  // header (the server should answer it `dropped` `invalid`): a client sending garbage.
  double garbage = 0;
  std::optional<std::string> config_json;  // Sent as a text message before the first frame.
  // After the last frame, how long to wait for the answers still owed before closing.
  std::chrono::milliseconds drain_timeout{5'000};
  // Frames waiting behind the write in flight (plus one shuffle window); beyond it a frame is skipped
  // (a camera drops frames it cannot send), and the server answers its number `lost`.
  std::size_t max_send_backlog = 8;
};

// What one stream saw. Answers are counted per sequence number (a `lost` range counts each number).
struct LoadStats {
  std::uint64_t frames_sent = 0;
  std::uint64_t frames_skipped = 0;  // Loss (--loss) and send backlog.
  std::map<std::string, std::uint64_t> answers;  // "result", "late", ..., "error".
  std::uint64_t answered_twice = 0;        // A number answered more than once (never expected).
  std::uint64_t results_out_of_order = 0;  // A result below an earlier result's sequence.
  std::uint64_t unanswered = 0;            // Sent frames without an answer when the stream closed.
  std::vector<double> latency_ms;          // Send -> result received, per result.
  std::vector<double> pipeline_ms;         // The server's frame time, total - queue, per result.
  std::vector<double> server_total_ms;     // The server's arrival -> result ready (waits included).
  std::string error;                       // Connection failure, if any.
  std::string close_reason;                // The server's close code and reason, if it closed first.
};

// Single-threaded: everything runs on the io_context's one thread. Start with run(); `on_done` is called
// once, after the stream closed or failed.
class LoadStream : public std::enable_shared_from_this<LoadStream> {
 public:
  // `frames`: encoded images (JPEG/PNG), cycled through. Does not own them; they must outlive the stream.
  LoadStream(net::io_context& io, const LoadPlan& plan, const std::vector<std::string>& frames,
             std::uint32_t seed);

  void run();
  const LoadStats& stats() const { return stats_; }

 private:
  using Clock = std::chrono::steady_clock;

  void fail(beast::error_code error, const char* what);
  void on_connect(beast::error_code error);
  void on_handshake(beast::error_code error);
  void do_read();
  void on_read(beast::error_code error, std::size_t bytes);
  void handle_answer(const std::string& text);
  void record(std::uint64_t sequence, const std::string& kind);
  void schedule_next();
  void on_tick(beast::error_code error);
  void flush_window();
  void send_frame(std::uint64_t sequence);
  void do_write();
  void on_write(beast::error_code error, std::size_t bytes);
  void finish_sending();
  void on_drain(beast::error_code error);
  void close();
  void send_close();

  net::ip::tcp::resolver resolver_;
  websocket::stream<beast::tcp_stream> ws_;
  const LoadPlan& plan_;
  const std::vector<std::string>& frames_;
  std::mt19937 random_;
  beast::flat_buffer buffer_;
  net::steady_timer tick_timer_;
  net::steady_timer drain_timer_;

  std::vector<std::uint64_t> window_;  // Captured, held until the shuffle window is full.
  std::uint64_t next_slot_ = 0;        // Frames captured so far (the next sequence).
  Clock::time_point started_at_;
  std::int64_t capture_origin_us_ = 0;
  std::deque<std::string> backlog_;
  bool writing_ = false;
  bool sending_done_ = false;
  bool closing_ = false;
  std::map<std::uint64_t, Clock::time_point> in_flight_;  // Sent, not answered yet.
  std::map<std::uint64_t, bool> answered_;  // Numbers answered, kept to catch second answers.
  std::optional<std::uint64_t> last_result_;
  LoadStats stats_;
};

// Percentile (nearest rank) of `values`, which it sorts; 0 if empty.
double percentile(std::vector<double>& values, double fraction);

}  // namespace posestream::app
