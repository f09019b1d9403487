// LoadStream: pace PSF1 frames like a camera (optionally shuffled and lossy), check the answers, and
// carry the stream over to a new connection when one drops (--reconnect).
#include "app/load_client.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "app/measure.h"

namespace posestream::app {
namespace {

// A `lost` range longer than this is counted, but its numbers are not remembered one by one.
constexpr std::uint64_t kMaxRememberedRange = 100'000;

void append_u64_le(std::string& bytes, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

double ms_between(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

}  // namespace

LoadStream::LoadStream(net::io_context& io, ssl::context& tls_context, const LoadPlan& plan,
                       const std::vector<std::string>& frames, std::uint32_t seed)
    : io_(io),
      tls_context_(tls_context),
      plan_(plan),
      frames_(frames),
      random_(seed),
      tick_timer_(io),
      drain_timer_(io),
      reconnect_timer_(io) {}

void LoadStream::run() { connect(); }

void LoadStream::connect() {
  const std::uint64_t generation = ++generation_;
  auto self = shared_from_this();
  LoadConnectionHandlers handlers{
      [self, generation] { self->on_open(generation); },
      [self, generation](std::string text) { self->on_message(generation, text); },
      [self, generation](std::string reason, bool clean) { self->on_closed(generation, reason, clean); }};
  connection_ = std::make_shared<LoadConnection>(io_, tls_context_, plan_.target, std::move(handlers));
  connection_->open();
}

void LoadStream::on_open(std::uint64_t generation) {
  if (generation != generation_) return;
  opened_ = true;
  if (!stats_.connections.empty()) ++stats_.reconnects;
  stats_.connections.emplace_back();
}

void LoadStream::on_message(std::uint64_t generation, const std::string& text) {
  if (generation != generation_) return;
  if (plan_.protocol == LoadProtocol::ws) {
    handle_answer(text);
  } else {
    handle_socketio(text);
  }
  if (sending_done_ && in_flight_.empty() && backlog_.empty() && !closing_) close();
}

// Whatever ended the connection: the server's close, a network error, a refused connect, or our close.
void LoadStream::on_closed(std::uint64_t generation, const std::string& reason, bool clean) {
  if (generation != generation_) return;
  if (reason.starts_with("close ")) stats_.close_reason = reason.substr(6);
  const bool dropped = !clean && !closing_;
  if (opened_) {
    ConnectionRecord& record = stats_.connections.back();
    record.unanswered = in_flight_.size();
    record.ended = reason;
    record.dropped = dropped;
  }
  const bool carry_on = dropped && plan_.reconnect && !sending_done_;
  if (opened_ && carry_on) {
    stats_.unanswered_at_drop += in_flight_.size();
    if (!gap_from_) gap_from_ = last_answer_at_.value_or(Clock::now());
  } else {
    stats_.unanswered += in_flight_.size();
  }
  if (opened_) failed_attempts_ = 0;  // Reached a server: the count starts over.
  forget_connection();
  if (carry_on) return schedule_reconnect(reason);
  if (dropped && !reason.starts_with("close ") && stats_.error.empty()) stats_.error = reason;
  stop_timers();
}

// The session is gone: what was waiting to be sent on it is skipped (its numbers belong to it).
void LoadStream::forget_connection() {
  stats_.frames_skipped_disconnected += frames_in_backlog();
  stats_.frames_skipped_disconnected += window_.size();
  backlog_.clear();
  window_.clear();
  in_flight_.clear();
  answered_.clear();
  last_result_.reset();
  writing_ = false;
  connected_ = false;
  opened_ = false;
}

void LoadStream::schedule_reconnect(const std::string& reason) {
  if (++failed_attempts_ > plan_.reconnect_attempts) {
    stats_.error = "reconnect: gave up after " + std::to_string(plan_.reconnect_attempts) + " attempts: " + reason;
    return stop_timers();
  }
  const double doubled = static_cast<double>(plan_.reconnect_backoff.count()) * std::pow(2.0, static_cast<double>(failed_attempts_ - 1));
  const double capped = std::min(doubled, static_cast<double>(plan_.reconnect_backoff_max.count()));
  const double jittered = capped * std::uniform_real_distribution<double>(0.75, 1.25)(random_);
  reconnect_timer_.expires_after(std::chrono::milliseconds(static_cast<std::int64_t>(jittered)));
  reconnect_timer_.async_wait([self = shared_from_this()](beast::error_code error) {
    if (!error && !self->sending_done_ && !self->closing_) self->connect();
  });
}

// Engine.IO's open and pings are answered here; events carry the bodies /ws would have sent.
void LoadStream::handle_socketio(const std::string& text) {
  SocketIoReading reading = read_socketio_message(text);
  if (reading.reply) {
    backlog_.push_back({{std::move(*reading.reply), false}, std::nullopt, true});
    do_write();
  }
  if (reading.answer_json) handle_answer(*reading.answer_json);
  if (reading.failure) {
    stats_.close_reason = *reading.failure;
    if (!closing_ && connection_) connection_->abort();
  }
}

std::size_t LoadStream::frames_in_backlog() const {
  return static_cast<std::size_t>(
      std::count_if(backlog_.begin(), backlog_.end(), [](const Outgoing& out) { return out.frame.has_value(); }));
}

void LoadStream::handle_answer(const std::string& text) {
  const nlohmann::json answer = nlohmann::json::parse(text, nullptr, false);
  const std::string type = answer.is_object() ? answer.value("type", "") : "";
  if (type == "hello") return on_hello();
  if (type == "result") return on_result(answer);
  if (type != "dropped") {
    ++stats_.answers[type.empty() ? "unparsable" : type];
    return;
  }
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
}

// A new session: numbering starts at 0, the config goes first, and the camera starts (first time only).
void LoadStream::on_hello() {
  connected_ = true;
  next_sequence_ = 0;
  if (plan_.config_json) {
    std::string config = plan_.protocol == LoadProtocol::ws ? *plan_.config_json : socketio_control(*plan_.config_json);
    backlog_.push_back({{std::move(config), false}, std::nullopt});
  }
  if (!ticking_) {
    ticking_ = true;
    started_at_ = Clock::now();
    capture_origin_us_ = std::chrono::duration_cast<std::chrono::microseconds>(started_at_.time_since_epoch()).count();
    schedule_next();
  }
  do_write();
}

void LoadStream::on_result(const nlohmann::json& answer) {
  const auto sequence = answer.value("sequence", std::uint64_t{0});
  if (const auto sent = in_flight_.find(sequence); sent != in_flight_.end()) {
    stats_.latency_ms.push_back(ms_between(sent->second, Clock::now()));
  }
  if (const auto timing = answer.find("timing_ms"); timing != answer.end() && timing->is_object()) {
    // Not decode + pose + hands: a lone stream's pose and hands may run side by side.
    stats_.pipeline_ms.push_back(timing->value("total", 0.0) - timing->value("queue", 0.0));
    stats_.server_total_ms.push_back(timing->value("total", 0.0));
  }
  if (const auto people = answer.find("people"); people != answer.end() && people->is_array()) {
    stats_.people += people->size();
  } else if (const auto pose = answer.find("pose"); pose != answer.end() && pose->is_object()) {
    ++stats_.people;
  }
  if (last_result_ && sequence <= *last_result_) ++stats_.results_out_of_order;
  last_result_ = sequence;
  record(sequence, "result");
}

void LoadStream::record(std::uint64_t sequence, const std::string& kind) {
  const auto now = Clock::now();
  if (gap_from_ && stats_.connections.size() >= 2) {
    const double gap = ms_between(*gap_from_, now);
    stats_.reconnect_gap_ms.push_back(gap);
    stats_.connections[stats_.connections.size() - 2].gap_after_ms = gap;
    gap_from_.reset();
  }
  last_answer_at_ = now;
  ++stats_.answers[kind];
  if (!stats_.connections.empty()) ++stats_.connections.back().answered;
  if (!answered_.insert(sequence).second) ++stats_.answered_twice;
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
  const std::uint64_t slot = next_slot_++;
  if (!connected_) {
    ++stats_.frames_skipped_disconnected;
  } else if (std::uniform_real_distribution<double>(0, 1)(random_) < plan_.loss) {
    ++next_sequence_;  // Numbered, never sent: the server answers it `lost`.
    ++stats_.frames_skipped;
  } else {
    window_.push_back({next_sequence_++, slot});
  }
  if (connected_ && next_sequence_ % std::max<std::size_t>(plan_.shuffle_window, 1) == 0) flush_window();
  schedule_next();
}

void LoadStream::flush_window() {
  std::shuffle(window_.begin(), window_.end(), random_);
  for (const Captured& frame : window_) send_frame(frame);
  window_.clear();
}

void LoadStream::send_frame(const Captured& captured) {
  if (frames_in_backlog() >= plan_.max_send_backlog + plan_.shuffle_window) {
    ++stats_.frames_skipped;
    return;
  }
  const std::string& frame = frames_[captured.slot % frames_.size()];
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
  // Capture times follow the capture (a camera's clock), whatever order the frames are sent in; they
  // keep increasing over reconnects.
  const std::int64_t timestamp_us =
      capture_origin_us_ + static_cast<std::int64_t>(static_cast<double>(captured.slot) * 1e6 / plan_.fps);
  if (plan_.protocol != LoadProtocol::ws) {
    std::vector<LoadMessage> messages = socketio_frame(plan_.protocol, captured.sequence, timestamp_us, image);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      backlog_.push_back({std::move(messages[i]), i == 0 ? std::optional(captured.sequence) : std::nullopt});
    }
    return do_write();
  }
  std::string message = "PSF1";
  message.reserve(20 + image.size());
  append_u64_le(message, captured.sequence);
  append_u64_le(message, static_cast<std::uint64_t>(timestamp_us));
  message += image;
  backlog_.push_back({{std::move(message), true}, captured.sequence});
  do_write();
}

void LoadStream::do_write() {
  if (writing_ || backlog_.empty() || closing_) return;
  if (!connected_ && !backlog_.front().before_hello) return;
  const Outgoing& out = backlog_.front();
  if (out.frame) {
    const std::uint64_t sequence = *out.frame;
    // A number already answered (`lost` before its late, shuffled arrival) owes nothing more.
    if (!answered_.contains(sequence)) in_flight_[sequence] = Clock::now();
    ++stats_.frames_sent;
    ++stats_.connections.back().frames_sent;
  }
  writing_ = true;
  connection_->write(out.message.bytes, out.message.binary, [self = shared_from_this(), generation = generation_](beast::error_code error) {
    self->on_write(generation, error);
  });
}

void LoadStream::on_write(std::uint64_t generation, beast::error_code error) {
  if (generation != generation_) return;  // A write of a connection already given up.
  writing_ = false;
  backlog_.pop_front();
  if (error) return;  // The connection reports the failure through on_closed.
  if (closing_) return connection_->close();  // close() waited for this write.
  do_write();
}

void LoadStream::finish_sending() {
  flush_window();
  sending_done_ = true;
  if (!connected_) return close();
  if (in_flight_.empty() && backlog_.empty()) return close();
  drain_timer_.expires_after(plan_.drain_timeout);
  drain_timer_.async_wait(beast::bind_front_handler(&LoadStream::on_drain, shared_from_this()));
}

void LoadStream::on_drain(beast::error_code error) {
  if (!error && !closing_) close();
}

void LoadStream::close() {
  closing_ = true;
  stop_timers();
  if (!connected_) return connection_->abort();  // Mid-connect or mid-backoff: nothing to close politely.
  if (!writing_) connection_->close();  // One write at a time: a close frame is a write too.
}

void LoadStream::stop_timers() {
  tick_timer_.cancel();
  drain_timer_.cancel();
  reconnect_timer_.cancel();
}

}  // namespace posestream::app
