// LoadStream: connect, pace PSF1 frames like a camera (optionally shuffled and lossy), check the answers.
#include "app/load_client.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

namespace posestream::app {
namespace {

// A `lost` range longer than this is counted, but its numbers are not remembered one by one.
constexpr std::uint64_t kMaxRememberedRange = 100'000;

void append_u64_le(std::string& bytes, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

}  // namespace

double percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

LoadStream::LoadStream(net::io_context& io, const LoadPlan& plan, const std::vector<std::string>& frames,
                       std::uint32_t seed)
    : resolver_(io), ws_(io), plan_(plan), frames_(frames), random_(seed), tick_timer_(io), drain_timer_(io) {}

void LoadStream::run() {
  beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
  resolver_.async_resolve(plan_.host, plan_.port,
                          [self = shared_from_this()](beast::error_code error, net::ip::tcp::resolver::results_type results) {
                            if (error) return self->fail(error, "resolve");
                            beast::get_lowest_layer(self->ws_).async_connect(
                                results, [self](beast::error_code connect_error, const net::ip::tcp::endpoint&) {
                                  self->on_connect(connect_error);
                                });
                          });
}

void LoadStream::fail(beast::error_code error, const char* what) {
  if (stats_.error.empty() && !closing_) stats_.error = std::string(what) + ": " + error.message();
  tick_timer_.cancel();
  drain_timer_.cancel();
  beast::get_lowest_layer(ws_).close();
}

void LoadStream::on_connect(beast::error_code error) {
  if (error) return fail(error, "connect");
  beast::get_lowest_layer(ws_).expires_never();
  beast::error_code ignored;  // Frames go out whole and at once, not held for Nagle's algorithm.
  beast::get_lowest_layer(ws_).socket().set_option(net::ip::tcp::no_delay(true), ignored);
  ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
  ws_.async_handshake(plan_.host + ":" + plan_.port, plan_.path,
                      beast::bind_front_handler(&LoadStream::on_handshake, shared_from_this()));
}

void LoadStream::on_handshake(beast::error_code error) {
  if (error) return fail(error, "handshake");
  if (plan_.config_json) backlog_.push_back(*plan_.config_json);  // Sent first; not a frame.
  do_read();
}

void LoadStream::do_read() {
  ws_.async_read(buffer_, beast::bind_front_handler(&LoadStream::on_read, shared_from_this()));
}

void LoadStream::on_read(beast::error_code error, std::size_t) {
  if (error) {
    if (error == websocket::error::closed && !closing_) {
      stats_.close_reason = std::to_string(ws_.reason().code) + " " + std::string(ws_.reason().reason);
    } else if (!closing_) {
      fail(error, "read");
    }
    stats_.unanswered = in_flight_.size();
    tick_timer_.cancel();
    drain_timer_.cancel();
    return;
  }
  handle_answer(beast::buffers_to_string(buffer_.data()));
  buffer_.consume(buffer_.size());
  if (sending_done_ && in_flight_.empty() && backlog_.empty() && !closing_) close();
  do_read();
}

void LoadStream::handle_answer(const std::string& text) {
  const nlohmann::json answer = nlohmann::json::parse(text, nullptr, false);
  const std::string type = answer.is_object() ? answer.value("type", "") : "";
  if (type == "hello") {
    started_at_ = Clock::now();
    capture_origin_us_ = std::chrono::duration_cast<std::chrono::microseconds>(started_at_.time_since_epoch()).count();
    schedule_next();
    do_write();  // The config, if any.
  } else if (type == "result") {
    const auto sequence = answer.value("sequence", std::uint64_t{0});
    if (const auto sent = in_flight_.find(sequence); sent != in_flight_.end()) {
      stats_.latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent->second).count());
    }
    if (const auto timing = answer.find("timing_ms"); timing != answer.end() && timing->is_object()) {
      // Not decode + pose + hands: a lone stream's pose and hands may run side by side.
      stats_.pipeline_ms.push_back(timing->value("total", 0.0) - timing->value("queue", 0.0));
      stats_.server_total_ms.push_back(timing->value("total", 0.0));
    }
    if (last_result_ && sequence <= *last_result_) ++stats_.results_out_of_order;
    last_result_ = sequence;
    record(sequence, "result");
  } else if (type == "dropped") {
    const auto first = answer.value("sequence", std::uint64_t{0});
    const auto last = answer.value("last_sequence", first);
    const std::string reason = answer.value("reason", "?");
    if (last - first >= kMaxRememberedRange) {
      stats_.answers[reason] += last - first + 1;
      return;
    }
    for (std::uint64_t sequence = first;; ++sequence) {
      record(sequence, reason);
      if (sequence == last) break;
    }
  } else {
    ++stats_.answers[type.empty() ? "unparsable" : type];
  }
}

void LoadStream::record(std::uint64_t sequence, const std::string& kind) {
  ++stats_.answers[kind];
  if (!answered_.emplace(sequence, true).second) ++stats_.answered_twice;
  in_flight_.erase(sequence);
}

void LoadStream::schedule_next() {
  const auto period = std::chrono::duration<double>(1.0 / plan_.fps);
  tick_timer_.expires_at(started_at_ + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(next_slot_)));
  tick_timer_.async_wait(beast::bind_front_handler(&LoadStream::on_tick, shared_from_this()));
}

// A frame is captured every 1/fps. With a shuffle window of K, captured frames are held until K of
// them are, then sent back to back in a shuffled order: reordered the way a network reorders packets
// (by much less than the gap timeout), not by whole frame periods.
void LoadStream::on_tick(beast::error_code error) {
  if (error || closing_) return;
  if (Clock::now() - started_at_ >= plan_.duration) return finish_sending();
  const std::uint64_t sequence = next_slot_++;
  if (std::uniform_real_distribution<double>(0, 1)(random_) < plan_.loss) {
    ++stats_.frames_skipped;
  } else {
    window_.push_back(sequence);
  }
  if (next_slot_ % std::max<std::size_t>(plan_.shuffle_window, 1) == 0) flush_window();
  schedule_next();
}

void LoadStream::flush_window() {
  std::shuffle(window_.begin(), window_.end(), random_);
  for (std::uint64_t sequence : window_) send_frame(sequence);
  window_.clear();
}

void LoadStream::send_frame(std::uint64_t sequence) {
  if (backlog_.size() >= plan_.max_send_backlog + plan_.shuffle_window) {
    ++stats_.frames_skipped;
    return;
  }
  const std::string& frame = frames_[sequence % frames_.size()];
  std::string scrambled;
  if (plan_.garbage > 0 && std::uniform_real_distribution<double>(0, 1)(random_) < plan_.garbage) {
    // Eight bytes a draw: a byte a draw made this generator a quarter of the load tool's CPU, taken
    // from the server it shares the cores with.
    scrambled.resize(frame.size());
    std::mt19937_64 bytes(random_());
    for (std::size_t at = 0; at < scrambled.size(); at += sizeof(std::uint64_t)) {
      const std::uint64_t draw = bytes();
      std::memcpy(scrambled.data() + at, &draw, std::min(sizeof draw, scrambled.size() - at));
    }
  }
  const std::string& image = scrambled.empty() ? frame : scrambled;
  std::string message = "PSF1";
  message.reserve(20 + image.size());
  append_u64_le(message, sequence);
  // Capture times follow the sequence (a camera's clock), whatever order the frames are sent in.
  append_u64_le(message, static_cast<std::uint64_t>(capture_origin_us_) +
                             static_cast<std::uint64_t>(static_cast<double>(sequence) * 1e6 / plan_.fps));
  message += image;
  backlog_.push_back(std::move(message));
  do_write();
}

void LoadStream::do_write() {
  if (writing_ || backlog_.empty() || closing_) return;
  const bool is_frame = backlog_.front().starts_with("PSF1");
  if (is_frame) {
    std::uint64_t sequence = 0;
    for (int i = 7; i >= 0; --i) sequence = (sequence << 8) | static_cast<unsigned char>(backlog_.front()[4 + i]);
    // A number already answered (`lost` before its late, shuffled arrival) owes nothing more.
    if (!answered_.contains(sequence)) in_flight_[sequence] = Clock::now();
    ++stats_.frames_sent;
  }
  writing_ = true;
  ws_.binary(is_frame);
  ws_.async_write(net::buffer(backlog_.front()), beast::bind_front_handler(&LoadStream::on_write, shared_from_this()));
}

void LoadStream::on_write(beast::error_code error, std::size_t) {
  writing_ = false;
  backlog_.pop_front();
  if (error) return fail(error, "write");
  if (closing_) return send_close();  // close() waited for this write.
  do_write();
}

void LoadStream::finish_sending() {
  flush_window();
  sending_done_ = true;
  if (in_flight_.empty() && backlog_.empty()) return close();
  drain_timer_.expires_after(plan_.drain_timeout);
  drain_timer_.async_wait(beast::bind_front_handler(&LoadStream::on_drain, shared_from_this()));
}

void LoadStream::on_drain(beast::error_code error) {
  if (!error && !closing_) close();
}

void LoadStream::close() {
  closing_ = true;
  tick_timer_.cancel();
  drain_timer_.cancel();
  if (!writing_) send_close();  // One write at a time: a close frame is a write too.
}

void LoadStream::send_close() {
  ws_.async_close(websocket::close_code::normal, [self = shared_from_this()](beast::error_code) {});
}

}  // namespace posestream::app
