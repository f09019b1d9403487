// Server test support: a Server on a free loopback port, a WebSocket client with timeouts, HTTP, JPEGs.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/server.h"
#include "test_paths.h"

namespace posestream::server::testing {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using nlohmann::json;
using Bytes = std::vector<std::uint8_t>;

// Generous: these bound waits for answers on a loaded machine; nothing asserts on durations.
inline constexpr std::chrono::seconds kAnswerTimeout{60};

// Decode only: frames are answered in milliseconds and need no model.
inline const std::string kDecodeOnlyConfig = R"({"type":"config","pose":"off","hands":"off"})";

inline ServerOptions test_options() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.models_dir = posestream::testing::models_dir();
  options.workers = 2;
  options.prewarm = std::nullopt;  // Models load on first use; decode-only tests need none.
  options.limits.gap_timeout = std::chrono::milliseconds{2'000};  // Loaded machines read slowly.
  return options;
}

// A Server running in a background thread for the test's lifetime.
class RunningServer {
 public:
  // `handle_signals`: run() takes SIGINT and SIGTERM (the test then raises them).
  explicit RunningServer(ServerOptions options = test_options(), bool handle_signals = false)
      : server_(std::move(options)), thread_([this, handle_signals] { server_.run(handle_signals); }) {}
  ~RunningServer() { stop(); }
  void stop() {
    server_.stop();
    join();
  }
  // Starts a drain (SIGTERM's shutdown) and returns at once; join() waits for run() to return.
  void drain() { server_.drain(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }

 private:
  Server server_;
  std::thread thread_;
};

// A smooth gradient (small as a JPEG), different per seed.
inline Bytes jpeg(int width, int height, int seed = 0) {
  cv::Mat image(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      image.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<std::uint8_t>(x + seed), static_cast<std::uint8_t>(y * 2),
                                            static_cast<std::uint8_t>(seed * 40));
    }
  }
  Bytes bytes;
  cv::imencode(".jpg", image, bytes, {cv::IMWRITE_JPEG_QUALITY, 80});
  return bytes;
}

inline Bytes read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

inline Bytes psf1(std::uint64_t sequence, std::uint64_t timestamp_us, const Bytes& image) {
  Bytes bytes = {'P', 'S', 'F', '1'};
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(sequence >> (8 * i)));
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(timestamp_us >> (8 * i)));
  bytes.insert(bytes.end(), image.begin(), image.end());
  return bytes;
}

// One WebSocket message into `buffer` within `timeout`, for the blocking test clients (plain or TLS): the
// read's result (success, or e.g. websocket::error::closed), or nullopt when it timed out (the read is
// then cancelled, and the stream is unusable after).
template <class WebSocket>
std::optional<beast::error_code> read_within(net::io_context& io, WebSocket& ws, beast::flat_buffer& buffer,
                                             std::chrono::milliseconds timeout) {
  std::optional<beast::error_code> result;
  ws.async_read(buffer, [&](beast::error_code error, std::size_t) { result = error; });
  io.restart();
  io.run_for(timeout);
  if (!result) {
    beast::get_lowest_layer(ws).cancel();
    io.restart();
    io.run();
  }
  return result;
}

template <class WebSocket>
void write_text(WebSocket& ws, const std::string& text) {
  ws.text(true);
  ws.write(net::buffer(text));
}

template <class WebSocket>
void write_binary(WebSocket& ws, const Bytes& bytes) {
  ws.binary(true);
  ws.write(net::buffer(bytes));
}

// A blocking WebSocket client whose reads give up after a timeout (the stream is unusable after one).
class WsClient {
 public:
  // `target` may carry ?token=; `authorization` is sent as the Authorization header when not empty.
  explicit WsClient(std::uint16_t port, int receive_buffer_bytes = 0, const std::string& target = "/ws",
                    const std::string& authorization = {})
      : ws_(io_) {
    net::ip::tcp::socket& socket = beast::get_lowest_layer(ws_).socket();
    socket.open(net::ip::tcp::v4());
    if (receive_buffer_bytes > 0) socket.set_option(net::socket_base::receive_buffer_size(receive_buffer_bytes));
    socket.connect({net::ip::make_address("127.0.0.1"), port});
    socket.set_option(net::ip::tcp::no_delay(true));
    if (!authorization.empty()) {
      ws_.set_option(websocket::stream_base::decorator(
          [authorization](websocket::request_type& request) { request.set(http::field::authorization, authorization); }));
    }
    ws_.handshake("127.0.0.1:" + std::to_string(port), target);
  }

  void send_text(const std::string& text) { write_text(ws_, text); }
  void send_binary(const Bytes& bytes) { write_binary(ws_, bytes); }
  // False when the connection failed (used by the slow-reader test, which writes until it does).
  bool try_send_binary(const Bytes& bytes) {
    beast::error_code error;
    ws_.binary(true);
    ws_.write(net::buffer(bytes), error);
    if (error) error_ = error;
    return !error;
  }

  // The next text message as JSON; nullopt when the connection closed (see close_code) or timed out.
  std::optional<json> read(std::chrono::milliseconds timeout = kAnswerTimeout) {
    beast::flat_buffer buffer;
    const std::optional<beast::error_code> result = read_within(io_, ws_, buffer, timeout);
    if (!result) {
      timed_out_ = true;
      return std::nullopt;
    }
    if (*result) {
      error_ = *result;
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer.data()));
  }

  // Reads until a message that is not a hello; nullopt as read().
  std::optional<json> read_answer(std::chrono::milliseconds timeout = kAnswerTimeout) {
    for (;;) {
      std::optional<json> message = read(timeout);
      if (!message || (*message)["type"] != "hello") return message;
    }
  }

  // After read() returned nullopt: the server's close code, 0 if none (reset, timeout).
  int close_code() const { return error_ == websocket::error::closed ? ws_.reason().code : 0; }
  std::string close_reason() const { return std::string(ws_.reason().reason); }
  bool timed_out() const { return timed_out_; }
  beast::error_code error() const { return error_; }

  void close() {
    beast::error_code ignored;
    ws_.close(websocket::close_code::normal, ignored);
  }
  // Closes the TCP connection without a WebSocket close.
  void drop() { beast::get_lowest_layer(ws_).close(); }
  net::ip::tcp::socket& socket() { return beast::get_lowest_layer(ws_).socket(); }

 private:
  net::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::error_code error_;
  bool timed_out_ = false;
};

struct HttpReply {
  unsigned status = 0;
  std::string content_type;
  std::string content_length;
  std::string body;
  std::string www_authenticate;
};

// `websocket_upgrade`: send a WebSocket upgrade request (Beast's own handshake drops the response when
// the server declines, and the tests want its status).
// `authorization`: the Authorization header's value, when not empty.
inline HttpReply http_request(std::uint16_t port, http::verb verb, const std::string& target, std::string body = {},
                              bool websocket_upgrade = false, const std::string& authorization = {}) {
  net::io_context io;
  beast::tcp_stream stream(io);
  stream.connect({net::ip::make_address("127.0.0.1"), port});
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  if (websocket_upgrade) {
    request.set(http::field::connection, "Upgrade");
    request.set(http::field::upgrade, "websocket");
    request.set(http::field::sec_websocket_version, "13");
    request.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  }
  request.body() = std::move(body);
  request.prepare_payload();
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  parser.skip(verb == http::verb::head);
  http::read(stream, buffer, parser);
  const auto& response = parser.get();
  return {response.result_int(), std::string(response[http::field::content_type]),
          std::string(response[http::field::content_length]), response.body(),
          std::string(response[http::field::www_authenticate])};
}

// The value of one sample line of /metrics ("name{labels} value"), or -1 when absent.
inline double metric(std::uint16_t port, const std::string& sample) {
  const std::string text = http_request(port, http::verb::get, "/metrics").body;
  const std::size_t at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + sample.size() + 2));
}

// Polls `condition` every 20 ms until it holds or `limit` passes (a bound on waiting, not an assertion
// on time); returns whether it held.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = std::chrono::milliseconds{30'000}) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return true;
}

}  // namespace posestream::server::testing
