// Socket::pause_reading through a real server: a Socket.IO handler pausing after each event holds the
// client's next events (WebSocket) and its POST's answer (polling). Only lower bounds on time asserted.
#include <boost/asio/executor_work_guard.hpp>

#include "engineio/engineio_test_support.h"
#include "server/socketio/socketio.h"

namespace posestream::server::socketio {
namespace {

using engineio::testing::Frame;
using engineio::testing::WsPeer;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto kPause = 200ms;

// The events handed on, with when; shared with the test.
struct EventLog {
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, std::string>> events;

  std::vector<std::string> names() {
    const std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& [at, name] : events) out.push_back(name);
    return out;
  }
  std::vector<Clock::time_point> times() {
    const std::lock_guard lock(mutex);
    std::vector<Clock::time_point> out;
    for (const auto& [at, name] : events) out.push_back(at);
    return out;
  }
};

// Answers each event with "echo" and its name, then pauses the client's reads, as a rate limit would.
class PausingHandler final : public SocketHandler {
 public:
  PausingHandler(Socket socket, std::shared_ptr<EventLog> log) : socket_(std::move(socket)), log_(std::move(log)) {}
  void on_event(std::string_view event, Json, Ack) override {
    {
      const std::lock_guard lock(log_->mutex);
      log_->events.emplace_back(Clock::now(), std::string(event));
    }
    socket_.emit("echo", Json::array({std::string(event)}));
    socket_.pause_reading(kPause);
  }

 private:
  Socket socket_;
  std::shared_ptr<EventLog> log_;
};

// A posestream Server serving Socket.IO namespace "/" with the pausing handler at /engine.io/.
class SocketIoServer {
 public:
  SocketIoServer() : server_(engineio::testing::server_options({"*"})) {
    auto namespaces = std::make_shared<const Namespaces>(Namespaces{{"/", [log = log_](const ConnectRequest& request) -> ConnectResult {
      return std::make_unique<PausingHandler>(request.socket, log);
    }}});
    server_.add_engine_server(engineio::testing::calm_options(),
                              make_handler_factory(std::move(namespaces), Options{}, timers_.get_executor()));
    timers_thread_ = std::thread([this] { timers_.run(); });
    thread_ = std::thread([this] { server_.run(); });
  }
  ~SocketIoServer() {
    server_.stop();
    thread_.join();
    work_.reset();
    timers_.stop();
    timers_thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }
  EventLog& log() { return *log_; }

 private:
  std::shared_ptr<EventLog> log_ = std::make_shared<EventLog>();
  boost::asio::io_context timers_;  // The connect timeouts'.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(timers_);
  std::thread timers_thread_;
  Server server_;
  std::thread thread_;
};

void expect_spaced(const std::vector<Clock::time_point>& times) {
  for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], kPause) << "events " << i - 1 << ", " << i;
}

TEST(SocketIoReadPause, OverWebSocketEventsAreHandedOnNoFasterThanThePausesInOrder) {
  SocketIoServer server;
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());  // Engine.IO open.
  peer.text("40");
  const std::optional<Frame> connected = peer.read();
  ASSERT_TRUE(connected);
  ASSERT_TRUE(connected->data.starts_with("40{\"sid\":")) << connected->data;
  const auto sent_at = Clock::now();
  const std::vector<std::string> names = {"e0", "e1", "e2", "e3"};
  for (const std::string& name : names) peer.text("42[\"" + name + "\"]");
  for (const std::string& name : names) EXPECT_EQ(peer.read(), (Frame{false, "42[\"echo\",\"" + name + "\"]"}));
  EXPECT_GE(Clock::now() - sent_at, 3 * kPause);
  EXPECT_EQ(server.log().names(), names);
  expect_spaced(server.log().times());
}

TEST(SocketIoReadPause, OverPollingAPostOfEventsIsAnsweredAfterTheirPauses) {
  SocketIoServer server;
  const std::string sid = engineio::testing::open_polling(server.port());
  ASSERT_FALSE(sid.empty());
  const std::string query = engineio::testing::polling(sid);
  EXPECT_EQ(engineio::testing::post(server.port(), query, "40").body(), "ok");
  const auto sent_at = Clock::now();
  EXPECT_EQ(engineio::testing::post(server.port(), query, "42[\"a\"]\x1e" "42[\"b\"]").body(), "ok");
  EXPECT_GE(Clock::now() - sent_at, 2 * kPause);
  EXPECT_EQ(server.log().names(), (std::vector<std::string>{"a", "b"}));
  expect_spaced(server.log().times());
  const std::string answers = engineio::testing::get(server.port(), query).body();
  EXPECT_NE(answers.find("42[\"echo\",\"a\"]\x1e" "42[\"echo\",\"b\"]"), std::string::npos) << answers;
}

}  // namespace
}  // namespace posestream::server::socketio
