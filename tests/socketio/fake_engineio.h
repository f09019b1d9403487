// A test double of the Engine.IO layer below Socket.IO: an engineio::Socket that records what is sent.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/engineio/engineio.h"

namespace posestream::server::socketio::testing {

// Records send(), close() and pause_reading() as the layer above made them; delivers nothing.
// Thread-safe like the real one. close() does not call the handler back (the real layer posts on_close
// to the session's strand); tests call Connection::on_close themselves.
class FakeEngineSocket final : public engineio::Socket {
 public:
  const std::string& sid() const override { return sid_; }
  void send(engineio::Message message) override {
    std::lock_guard lock(mutex_);
    if (!close_reason_) sent_.push_back(std::move(message));
  }
  void close(std::string reason) override {
    std::lock_guard lock(mutex_);
    if (!close_reason_) close_reason_ = reason.empty() ? "server close" : std::move(reason);
  }
  std::string transport() const override { return "websocket"; }
  std::size_t buffered_bytes() const override { return 0; }
  void pause_reading(std::chrono::steady_clock::duration how_long) override {
    std::lock_guard lock(mutex_);
    if (!close_reason_) pauses_.push_back(how_long);
  }

  // The messages sent since the last take().
  std::vector<engineio::Message> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(sent_, {});
  }
  std::optional<std::string> close_reason() const {
    std::lock_guard lock(mutex_);
    return close_reason_;
  }
  bool closed() const { return close_reason().has_value(); }
  // Every pause asked for, in order.
  std::vector<std::chrono::steady_clock::duration> pauses() const {
    std::lock_guard lock(mutex_);
    return pauses_;
  }

 private:
  std::string sid_ = "eio-sid";
  mutable std::mutex mutex_;
  std::vector<engineio::Message> sent_;
  std::vector<std::chrono::steady_clock::duration> pauses_;
  std::optional<std::string> close_reason_;
};

}  // namespace posestream::server::socketio::testing
