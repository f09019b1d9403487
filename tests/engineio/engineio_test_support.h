// Engine.IO test support: a posestream Server with an Engine.IO echo, blocking HTTP and WebSocket clients.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "server/engineio/engine_server.h"
#include "server/server.h"

namespace posestream::server::engineio::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using namespace std::chrono_literals;

// The official suite's settings (SOCKETIO_FACTS.md 3).
inline constexpr std::chrono::milliseconds kPingInterval{300};
inline constexpr std::chrono::milliseconds kPingTimeout{200};
// Bounds on waiting for an answer the protocol owes at once (a loaded machine); never asserted on.
inline constexpr std::chrono::seconds kWait{10};
inline const std::string kPath = "/engine.io/";

inline Options suite_options() {
  Options options;
  options.path = kPath;
  options.ping_interval = kPingInterval;
  options.ping_timeout = kPingTimeout;
  options.max_payload = 1'000'000;
  return options;
}

// The suite's options with heartbeats far beyond any test's duration: for tests of something else, so
// that a ping never lands in a GET they check on a slow machine.
inline Options calm_options() {
  Options options = suite_options();
  options.ping_interval = std::chrono::seconds{20};
  options.ping_timeout = std::chrono::seconds{20};
  return options;
}

// The reasons sessions closed with, as their handlers saw them.
class CloseLog {
 public:
  void add(std::string_view reason) {
    const std::lock_guard lock(mutex_);
    reasons_.emplace_back(reason);
  }
  std::vector<std::string> reasons() const {
    const std::lock_guard lock(mutex_);
    return reasons_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> reasons_;
};

// The Engine.IO suite's server: every message echoed, text as text, binary as binary.
class EchoHandler : public SocketHandler {
 public:
  EchoHandler(std::weak_ptr<Socket> socket, std::shared_ptr<CloseLog> log) : socket_(std::move(socket)), log_(std::move(log)) {}
  void on_message(Message message) override {
    if (const auto socket = socket_.lock()) socket->send(std::move(message));
  }
  void on_close(std::string_view reason) override { log_->add(reason); }

 private:
  std::weak_ptr<Socket> socket_;
  std::shared_ptr<CloseLog> log_;
};

inline ServerOptions server_options(std::vector<std::string> allowed_origins) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.workers = 1;
  options.inference_threads = 1;
  options.prewarm = std::nullopt;  // No model is loaded: nothing here runs a frame.
  options.allowed_origins = std::move(allowed_origins);
  return options;
}

// A posestream Server on a free loopback port with only the echo installed, run on a thread.
class EchoServer {
 public:
  explicit EchoServer(Options options = suite_options(), std::vector<std::string> allowed_origins = {"*"})
      : server_(server_options(std::move(allowed_origins))) {
    engine_ = server_.add_engine_server(std::move(options), [log = log_](std::shared_ptr<Socket> socket, const Handshake&) {
      return std::make_unique<EchoHandler>(socket, log);
    });
    thread_ = std::thread([this] { server_.run(); });
  }
  ~EchoServer() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }
  EngineServer& engine() { return *engine_; }
  std::vector<std::string> closes() const { return log_->reasons(); }

 private:
  std::shared_ptr<CloseLog> log_ = std::make_shared<CloseLog>();
  Server server_;
  std::shared_ptr<EngineServer> engine_;
  std::thread thread_;
};

using Reply = http::response<http::string_body>;
using Headers = std::vector<std::pair<http::field, std::string>>;

// One request on its own connection; a reply with status 0 if the connection failed or kWait passed.
inline Reply request(std::uint16_t port, http::verb verb, const std::string& target, std::string body = {},
                     const Headers& headers = {}) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> message{verb, target, 11};
  message.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [field, value] : headers) message.set(field, value);
  message.body() = std::move(body);
  message.prepare_payload();
  beast::flat_buffer buffer;
  Reply reply;
  bool read = false;
  stream.expires_after(kWait);
  http::async_write(stream, message, [&](beast::error_code error, std::size_t) {
    if (error) return;
    http::async_read(stream, buffer, reply, [&](beast::error_code read_error, std::size_t) { read = !read_error; });
  });
  io.run();
  if (!read) {
    reply = {};
    reply.result(0u);
  }
  return reply;
}

inline Reply get(std::uint16_t port, const std::string& query, const Headers& headers = {}) {
  return request(port, http::verb::get, kPath + "?" + query, {}, headers);
}
inline Reply post(std::uint16_t port, const std::string& query, std::string body, const Headers& headers = {}) {
  return request(port, http::verb::post, kPath + "?" + query, std::move(body), headers);
}

// A polling handshake: the new session's sid (empty if it failed).
inline std::string open_polling(std::uint16_t port) {
  const Reply reply = get(port, "EIO=4&transport=polling");
  const std::string prefix = "0{\"sid\":\"";
  if (reply.result_int() != 200 || !reply.body().starts_with(prefix)) return {};
  const std::size_t end = reply.body().find('"', prefix.size());
  return reply.body().substr(prefix.size(), end - prefix.size());
}

inline std::string polling(const std::string& sid) { return "EIO=4&transport=polling&sid=" + sid; }

struct Frame {
  bool binary = false;
  std::string data;
  friend bool operator==(const Frame&, const Frame&) = default;
};

// A blocking WebSocket client whose reads give up after a timeout.
class WsPeer {
 public:
  // Throws beast::system_error when the upgrade is refused.
  WsPeer(std::uint16_t port, const std::string& query) : ws_(io_) {
    beast::get_lowest_layer(ws_).connect({net::ip::make_address("127.0.0.1"), port});
    ws_.handshake("127.0.0.1:" + std::to_string(port), kPath + "?" + query);
  }
  void text(const std::string& data) {
    ws_.text(true);
    ws_.write(net::buffer(data));
  }
  void binary(const std::string& data) {
    ws_.binary(true);
    ws_.write(net::buffer(data));
  }
  // The next message; nullopt when the connection closed or `timeout` passed (timed_out() tells).
  std::optional<Frame> read(std::chrono::milliseconds timeout = kWait) {
    beast::flat_buffer buffer;
    std::optional<beast::error_code> result;
    ws_.async_read(buffer, [&](beast::error_code error, std::size_t) { result = error; });
    io_.restart();
    io_.run_for(timeout);
    if (!result) {
      timed_out_ = true;
      beast::get_lowest_layer(ws_).cancel();
      io_.restart();
      io_.run();
      return std::nullopt;
    }
    if (*result) return std::nullopt;
    return Frame{ws_.got_binary(), beast::buffers_to_string(buffer.data())};
  }
  // Reads (and drops) messages until the server closes the connection; false if `timeout` passed first.
  bool closes_within(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (!read(left)) return !timed_out_;
    }
    return false;
  }
  bool timed_out() const { return timed_out_; }

 private:
  net::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  bool timed_out_ = false;
};

// Polls `condition` every 10 ms until it holds or `limit` passes; whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

}  // namespace posestream::server::engineio::testing
